using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class LayerSelectorTests
{
    // Ladder with the default options: S0T0 100k, S0T1 140k, S0T2 180k, S1T1 350k, S1T2 450k, S2T1 1000k, S2T2 1300k.
    private static LayerRates Rates()
    {
        var r = new LayerRates();
        r.SetLayer(0, 100_000, 40_000, 40_000);
        r.SetLayer(1, 250_000, 100_000, 100_000);
        r.SetLayer(2, 700_000, 300_000, 300_000);
        return r;
    }

    private static readonly LayerSelectorOptions Options = new()
    {
        Dwell = TimeSpan.FromSeconds(2),
        Hysteresis = TimeSpan.FromSeconds(5),
        KeyframeRequestInterval = TimeSpan.FromSeconds(1),
    };

    private static LayerSelector Started(long budget, out LayerRates rates, TimeSpan now = default)
    {
        rates = Rates();
        var s = new LayerSelector(Options);
        s.Update(budget, rates, now);
        if (s.NeedsKeyframe) Assert.Equal(LayerPacketAction.ForwardSwitched, s.OnPacket(s.Target.Spatial, 0, true, true));
        return s;
    }

    [Fact]
    public void FirstChoiceIsTheHighestThatFitsWithHeadroomAndWaitsForItsKeyframe()
    {
        var rates = Rates();
        var s = new LayerSelector(Options);
        var d = s.Update(600_000, rates, TimeSpan.Zero); // 450k × 1.2 = 540k fits, 1000k does not
        Assert.Equal(new VideoLayer(1, 2), d.Target);
        Assert.Equal(LayerState.Switching, d.State);
        Assert.True(d.NeedsKeyframe);
        Assert.True(d.Current.IsNone);
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(1, 0, isKeyframe: false, isFrameStart: true));
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(0, 0, isKeyframe: true, isFrameStart: true)); // not the target layer
        Assert.Equal(LayerPacketAction.ForwardSwitched, s.OnPacket(1, 0, isKeyframe: true, isFrameStart: true));
        Assert.Equal(LayerState.Forwarding, s.State);
        Assert.False(s.NeedsKeyframe);
        Assert.Equal(new VideoLayer(1, 2), s.Current);
        Assert.Equal(0, s.SwitchCount);
    }

    [Fact]
    public void A_starting_publication_is_taken_at_its_top_layers_first_key_frame_without_a_request()
    {
        var s = new LayerSelector(Options);
        s.AwaitStart(spatial: 1, budgetBps: long.MaxValue, minBudgetBps: 500_000, TimeSpan.Zero);
        // The lower encoding started first: its key frame is not taken, the top one's is awaited.
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(0, 0, isKeyframe: true, isFrameStart: true));
        Assert.False(s.HasChosen);
        Assert.Equal(LayerPacketAction.ForwardSwitched, s.OnPacket(1, 0, isKeyframe: true, isFrameStart: true));
        Assert.True(s.HasChosen);
        Assert.Equal(new VideoLayer(1, 2), s.Current);
        Assert.False(s.PollKeyframeRequest(TimeSpan.FromMilliseconds(100), out _));
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(1, 2, isKeyframe: false, isFrameStart: true));

        // The next allocation judges the choice as usual: this budget carries only the lowest encoding.
        var rates = Rates();
        var d = s.Update(200_000, rates, TimeSpan.FromMilliseconds(200));
        Assert.Equal(new VideoLayer(0, 2), d.Target);
        Assert.True(d.NeedsKeyframe);
    }

    [Fact]
    public void A_leg_whose_budget_is_below_the_start_minimum_does_not_take_the_top_layer_at_its_first_key_frame()
    {
        var s = new LayerSelector(Options);
        s.AwaitStart(spatial: 1, budgetBps: 120_000, minBudgetBps: 500_000, TimeSpan.Zero);
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(1, 0, isKeyframe: true, isFrameStart: true));
        Assert.False(s.HasChosen);
        var d = s.Update(120_000, Rates(), TimeSpan.FromSeconds(1));
        Assert.Equal(new VideoLayer(0, 0), d.Target);
    }

    [Fact]
    public void PacketsOfOtherLayersAreDropped()
    {
        var s = Started(600_000, out _);
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(1, 0, false, false));
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(1, 2, false, true));
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(0, 0, false, true));
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(2, 0, true, true)); // a key frame of a layer not targeted
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(1, 1, false, true));
    }

    [Fact]
    public void KeyframeRequestsAreThrottled()
    {
        var rates = Rates();
        var s = new LayerSelector(Options);
        s.Update(2_000_000, rates, Ms(0));
        Assert.True(s.PollKeyframeRequest(Ms(0), out int layer));
        Assert.Equal(2, layer);
        Assert.False(s.PollKeyframeRequest(Ms(500), out _));
        Assert.True(s.PollKeyframeRequest(Ms(1000), out _));
        s.OnPacket(2, 0, true, true);
        Assert.False(s.PollKeyframeRequest(Ms(5000), out _));
    }

    [Fact]
    public void StepDropStepsDownAtOnceAndKeepsTheCurrentLayerAtItsBaseUntilTheKeyframe()
    {
        var s = Started(2_000_000, out var rates);
        Assert.Equal(new VideoLayer(2, 2), s.Current);
        var d = s.Update(400_000, rates, Ms(100)); // within the hysteresis window: down is never delayed
        Assert.Equal(new VideoLayer(1, 1), d.Target);
        Assert.True(d.TargetChanged);
        Assert.Equal(LayerState.Switching, d.State);
        Assert.True(s.PollKeyframeRequest(Ms(100), out int layer));
        Assert.Equal(1, layer);
        // The current layer keeps flowing at T0 until S1's key frame.
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(2, 2, false, true));
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(2, 0, false, true));
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(2, 1, false, true));
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(1, 1, false, true));
        Assert.Equal(LayerPacketAction.ForwardSwitched, s.OnPacket(1, 0, true, true));
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(2, 0, false, true));
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(1, 1, false, true));
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(1, 2, false, true));
        Assert.Equal(1, s.SwitchCount);
    }

    [Fact]
    public void SmallDropCostsFrameRateBeforeResolution()
    {
        var s = Started(2_000_000, out var rates);
        var d = s.Update(1_200_000, rates, Ms(100)); // 1300k > 1.05 × 1200k; S2T1 (1000k) fits
        Assert.Equal(new VideoLayer(2, 1), d.Target);
        Assert.Equal(LayerState.Forwarding, d.State); // no key frame needed
        Assert.False(d.NeedsKeyframe);
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(2, 2, false, false)); // mid-frame: the frame completes
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(2, 2, false, true));     // next T2 frame dropped
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(2, 1, false, true));
        // Further down: S2 may not go to T0 (one temporal step above the lowest layer), so S1T2.
        d = s.Update(900_000, rates, Ms(200));
        Assert.Equal(new VideoLayer(1, 2), d.Target);
        // The lowest layer uses every temporal step: S0T2, S0T1, S0T0.
        Assert.Equal(new VideoLayer(0, 2), s.Update(300_000, rates, Ms(300)).Target);
        Assert.Equal(new VideoLayer(0, 1), s.Update(160_000, rates, Ms(400)).Target);
        Assert.Equal(new VideoLayer(0, 0), s.Update(120_000, rates, Ms(500)).Target);
    }

    [Fact]
    public void TemporalUpAppliesAtABaseOrLayerSyncFrame()
    {
        var s = Started(2_000_000, out var rates);
        s.Update(1_200_000, rates, Ms(0));
        s.OnPacket(2, 1, false, true); // applies T1
        for (int i = 1; i <= 60; i++) s.Update(2_000_000, rates, Ms(100 * i)); // past dwell and hysteresis
        Assert.Equal(new VideoLayer(2, 2), s.Target);
        Assert.Equal(new VideoLayer(2, 1), s.Current);
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(2, 2, false, true));   // a T2 frame: its reference may be missing
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(2, 0, false, true)); // base frame: T2 from here on
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(2, 2, false, true));
        Assert.Equal(new VideoLayer(2, 2), s.Current);

        s.Update(1_200_000, rates, Ms(6100));
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(2, 1, false, true));
        Assert.Equal(new VideoLayer(2, 1), s.Current);
        for (int i = 62; i <= 120; i++) s.Update(2_000_000, rates, Ms(100 * i));
        Assert.Equal(new VideoLayer(2, 2), s.Target);
        Assert.Equal(LayerPacketAction.Forward, s.OnPacket(2, 2, false, true, isLayerSync: true));
    }

    [Fact]
    public void PausesBelowTheLowestLayerAndRecoversAfterDwellAndHysteresisToTheTop()
    {
        var s = Started(2_000_000, out var rates);
        var d = s.Update(80_000, rates, Ms(1000));
        Assert.Equal(LayerState.Paused, d.State);
        Assert.True(d.Target.IsNone && d.Current.IsNone);
        Assert.False(d.NeedsKeyframe);
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(2, 0, true, true));
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(0, 0, true, true));

        // The link recovers at 1.1 s: nothing before 2 s of held budget and 5 s after the pause.
        var now = Ms(1000);
        while (now < Ms(6000))
        {
            now += Ms(100);
            d = s.Update(2_000_000, rates, now);
            if (now < Ms(6000)) Assert.Equal(LayerState.Paused, d.State);
        }
        Assert.Equal(new VideoLayer(2, 2), d.Target); // straight to the top when it fits with headroom
        Assert.Equal(LayerState.Switching, d.State);
        Assert.Equal(LayerPacketAction.ForwardSwitched, s.OnPacket(2, 0, true, true));
        Assert.Equal(2, s.SwitchCount);
    }

    /// <summary>
    /// A budget that keeps rising (a call starting on a clean link, the estimate growing with probes) climbs a rung
    /// as soon as each has been held for the dwell time, a second apart at least, not the whole hysteresis time per
    /// rung; going back up after a step down still waits the hysteresis time.
    /// </summary>
    [Fact]
    public void A_rising_budget_climbs_a_rung_a_second_but_going_up_after_a_step_down_waits_the_hysteresis()
    {
        var s = Started(250_000, out var rates); // S0T2 (180k × 1.2 fits)
        Assert.Equal(new VideoLayer(0, 2), s.Target);
        var ups = new List<(TimeSpan At, VideoLayer To)>();
        var now = TimeSpan.Zero;
        for (var i = 1; i <= 80; i++)
        {
            now = Ms(100 * i);
            long budget = 250_000 + 25_000L * i; // +250 kbit/s a second, to 2.25 Mbit/s at 8 s
            var d = s.Update(budget, rates, now);
            if (d.NeedsKeyframe) s.OnPacket(d.Target.Spatial, 0, true, true);
            if (d.TargetChanged) ups.Add((now, d.Target));
        }
        Assert.Equal(new VideoLayer(2, 2), s.Target);
        Assert.True(ups.Count >= 3, string.Join(", ", ups));
        // The top (1.3 Mbit/s × 1.2 headroom) is held for the dwell time from 7.2 s; 5 s per rung would take 10 s.
        Assert.True(ups[^1].At <= Ms(8000), $"at the top only at {ups[^1].At}: {string.Join(", ", ups)}");
        for (var i = 1; i < ups.Count; i++)
            Assert.True(ups[i].At - ups[i - 1].At >= Options.UpAfterUp, string.Join(", ", ups));

        // Down at once on a drop, then back up only after the hysteresis time.
        var down = s.Update(500_000, rates, now += Ms(100));
        Assert.True(down.TargetChanged && down.Target.Rank < new VideoLayer(2, 2).Rank);
        var downAt = now;
        while (s.Target.Rank == down.Target.Rank)
        {
            now += Ms(100);
            s.Update(2_250_000, rates, now);
            Assert.True(now - downAt <= Options.Hysteresis + Ms(500), "no up after the hysteresis time");
        }
        Assert.True(now - downAt >= Options.Hysteresis, $"up {now - downAt} after the step down");
    }

    [Fact]
    public void UpNeedsTheBudgetHeldForTheDwellTime()
    {
        var s = Started(600_000, out var rates); // S1T2
        var now = Ms(5000);
        s.Update(2_000_000, rates, now);
        for (int i = 0; i < 18; i++)
        {
            now += Ms(100);
            Assert.Equal(new VideoLayer(1, 2), s.Update(i == 10 ? 700_000 : 2_000_000, rates, now).Target); // a dip at 6.1 s
        }
        // The dip leaves the held minimum once it is older than the dwell time (bucketed: up to a quarter second more).
        while (s.Target != new VideoLayer(2, 2))
        {
            now += Ms(100);
            s.Update(2_000_000, rates, now);
            Assert.True(now <= Ms(8400), $"no up by {now}");
        }
        Assert.True(now >= Ms(8100), $"up at {now}");
    }

    [Fact]
    public void CurrentLayerStoppingAtThePublisherStopsForwardingItUntilTheNewKeyframe()
    {
        var s = Started(2_000_000, out var rates);
        rates.SetActive(2, false);
        var d = s.Update(2_000_000, rates, Ms(100));
        Assert.Equal(new VideoLayer(1, 2), d.Target);
        Assert.True(d.Current.IsNone);
        Assert.Equal(LayerPacketAction.Drop, s.OnPacket(2, 0, false, true));
        Assert.Equal(LayerPacketAction.ForwardSwitched, s.OnPacket(1, 0, true, true));
    }

    /// <summary>
    /// A noisy estimate (±20% uniform around a level, one sample per 100 ms for 5 minutes) never switches twice
    /// within the hysteresis window, for levels across the whole ladder.
    /// </summary>
    [Fact]
    public void NoisyEstimateSwitchesAtMostOncePerHysteresisWindow()
    {
        var rates = Rates();
        for (int seed = 0; seed < 60; seed++)
        {
            var random = new Random(seed);
            long level = 60_000 + random.NextInt64(2_000_000);
            var s = new LayerSelector(Options);
            var last = VideoLayer.None;
            var lastSwitch = TimeSpan.MinValue;
            bool first = true;
            for (int i = 0; i < 3000; i++)
            {
                var now = Ms(100 * i);
                long budget = (long)(level * (0.8 + 0.4 * random.NextDouble()));
                var d = s.Update(budget, rates, now);
                if (d.NeedsKeyframe) s.OnPacket(d.Target.Spatial, 0, true, true);
                if (d.TargetChanged && !first)
                {
                    Assert.True(lastSwitch == TimeSpan.MinValue || now - lastSwitch >= Options.Hysteresis,
                        $"level {level}: {last} → {d.Target} at {now}, previous switch at {lastSwitch}");
                    lastSwitch = now;
                }
                first = false;
                last = d.Target;
            }
            Assert.True(s.SwitchCount <= 3, $"level {level}: {s.SwitchCount} switches");
        }
    }
}

public class LayerBitrateMeterTests
{
    [Fact]
    public void MeasuresCumulativeTemporalRatesPerSpatialLayer()
    {
        var m = new LayerBitrateMeter();
        var rates = new LayerRates();
        for (int ms = 0; ms < 3000; ms += 10) // 100 packets/s per stream
        {
            var now = Ms(ms);
            m.OnPacket(0, 0, 500, now);    // 400 kbps
            m.OnPacket(0, 1, 250, now);    // 200 kbps
            m.OnPacket(1, 0, 1000, now);   // 800 kbps
            m.OnPacket(1, 2, 1000, now);
        }
        m.GetRates(Ms(3000), ref rates);
        Assert.InRange(rates[0, 0], 380_000, 420_000);
        Assert.InRange(rates[0, 1], 570_000, 630_000);
        Assert.Equal(rates[0, 1], rates[0, 2]);
        Assert.InRange(rates[1, 0], 760_000, 840_000);
        Assert.Equal(rates[1, 0], rates[1, 1]);
        Assert.InRange(rates[1, 2], 1_520_000, 1_680_000);
        Assert.True(rates.IsActive(0) && rates.IsActive(1));
        Assert.False(rates.IsActive(2));
        Assert.Equal(0, rates[2, 2]);
    }

    [Fact]
    public void RateRightAfterStartIsNotDilutedAndAStoppedLayerBecomesInactive()
    {
        var m = new LayerBitrateMeter();
        var rates = new LayerRates();
        for (int ms = 10_000; ms < 10_300; ms += 10) m.OnPacket(2, 0, 1000, Ms(ms));
        m.GetRates(Ms(10_300), ref rates);
        Assert.InRange(rates[2, 0], 700_000, 900_000);
        m.GetRates(Ms(11_400), ref rates);
        Assert.False(rates.IsActive(2));
        Assert.Equal(0, rates[2, 0]);
    }
}
