using TeleRehab.Media.Bwe;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Bwe;

/// <summary>The estimator against a simulated bottleneck (see <see cref="SimulatedLink"/>).</summary>
public class BweScenarioTests(ITestOutputHelper output)
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static SimulatedLink Link(double linkBps, int oneWayMs, int feedbackMs) =>
        new(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), linkBps)
        {
            OneWayDelay = TimeSpan.FromMilliseconds(oneWayMs),
            FeedbackInterval = TimeSpan.FromMilliseconds(feedbackMs),
        };

    private void Dump(SimulatedLink sim, string name)
    {
        output.WriteLine($"{name}: sent {sim.PacketsSent} (probe {sim.ProbePacketsSent}), queue drops {sim.QueueDrops}, random drops {sim.RandomDrops}, " +
            $"probes {sim.Bwe.ProbesSent}/{sim.Bwe.ProbesSucceeded}, overuse signals {sim.Bwe.OveruseSignals}, inherent loss {sim.Bwe.InherentLossFraction:P1}");
        var line = new System.Text.StringBuilder();
        foreach (var (t, bps) in sim.Samples)
        {
            if (t.Ticks % TimeSpan.TicksPerSecond != 0 && t.Ticks % (TimeSpan.TicksPerSecond / 2) != 0) continue;
            line.Append($"{t.TotalSeconds:0.0}s:{bps / 1000}k ");
        }
        output.WriteLine(line.ToString());
    }

    [Theory]
    [InlineData(40, 100)]
    [InlineData(20, 50)]
    [InlineData(50, 100)]
    public void ConvergesToA300kLinkFromA300kStart(int oneWayMs, int feedbackMs)
    {
        var sim = Link(300_000, oneWayMs, feedbackMs);
        sim.RunUntil(S(30));
        Dump(sim, "300k");
        var converged = sim.FirstTime(S(0), bps => Math.Abs(bps - 300_000) <= 45_000);
        Assert.NotNull(converged);
        Assert.True(converged <= S(10), $"converged at {converged}");
        // Stays there: every 2 s window's mean within 15 %, and no sample far off.
        for (double t = 10; t < 30; t += 2)
        {
            double mean = sim.MeanTarget(S(t), S(t + 2));
            Assert.InRange(mean, 255_000, 345_000);
        }
        var (min, max) = sim.TargetRange(S(10), S(30));
        output.WriteLine($"10-30 s: mean {sim.MeanTarget(S(10), S(30)) / 1000:0} kbit/s, min {min / 1000}, max {max / 1000}");
        Assert.InRange(min, 210_000, 400_000);
    }

    [Theory]
    [InlineData(40, 100)]
    [InlineData(20, 50)]
    [InlineData(50, 100)]
    public void RandomLossAloneDoesNotCollapseTheEstimate(int oneWayMs, int feedbackMs)
    {
        var sim = Link(1_000_000, oneWayMs, feedbackMs);
        sim.RandomLoss = 0.05;
        sim.RunUntil(S(30));
        Dump(sim, "5% loss, 1M");
        var (min, _) = sim.TargetRange(S(20), S(30));
        output.WriteLine($"20-30 s: mean {sim.MeanTarget(S(20), S(30)) / 1000:0} kbit/s, min {min / 1000}");
        Assert.True(min >= 600_000, $"min {min}");
    }

    [Theory]
    [InlineData(40, 100)]
    [InlineData(20, 50)]
    [InlineData(50, 100)]
    public void StepDownFrom2MTo200kIsDetectedWithinOneSecond(int oneWayMs, int feedbackMs)
    {
        var sim = Link(2_000_000, oneWayMs, feedbackMs);
        sim.RunUntil(S(15));
        var before = sim.MeanTarget(S(12), S(15));
        Assert.True(before >= 1_400_000, $"before the drop {before}");
        sim.LinkBps = 200_000;
        sim.RunUntil(S(25));
        Dump(sim, "2M → 200k at 15 s");
        var detected = sim.FirstTime(S(15), bps => bps < 400_000);
        Assert.NotNull(detected);
        output.WriteLine($"below 400k after {(detected!.Value - S(15)).TotalMilliseconds} ms");
        Assert.True(detected <= S(16), $"detected at {detected}");
        Assert.InRange(sim.MeanTarget(S(18), S(25)), 150_000, 230_000); // settles near the new rate
    }

    [Theory]
    [InlineData(40, 100)]
    [InlineData(20, 50)]
    [InlineData(50, 100)]
    public void ProbingFindsAStepUpFrom200kTo2MWithinFiveSeconds(int oneWayMs, int feedbackMs)
    {
        var sim = Link(200_000, oneWayMs, feedbackMs);
        sim.WantedBps = 2_500_000; // the application wants more than the link gives: probes are needed
        sim.RunUntil(S(15));
        var before = sim.MeanTarget(S(10), S(15));
        Assert.InRange(before, 100_000, 300_000);
        sim.LinkBps = 2_000_000;
        sim.RunUntil(S(25));
        Dump(sim, "200k → 2M at 15 s");
        var found = sim.FirstTime(S(15), bps => bps >= 1_500_000);
        Assert.NotNull(found);
        output.WriteLine($"≥ 1.5M after {(found!.Value - S(15)).TotalMilliseconds} ms");
        Assert.True(found <= S(20), $"found at {found}");
        Assert.True(sim.MeanTarget(S(20), S(25)) >= 1_500_000); // and keeps it
    }

    [Fact]
    public void ConvergesDownFromAnOptimisticStart()
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 1_000_000), 300_000);
        sim.RunUntil(S(30));
        Dump(sim, "300k link, start 1M");
        for (double t = 10; t < 30; t += 2)
            Assert.InRange(sim.MeanTarget(S(t), S(t + 2)), 255_000, 345_000);
    }

    /// <summary>The feedback round trip follows the path within one feedback interval, in both directions.</summary>
    [Fact]
    public void FeedbackRoundTripFollowsThePath()
    {
        var sim = Link(1_000_000, oneWayMs: 300, feedbackMs: 100);
        Assert.Null(sim.Bwe.TakeFeedbackRoundTrip());
        sim.RunUntil(S(5));
        var slow = sim.Bwe.TakeFeedbackRoundTrip();
        output.WriteLine($"300 ms each way: {slow?.TotalMilliseconds} ms");
        // Two one-way delays, plus at most a frame interval of the newest packet's wait for the feedback.
        Assert.InRange(slow!.Value.TotalMilliseconds, 600, 640);
        Assert.Null(sim.Bwe.TakeFeedbackRoundTrip()); // taken: nothing new since

        sim.OneWayDelay = TimeSpan.FromMilliseconds(20);
        sim.RunFor(S(0.7)); // the feedback already on its way still arrives after its old delay
        var fast = sim.Bwe.TakeFeedbackRoundTrip();
        output.WriteLine($"then 20 ms each way: {fast?.TotalMilliseconds} ms");
        Assert.InRange(fast!.Value.TotalMilliseconds, 40, 80);
    }

    [Fact]
    public void LostFeedbackBacksOffAndRecovers()
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 1_000_000);
        sim.RunUntil(S(10));
        long before = sim.Bwe.TargetBitrate;
        sim.FeedbackBlocked = true;
        sim.RunUntil(S(14));
        Dump(sim, "feedback blocked 10-14 s");
        // Cut at 11.5 s, 13 s: 0.8² of the estimate, and nothing before the timeout.
        Assert.Equal(2, sim.Bwe.FeedbackTimeouts);
        Assert.InRange(sim.Bwe.TargetBitrate, 0.6 * before, 0.66 * before);
        Assert.True(sim.MeanTarget(S(10), S(11.4)) > 0.9 * before);
        sim.FeedbackBlocked = false;
        sim.RunUntil(S(24));
        Assert.True(sim.MeanTarget(S(20), S(24)) > 800_000);
    }

    [Fact]
    public void ApplicationLimitedSenderIsProbedPeriodically()
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 2_000_000);
        sim.WantedBps = 150_000; // the application sends far less than the link takes
        sim.RunUntil(S(10));
        Assert.True(sim.Bwe.ApplicationLimited);
        long probes = sim.Bwe.ProbesSent;
        sim.RunUntil(S(30));
        Dump(sim, "application-limited at 150k on 2M");
        Assert.True(sim.Bwe.ApplicationLimited);
        Assert.InRange(sim.Bwe.ProbesSent - probes, 4, 8); // one ALR probe every 5 s (plus continuations)
        Assert.True(sim.Bwe.TargetBitrate >= 150_000);
        Assert.Equal(0, sim.QueueDrops);
    }

    /// <summary>
    /// A sender that has little to send (the voices of a patient whose video is paused) on a 400 kbit/s link with a
    /// deep queue: its probes build a queue, the trend reads over-use, and a decrease to 85 % of the acknowledged
    /// throughput, which is only what the application sent, would set the estimate to a tenth of the link (seen on a
    /// 3G downlink: 355 to 31 kbit/s, and 12 s at 60-75 before a probe lifted it). Application-limited, the
    /// estimate backs off from itself instead.
    /// </summary>
    [Fact]
    public void AnApplicationLimitedSenderDoesNotCollapseToWhatItSends()
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 400_000)
        {
            OneWayDelay = TimeSpan.FromMilliseconds(150), QueueLimit = TimeSpan.FromMilliseconds(500),
        };
        sim.WantedBps = 2_000_000;
        sim.MediaCapBps = 40_000;
        sim.RunUntil(S(40));
        Dump(sim, "application-limited at 40k on 400k");
        Assert.True(sim.Bwe.ApplicationLimited);
        var lowest = sim.Samples.Where(s => s.Time >= S(5)).Min(s => s.TargetBps);
        Assert.True(lowest >= 150_000, $"the estimate fell to {lowest / 1000} kbit/s on a 400 kbit/s link");
    }

    /// <summary>
    /// An application-limited leg (voices and a paused video: 40 kbit/s on a 400 kbit/s link) whose queue another
    /// flow fills (600 kbit/s for 0.6 s): the over-use cuts the estimate to 85 % of what the leg sent, a tenth of the link,
    /// and the leg, sending only what its estimate allows, would stay there until a periodic probe. A large drop while
    /// application-limited is probed again at once when the over-use ends (the estimate before it, × 0.85).
    /// </summary>
    [Theory]
    [InlineData(150, 1)]
    [InlineData(150, 2)]
    [InlineData(300, 3)]
    [InlineData(40, 4)]
    [InlineData(75, 5)]
    public void AnApplicationLimitedLegCutByABurstOfOtherTrafficIsProbedBackAtOnce(int oneWayMs, int seed)
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 400_000, seed)
        {
            OneWayDelay = TimeSpan.FromMilliseconds(oneWayMs), QueueLimit = TimeSpan.FromMilliseconds(500), RandomLoss = 0.01,
        };
        sim.WantedBps = 2_000_000;
        sim.MediaCapBps = 40_000;
        sim.RunUntil(S(21));
        var before = sim.Bwe.TargetBitrate;
        Assert.True(sim.Bwe.ApplicationLimited);
        sim.CrossTrafficBps = 600_000;
        sim.RunUntil(S(21.6));
        sim.CrossTrafficBps = 0;
        sim.RunUntil(S(30));
        Dump(sim, $"40k on 400k, {oneWayMs} ms one way, another flow at 600k for 0.6 s from 21 s");
        output.WriteLine($"before the burst {before / 1000}k; deep cut {sim.Bwe.DeepCut}");
        var cut = sim.Bwe.DeepCut;
        Assert.InRange(cut.At, S(21), S(23)); // the other flow did cut it, deep
        Assert.True(cut.ApplicationLimited && cut.ToBps < 0.2 * before, $"cut {cut}");
        Assert.Equal(1, sim.Bwe.DropProbes);
        var lowAfter = sim.Samples.Where(s => s.Time >= cut.At + S(3)).Min(s => s.TargetBps);
        Assert.True(lowAfter >= 0.6 * before, $"3 s after the cut the estimate is still {lowAfter / 1000}k (before: {before / 1000}k)");
    }

    [Theory]
    [InlineData(5, 60_000, 1)]
    [InlineData(5, 120_000, 2)]
    [InlineData(7, 90_000, 3)]
    [InlineData(3, 50_000, 4)]
    [InlineData(10, 150_000, 5)]
    public void ALowRateLayerAtAFewFramesASecondDoesNotCollapseTheEstimate(int frameRate, long mediaBps, int seed)
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 400_000, seed)
        {
            OneWayDelay = TimeSpan.FromMilliseconds(150), QueueLimit = TimeSpan.FromMilliseconds(500), RandomLoss = 0.02,
            FrameRate = frameRate, MediaCapBps = mediaBps,
        };
        sim.WantedBps = 2_000_000;
        sim.RunUntil(S(60));
        Dump(sim, $"{frameRate} frames/s of {mediaBps / 1000}k on 400k");
        output.WriteLine($"deep cut {sim.Bwe.DeepCut}");
        var lowest = sim.Samples.Where(s => s.Time >= S(5)).Min(s => s.TargetBps);
        Assert.True(lowest >= Math.Min(150_000, mediaBps), $"the estimate fell to {lowest / 1000} kbit/s on a 400 kbit/s link sending {mediaBps / 1000}");
    }
}
