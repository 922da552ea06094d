using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Tests.Sfu;

/// <summary>The weak-link ladder's last rungs on a fake clock: samples every 500 ms as the SFU takes them.</summary>
public class UplinkModeDeciderTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(500);

    /// <summary>A simulated uplink of <paramref name="capacityBps"/> carrying audio and the page's video: what the SFU
    /// would measure over one interval, with the page sending video at <paramref name="videoBps"/> (0 in audio + pose,
    /// the trial rate during a trial).</summary>
    private static UplinkSample Link(Random random, long capacityBps, long videoBps, double lossRate = 0)
    {
        const long audio = 45_000;
        var offered = audio + videoBps;
        var noisy = 1 + (random.NextDouble() - 0.5) * 0.4; // ±20 %
        var congested = offered > capacityBps;
        // Over capacity the radio's buffer stands nearly full (EDGE's was measured at 0.95-1 s, with drops); under it
        // there is no queue, only jitter spikes.
        var delay = congested ? TimeSpan.FromMilliseconds(Math.Min(1000, 700 + 600 * (offered - capacityBps) / (double)capacityBps)) : TimeSpan.Zero;
        var delivered = Math.Min(offered, capacityBps);
        var video = Math.Max(0, (long)((delivered - audio) * noisy));
        // Frames: about 8 kbit each on a struggling link (key frames and repairs weigh in), 30 a second at most.
        var fps = Math.Min(30, video / 8_000.0) * (0.8 + random.NextDouble() * 0.4);
        var lost = random.NextDouble() < lossRate * 25 ? 1 : 0;
        // The SFU's downlink estimate: the downlink has 2.5 times the uplink's rate (the profiles' ratio), noisy.
        // Its round trip: 40 ms on a fast link, 600 ms on a slow one, plus the queue.
        var rtt = TimeSpan.FromMilliseconds(capacityBps >= 1_000_000 ? 40 : 600) + delay;
        return new UplinkSample(audio + video, video, fps, true, delay, 25, lost, (long)(capacityBps * 2.5 * noisy), rtt);
    }

    /// <summary>Runs the decider on a link for a while; the page carries out the decision (video at the full rate in
    /// video mode, the trial rate during trials, none otherwise). Returns the times of the mode switches.</summary>
    private static List<(TimeSpan At, UplinkMode Mode)> Run(UplinkModeDecider decider, Random random, ref TimeSpan now, TimeSpan duration,
        Func<TimeSpan, long> capacityAt, long fullVideoBps = 300_000, double lossRate = 0)
    {
        var switches = new List<(TimeSpan, UplinkMode)>();
        var end = now + duration;
        for (; now < end; now += Step)
        {
            var video = decider.Mode == UplinkMode.Video ? fullVideoBps : decider.TrialBps;
            var capacity = capacityAt(now);
            // The page's own estimate: in video mode it sends no more than the link carries, a little over at times.
            if (decider.Mode == UplinkMode.Video) video = Math.Min(video, Math.Max(20_000, capacity - 40_000));
            var before = decider.Mode;
            decider.Update(Link(random, capacity, video, lossRate), now);
            if (decider.Mode != before) switches.Add((now, decider.Mode));
        }
        return switches;
    }

    [Fact]
    public void A_good_link_with_a_noisy_rate_never_leaves_video()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var decider = new UplinkModeDecider();
            var now = TimeSpan.Zero;
            var switches = Run(decider, new Random(seed), ref now, TimeSpan.FromMinutes(5), _ => 2_000_000, lossRate: 0.01);
            Assert.Empty(switches);
            Assert.Equal(0, decider.Trials);
        }
    }

    [Fact]
    public void Slow_video_on_a_short_round_trip_without_congestion_is_the_devices_and_keeps_video()
    {
        // A busy processor: a few frames a second at a low rate, no queue, no loss, a loopback round trip.
        var decider = new UplinkModeDecider();
        var starved = new UplinkSample(60_000, 20_000, 2, true, TimeSpan.Zero, 25, 0, 5_000_000, TimeSpan.FromMilliseconds(2));
        for (var now = TimeSpan.Zero; now < TimeSpan.FromMinutes(2); now += Step) Assert.False(decider.Update(starved, now));
        Assert.Equal(UplinkMode.Video, decider.Mode);
    }

    [Fact]
    public void While_video_starts_only_congestion_steps_down()
    {
        // The encoder and the browser's estimate ramp up: thin, still video on a slow path, but no queue.
        var decider = new UplinkModeDecider();
        var ramping = new UplinkSample(60_000, 20_000, 2, true, TimeSpan.Zero, 25, 0, 0, TimeSpan.FromMilliseconds(600));
        var now = TimeSpan.Zero;
        for (; now < TimeSpan.FromSeconds(14.5); now += Step) Assert.False(decider.Update(ramping, now));
        // Still so after the start (15 s): the browser's estimate starves it on a slow path; down after the longer dwell
        // of slow video without congestion (6 s).
        for (; decider.Mode == UplinkMode.Video && now < TimeSpan.FromSeconds(30); now += Step) decider.Update(ramping, now);
        Assert.InRange(now, TimeSpan.FromSeconds(21), TimeSpan.FromSeconds(22));
    }

    [Fact]
    public void A_3g_poor_uplink_that_carries_the_lowest_layer_keeps_video()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Assert.Empty(Run(decider, new Random(1), ref now, TimeSpan.FromMinutes(3), _ => 150_000, lossRate: 0.02));
    }

    [Fact]
    public void On_edge_video_stops_within_the_dwell_and_stays_stopped_while_trials_fail_ever_less_often()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var decider = new UplinkModeDecider();
            var now = TimeSpan.Zero;
            var switches = Run(decider, new Random(seed), ref now, TimeSpan.FromMinutes(5), _ => 60_000, lossRate: 0.03);
            var (at, mode) = Assert.Single(switches);
            Assert.Equal(UplinkMode.AudioPose, mode);
            Assert.InRange(at, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
            Assert.Equal(UplinkModeDecider.WeakUplink, decider.Reason);
            // Trials at 15 s, then waits doubling to 60 s: 6 in 5 minutes, each ended at its first congested sample.
            Assert.InRange(decider.Trials, 5, 7);
        }
    }

    [Fact]
    public void A_noisy_link_near_the_threshold_does_not_switch_on_single_bad_samples()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        var random = new Random(7);
        for (var i = 0; i < 1000; i++, now += Step)
        {
            // Every third sample looks weak (a queue spike with little video), the others are fine.
            var weak = i % 3 == 0;
            var sample = weak
                ? new UplinkSample(80_000, 30_000, 2, true, TimeSpan.FromMilliseconds(400), 25, 0)
                : new UplinkSample(200_000, 150_000, 20 + random.Next(10), true, TimeSpan.Zero, 25, 0);
            Assert.False(decider.Update(sample, now));
        }
        Assert.Equal(UplinkMode.Video, decider.Mode);
    }

    [Fact]
    public void Video_that_is_muted_is_not_a_weak_link_but_a_severe_queue_is()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        for (var i = 0; i < 20; i++, now += Step)
            decider.Update(new UplinkSample(45_000, 0, 0, false, TimeSpan.FromMilliseconds(400), 25, 0), now);
        Assert.Equal(UplinkMode.Video, decider.Mode);
        for (var i = 0; i < 5; i++, now += Step)
            decider.Update(new UplinkSample(45_000, 0, 0, false, TimeSpan.FromMilliseconds(1200), 25, 0), now);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);
    }

    [Fact]
    public void Recovery_starts_only_after_a_trial_succeeds()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        var random = new Random(3);
        Run(decider, random, ref now, TimeSpan.FromSeconds(5), _ => 60_000);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);

        // The link is good again, but before the first trial nothing shows it: the mode holds.
        var good = new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0);
        for (; decider.TrialBps == 0; now += Step)
        {
            Assert.Equal(UplinkMode.AudioPose, decider.Mode);
            decider.Update(good, now);
        }
        Assert.InRange(now, TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(17.5));
        Assert.Equal(80_000, decider.TrialBps);

        // A trial whose video never arrives (the page could not send it) fails at its timeout.
        var trialStart = now;
        for (; decider.TrialBps != 0; now += Step) decider.Update(good, now);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);
        Assert.InRange(now - trialStart, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(9));

        // The next trial (after a doubled wait) gets its video through: video is back after the trial's duration.
        for (; decider.TrialBps == 0; now += Step) decider.Update(good, now);
        var flowing = new UplinkSample(110_000, 62_000, 15, true, TimeSpan.Zero, 25, 0);
        trialStart = now;
        for (; decider.Mode == UplinkMode.AudioPose; now += Step) decider.Update(flowing, now);
        Assert.Equal(UplinkModeDecider.Recovered, decider.Reason);
        Assert.Equal(0, decider.TrialBps);
        Assert.InRange(now - trialStart, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Right_after_a_recovery_slow_video_alone_does_not_step_down_but_congestion_does()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Run(decider, new Random(6), ref now, TimeSpan.FromSeconds(4), _ => 60_000);
        for (; decider.TrialBps == 0; now += Step) decider.Update(new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0), now);
        for (; decider.Mode == UplinkMode.AudioPose; now += Step) decider.Update(new UplinkSample(100_000, 60_000, 4, true, TimeSpan.Zero, 25, 0), now);

        // The browser's estimate is still that of the weak link: thin, slow video, but no queue and no loss.
        var ramping = new UplinkSample(80_000, 35_000, 3, true, TimeSpan.Zero, 25, 0);
        for (var end = now + TimeSpan.FromSeconds(9); now < end; now += Step) Assert.False(decider.Update(ramping, now));
        Assert.Equal(UplinkMode.Video, decider.Mode);
        // A queue, though, steps down at once after the dwell.
        for (var end = now + TimeSpan.FromSeconds(2); now < end; now += Step) decider.Update(ramping with { StandingDelay = TimeSpan.FromMilliseconds(400) }, now);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);
    }

    [Fact]
    public void A_trial_whose_video_arrives_at_half_its_rate_fails_early_without_a_queue()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Run(decider, new Random(8), ref now, TimeSpan.FromSeconds(5), _ => 60_000);
        for (; decider.TrialBps == 0; now += Step) decider.Update(new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0), now);
        // EDGE with the browser's own estimate holding its queue short: 30 kbit/s of video, no queue, no loss.
        var half = new UplinkSample(45_000, 30_000, 3, true, TimeSpan.FromMilliseconds(20), 25, 0);
        var first = now;
        for (; decider.TrialBps != 0; now += Step) decider.Update(half, now);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);
        Assert.InRange(now - first, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(3));
    }

    /// <summary>EDGE at its best: the browser's estimate keeps its queue short and the trial's video gets nearly all
    /// the voice and the movement leave (45 of 60 kbit/s). That is under the lowest layer's rate, which video mode
    /// needs beside the voice at its usual rate: the trial fails at its duration and video stays off.</summary>
    [Fact]
    public void A_trial_that_gets_nearly_the_lowest_layers_rate_without_a_queue_fails_at_its_duration()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Run(decider, new Random(8), ref now, TimeSpan.FromSeconds(5), _ => 60_000);
        for (; decider.TrialBps == 0; now += Step) decider.Update(new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0), now);
        var edge = new UplinkSample(57_000, 45_000, 4, true, TimeSpan.FromMilliseconds(10), 25, 0);
        var first = now;
        for (; decider.TrialBps != 0; now += Step) decider.Update(edge, now);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);
        Assert.Equal(1, decider.Switches);
        Assert.InRange(now - first, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(4.5));
    }

    /// <summary>GPRS: in audio + pose the voice and the movement alone keep the queue standing. Once the floors have
    /// settled the link is starved (the room's voices and the movement go at their least rates); no trial by the clock
    /// starts on it, only a new path's.</summary>
    [Fact]
    public void A_link_congested_with_audio_and_pose_alone_is_starved_and_gets_no_trial()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Run(decider, new Random(9), ref now, TimeSpan.FromSeconds(3), _ => 25_000);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);
        var downAt = now;
        var queued = new UplinkSample(9_000, 0, 0, true, TimeSpan.FromMilliseconds(900), 17, 1, 40_000, TimeSpan.FromMilliseconds(2500));
        TimeSpan? starvedAt = null;
        for (var end = now + TimeSpan.FromSeconds(40); now < end; now += Step)
        {
            decider.Update(queued, now);
            if (decider.Starved) starvedAt ??= now;
        }
        Assert.NotNull(starvedAt);
        Assert.InRange(starvedAt.Value - downAt, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(13));
        Assert.Equal(0, decider.Trials);
        Assert.Contains("starved", decider.Describe());

        // The queue drains at the least rates; still no trial by the clock (there is no room for one). A new path (the
        // round trip down to a fraction, the estimate up) starts one, and video back ends the starved rung.
        var calm = queued with { StandingDelay = TimeSpan.Zero, AudioLost = 0 };
        for (var end = now + TimeSpan.FromSeconds(60); now < end; now += Step) decider.Update(calm, now);
        Assert.Equal(0, decider.Trials);
        Assert.True(decider.Starved);
        decider.Update(calm with { DownlinkBps = 1_000_000, RoundTrip = TimeSpan.FromMilliseconds(60) }, now);
        Assert.Equal(1, decider.Trials);
        for (now += Step; decider.Mode == UplinkMode.AudioPose; now += Step)
            decider.Update(calm with { VideoBps = 70_000, VideoFps = 10, DownlinkBps = 1_000_000, RoundTrip = TimeSpan.FromMilliseconds(60) }, now);
        Assert.False(decider.Starved);
    }

    /// <summary>EDGE: audio + pose fit, with bursty loss (a few packets in a row now and then) and the queue of the
    /// step down draining in its first seconds: never starved.</summary>
    [Fact]
    public void A_link_that_carries_audio_and_pose_with_bursty_loss_is_not_starved()
    {
        for (var seed = 0; seed < 10; seed++)
        {
            var random = new Random(seed);
            var decider = new UplinkModeDecider();
            var now = TimeSpan.Zero;
            Run(decider, random, ref now, TimeSpan.FromSeconds(3), _ => 60_000);
            Assert.Equal(UplinkMode.AudioPose, decider.Mode);
            var downAt = now;
            for (var end = now + TimeSpan.FromSeconds(90); now < end; now += Step)
            {
                // 60 ms packets: 8 or 9 a sample; a burst of 3 lost every 5 s or so (3 % over time, 35 % in its sample).
                var lost = random.NextDouble() < 0.1 ? 3 : 0;
                var draining = now - downAt < TimeSpan.FromSeconds(6) ? TimeSpan.FromMilliseconds(900 - 150 * (now - downAt).TotalSeconds) : TimeSpan.Zero;
                var video = decider.TrialBps > 0 ? 45_000 : 0;
                decider.Update(new UplinkSample(12_000 + video, video, video > 0 ? 4 : 0, true, draining, 9, lost, 100_000, TimeSpan.FromMilliseconds(620)), now);
                Assert.False(decider.Starved, $"seed {seed}: starved at {now - downAt} after the step down");
            }
            Assert.True(decider.Trials >= 2);
        }
    }

    /// <summary>The browser starts its estimate at 300 kbit/s: on a 3g-poor uplink (150 kbit/s, a 500 ms buffer) that is
    /// a standing queue of 400-500 ms, drops and a few frames a second for some seconds, until its own estimate ends
    /// it; no step down for that. EDGE's buffer (800 ms) standing full at the start steps down as ever.</summary>
    [Fact]
    public void The_start_of_a_call_on_3g_poor_is_not_a_verdict_but_on_edge_it_is()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        var overshoot = new UplinkSample(70_000, 40_000, 3, true, TimeSpan.FromMilliseconds(470), 50, 8, 300_000, TimeSpan.FromMilliseconds(700));
        for (var end = now + TimeSpan.FromSeconds(8); now < end; now += Step) Assert.False(decider.Update(overshoot, now));
        var settled = overshoot with { ReceivedBps = 130_000, VideoBps = 95_000, VideoFps = 15, StandingDelay = TimeSpan.FromMilliseconds(20), AudioLost = 1 };
        for (var end = now + TimeSpan.FromSeconds(30); now < end; now += Step) Assert.False(decider.Update(settled, now));
        Assert.Equal(UplinkMode.Video, decider.Mode);

        var edge = new UplinkModeDecider();
        now = TimeSpan.Zero;
        var full = overshoot with { ReceivedBps = 58_000, VideoBps = 30_000, VideoFps = 1, StandingDelay = TimeSpan.FromMilliseconds(950) };
        for (; edge.Mode == UplinkMode.Video && now < TimeSpan.FromSeconds(10); now += Step) edge.Update(full, now);
        Assert.Equal(UplinkMode.AudioPose, edge.Mode);
        Assert.InRange(now, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_trial_that_builds_a_queue_ends_at_once()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Run(decider, new Random(4), ref now, TimeSpan.FromSeconds(5), _ => 60_000);
        for (; decider.TrialBps == 0; now += Step) decider.Update(new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0), now);
        Assert.True(decider.Update(new UplinkSample(60_000, 15_000, 3, true, TimeSpan.FromMilliseconds(220), 25, 0), now));
        Assert.Equal(0, decider.TrialBps);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);
    }

    [Fact]
    public void Schedule_4g_edge_4g_steps_down_fast_comes_back_within_ten_seconds_and_switches_twice()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var decider = new UplinkModeDecider();
            var now = TimeSpan.Zero;
            long Capacity(TimeSpan t) => t < TimeSpan.FromSeconds(20) || t >= TimeSpan.FromSeconds(50) ? 2_000_000 : 60_000;
            var switches = Run(decider, new Random(seed), ref now, TimeSpan.FromSeconds(80), Capacity, lossRate: 0.01);
            Assert.Equal(2, switches.Count);
            Assert.Equal(UplinkMode.AudioPose, switches[0].Mode);
            Assert.InRange(switches[0].At, TimeSpan.FromSeconds(21), TimeSpan.FromSeconds(22));
            Assert.Equal(UplinkMode.Video, switches[1].Mode);
            // The trial 15 s after the step down fails on EDGE; the downlink's gain at 50 s starts one that succeeds.
            Assert.InRange(switches[1].At, TimeSpan.FromSeconds(54), TimeSpan.FromSeconds(57));
        }
    }

    [Fact]
    public void A_link_that_carries_video_only_in_spells_is_not_chased()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var decider = new UplinkModeDecider();
            var now = TimeSpan.Zero;
            // Good for 6 s, EDGE for 6 s, over and over: a steady pattern the ladder must not chase.
            long Capacity(TimeSpan t) => (int)(t.TotalSeconds / 6) % 2 == 0 ? 2_000_000 : 60_000;
            var switches = Run(decider, new Random(seed), ref now, TimeSpan.FromMinutes(5), Capacity);
            Assert.Equal(UplinkMode.AudioPose, switches[0].Mode);
            // A recovery soon followed by a step down stops the downlink's shortcut and doubles the wait each time: a
            // few switches in the first minute, then at most one round trip a minute.
            Assert.True(switches.Count <= 12, $"{switches.Count} switches in 5 minutes");
            var late = switches.Where(s => s.At >= TimeSpan.FromMinutes(1)).ToList();
            for (var i = 2; i < late.Count; i++)
                Assert.True(late[i].At - late[i - 2].At >= TimeSpan.FromSeconds(55), $"switches at {late[i - 2].At} and {late[i].At}");
        }
    }

    [Fact]
    public void A_downlink_estimate_that_jumps_on_the_same_path_starts_no_trial()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        // Down at about 1.5 s; the first trial, at about 16.5 s, fails at once on the 60 kbit/s link.
        Run(decider, new Random(5), ref now, TimeSpan.FromSeconds(20), _ => 60_000);
        Assert.Equal(UplinkMode.AudioPose, decider.Mode);
        Assert.Equal(1, decider.Trials);
        // A probe read through a burst: the estimate at five times the link, the round trip unchanged.
        var overshoot = new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0, 600_000, TimeSpan.FromMilliseconds(700));
        for (var end = now + TimeSpan.FromSeconds(3); now < end; now += Step) decider.Update(overshoot, now);
        Assert.Equal(1, decider.Trials);
        // A new path: the estimate up and the round trip down to a fraction: a trial at once.
        decider.Update(overshoot with { RoundTrip = TimeSpan.FromMilliseconds(60) }, now);
        Assert.Equal(2, decider.Trials);
    }

    [Fact]
    public void On_a_new_path_the_round_trip_falls_and_a_trial_starts_while_the_estimate_is_still_low()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Run(decider, new Random(7), ref now, TimeSpan.FromSeconds(20), _ => 60_000);
        Assert.Equal(1, decider.Trials);
        // EDGE's queue is gone at once: the round trip is 50 ms; the estimate is still that of EDGE, collapsed after a
        // spell of loss (seen at 30 kbit/s for the first 10 s on 4G). The round trip alone is the witness.
        var edge = new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0, 30_000, TimeSpan.FromMilliseconds(640));
        for (var end = now + TimeSpan.FromSeconds(3); now < end; now += Step) decider.Update(edge, now);
        Assert.Equal(1, decider.Trials);
        decider.Update(edge with { RoundTrip = TimeSpan.FromMilliseconds(50) }, now);
        Assert.Equal(2, decider.Trials);
        Assert.Equal(80_000, decider.TrialBps);
    }

    /// <summary>On a new path the browser's estimate, still the weak link's, starts the trial's video at half its
    /// rate or less: the trial passes on the queue and the loss, once the video flows for the trial's duration.</summary>
    [Fact]
    public void A_trial_on_a_new_path_passes_with_slow_video_that_builds_no_queue()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Run(decider, new Random(7), ref now, TimeSpan.FromSeconds(24), _ => 60_000);
        Assert.Equal(1, decider.Trials);
        var fast = new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0, 1_000_000, TimeSpan.FromMilliseconds(45));
        decider.Update(fast, now);
        Assert.Equal(2, decider.Trials);
        var started = now;
        for (now += Step; decider.Mode == UplinkMode.AudioPose && now - started < TimeSpan.FromSeconds(10); now += Step)
            decider.Update(fast with { ReceivedBps = 70_000, VideoBps = 25_000, VideoFps = 4 }, now);
        Assert.Equal(UplinkMode.Video, decider.Mode);
        Assert.InRange(now - started, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(5.5));

        // The same slow video on the old path (a trial by the clock) is the link's limit, and fails.
        var again = new UplinkModeDecider();
        now = TimeSpan.Zero;
        Run(again, new Random(7), ref now, TimeSpan.FromSeconds(14), _ => 60_000);
        var edge = new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0, 100_000, TimeSpan.FromMilliseconds(620));
        for (; again.Trials == 0; now += Step) again.Update(edge, now);
        for (var end = now + TimeSpan.FromSeconds(10); now < end; now += Step)
            again.Update(edge with { ReceivedBps = 70_000, VideoBps = 25_000, VideoFps = 4 }, now);
        Assert.Equal(UplinkMode.AudioPose, again.Mode);
        Assert.Equal(0, again.TrialBps);
    }

    [Fact]
    public void A_round_trip_measured_before_the_step_down_does_not_hide_the_new_path()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        // The first samples on EDGE still carry the 4G round trip (reports come every few seconds), then EDGE's.
        var weak = new UplinkSample(60_000, 20_000, 1, true, TimeSpan.FromMilliseconds(900), 25, 0, 100_000, TimeSpan.FromMilliseconds(50));
        for (; decider.Mode == UplinkMode.Video; now += Step) decider.Update(weak, now);
        var edge = new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0, 60_000, TimeSpan.FromMilliseconds(50));
        for (var end = now + TimeSpan.FromSeconds(4); now < end; now += Step) decider.Update(edge, now);
        for (var end = now + TimeSpan.FromSeconds(8); now < end; now += Step) decider.Update(edge with { RoundTrip = TimeSpan.FromMilliseconds(650) }, now);
        Assert.Equal(0, decider.Trials);
        // Back on 4G: the round trip at 50 ms again and the estimate climbing: a trial at once.
        decider.Update(edge with { DownlinkBps = 600_000, RoundTrip = TimeSpan.FromMilliseconds(50) }, now);
        Assert.Equal(1, decider.Trials);
    }

    /// <summary>The pre-session check found a weak link: the ladder starts in audio + pose before its first sample, and
    /// on a link that carries video the first trial by the clock brings video back.</summary>
    [Fact]
    public void Started_stepped_down_by_the_check_a_good_link_gets_video_back_by_its_first_trial()
    {
        for (var seed = 0; seed < 10; seed++)
        {
            var decider = new UplinkModeDecider();
            var now = TimeSpan.FromSeconds(100); // the worker's clock, long running
            Assert.True(decider.StepDown(UplinkModeDecider.Check, now));
            Assert.Equal((UplinkMode.AudioPose, UplinkModeDecider.Check, 0L), (decider.Mode, decider.Reason, decider.TrialBps));
            Assert.StartsWith("audio+pose for check", decider.Describe());
            var start = now;
            var switches = Run(decider, new Random(seed), ref now, TimeSpan.FromSeconds(40), _ => 2_000_000);
            var (at, mode) = Assert.Single(switches);
            Assert.Equal(UplinkMode.Video, mode);
            Assert.Equal(UplinkModeDecider.Recovered, decider.Reason);
            // The trial at 15 s, its video from the next sample, 4 s of it.
            Assert.InRange(at - start, TimeSpan.FromSeconds(19), TimeSpan.FromSeconds(20.5));
            Assert.Equal(1, decider.Trials);
        }
    }

    [Fact]
    public void Started_stepped_down_by_the_check_on_edge_stays_down_with_trials_ever_less_often()
    {
        for (var seed = 0; seed < 10; seed++)
        {
            var decider = new UplinkModeDecider();
            var now = TimeSpan.Zero;
            decider.StepDown(UplinkModeDecider.Check, now);
            Assert.Empty(Run(decider, new Random(seed), ref now, TimeSpan.FromMinutes(5), _ => 60_000, lossRate: 0.03));
            Assert.Equal((UplinkMode.AudioPose, UplinkModeDecider.Check), (decider.Mode, decider.Reason));
            // Trials at 15 s, then waits doubling to 60 s, as after the ladder's own step down.
            Assert.InRange(decider.Trials, 5, 7);
            Assert.Equal(1, decider.Switches);
        }
    }

    /// <summary>The page saw its sender starved while the server's decision did not reach it: the ladder adopts audio +
    /// pose with its trials; a second report, or one while already in audio + pose, changes nothing; a report soon after
    /// a recovery counts as flapping (the wait before the next trial grows).</summary>
    [Fact]
    public void A_step_down_the_page_reports_is_adopted_with_the_usual_trials_and_repeats_change_nothing()
    {
        var decider = new UplinkModeDecider();
        var now = TimeSpan.Zero;
        Assert.Empty(Run(decider, new Random(3), ref now, TimeSpan.FromSeconds(20), _ => 2_000_000));
        var reported = now;
        Assert.True(decider.StepDown(UplinkModeDecider.Device, now));
        Assert.Equal((UplinkMode.AudioPose, UplinkModeDecider.Device, 1), (decider.Mode, decider.Reason, decider.Switches));
        Assert.False(decider.StepDown(UplinkModeDecider.Device, now));
        Assert.False(decider.StepDown(UplinkModeDecider.Check, now));
        Assert.Equal(UplinkModeDecider.Device, decider.Reason);

        // The link is good after all (the hub was slow, not the radio): the first trial brings video back.
        var switches = Run(decider, new Random(4), ref now, TimeSpan.FromSeconds(25), _ => 2_000_000);
        var (at, mode) = Assert.Single(switches);
        Assert.Equal(UplinkMode.Video, mode);
        Assert.InRange(at - reported, TimeSpan.FromSeconds(19), TimeSpan.FromSeconds(20.5));

        // Another report 5 s after the recovery: adopted, but as a flap, so the next trial waits 30 s, not 15.
        now = at + TimeSpan.FromSeconds(5);
        Assert.True(decider.StepDown(UplinkModeDecider.Device, now));
        var again = now;
        var idle = new UplinkSample(45_000, 0, 0, true, TimeSpan.Zero, 25, 0);
        for (; decider.TrialBps == 0; now += Step) decider.Update(idle, now);
        Assert.InRange(now - again, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(31));
    }

    [Fact]
    public void A_step_down_from_outside_is_for_the_check_or_the_device_only()
    {
        var decider = new UplinkModeDecider();
        Assert.Throws<ArgumentOutOfRangeException>(() => decider.StepDown(UplinkModeDecider.WeakUplink, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => decider.StepDown("", TimeSpan.Zero));
        Assert.Equal(UplinkMode.Video, decider.Mode);
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new UplinkModeDecider(new UplinkModeOptions { LowestVideoBps = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UplinkModeDecider(new UplinkModeOptions { TrialTimeout = TimeSpan.FromSeconds(1) }));
    }
}

public class QueueDelayMeterTests
{
    [Fact]
    public void A_standing_queue_shows_and_jitter_of_single_packets_does_not()
    {
        var meter = new QueueDelayMeter(48_000);
        var random = new Random(1);
        uint ts = 123_456_789;
        var now = TimeSpan.FromSeconds(1000);
        var path = TimeSpan.FromMilliseconds(70);
        // 10 s without a queue, with a jitter spike now and then: nothing stands.
        for (var i = 0; i < 500; i++)
        {
            var spike = i % 7 == 3 ? TimeSpan.FromMilliseconds(random.Next(50, 200)) : TimeSpan.Zero;
            meter.OnPacket(ts, now + path + spike);
            ts += 960;
            now += TimeSpan.FromMilliseconds(20);
            if (i % 25 == 24) Assert.InRange(meter.TakeStandingDelay().TotalMilliseconds, 0, 1);
        }
        // A queue that grows by 20 ms a packet-second to 400 ms, then stands.
        var queue = TimeSpan.Zero;
        for (var i = 0; i < 100; i++)
        {
            queue = TimeSpan.FromMilliseconds(Math.Min(400, i * 8));
            meter.OnPacket(ts, now + path + queue);
            ts += 960;
            now += TimeSpan.FromMilliseconds(20);
        }
        meter.TakeStandingDelay();
        for (var i = 0; i < 25; i++)
        {
            meter.OnPacket(ts, now + path + queue);
            ts += 960;
            now += TimeSpan.FromMilliseconds(20);
        }
        Assert.Equal(25, meter.PacketsInInterval);
        Assert.InRange(meter.TakeStandingDelay().TotalMilliseconds, 399, 401);
        Assert.Equal(TimeSpan.Zero, meter.TakeStandingDelay()); // no packets: no measure
    }

    [Fact]
    public void The_rtp_clock_wrapping_and_a_dtx_gap_change_nothing()
    {
        var meter = new QueueDelayMeter(48_000);
        uint ts = uint.MaxValue - 960 * 10;
        var now = TimeSpan.FromSeconds(5);
        for (var i = 0; i < 50; i++)
        {
            if (i == 25)
            {
                ts += 48_000 * 3; // three seconds of silence, the clock runs on
                now += TimeSpan.FromSeconds(3);
            }
            meter.OnPacket(ts, now);
            ts += 960;
            now += TimeSpan.FromMilliseconds(20);
        }
        Assert.InRange(meter.TakeStandingDelay().TotalMilliseconds, 0, 0.1);
    }

    [Fact]
    public void A_new_path_floor_is_learnt_within_the_window()
    {
        var meter = new QueueDelayMeter(48_000);
        uint ts = 0;
        var now = TimeSpan.Zero;
        void Send(TimeSpan delay, int packets)
        {
            for (var i = 0; i < packets; i++)
            {
                meter.OnPacket(ts, now + delay);
                ts += 960;
                now += TimeSpan.FromMilliseconds(20);
            }
        }
        Send(TimeSpan.FromMilliseconds(20), 100);
        Assert.Equal(TimeSpan.Zero, meter.TakeStandingDelay());
        // A route with 300 ms more delay: at first it looks like a queue, a window later it is the floor.
        Send(TimeSpan.FromMilliseconds(320), 50);
        Assert.InRange(meter.TakeStandingDelay().TotalMilliseconds, 299, 301);
        Send(TimeSpan.FromMilliseconds(320), (int)(QueueDelayMeter.Window.TotalMilliseconds / 20));
        Send(TimeSpan.FromMilliseconds(320), 25);
        Assert.InRange(meter.TakeStandingDelay().TotalMilliseconds, 0, 1);
    }
}
