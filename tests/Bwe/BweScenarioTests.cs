using TeleRehab.Media.Bwe;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Bwe;

/// <summary>The estimator against a simulated bottleneck (see <see cref="SimulatedLink"/>).</summary>
public class BweScenarioTests(ITestOutputHelper output)
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

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

    [Fact]
    public void ConvergesToA300kLinkFromA300kStart()
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 300_000);
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

    [Fact]
    public void RandomLossAloneDoesNotCollapseTheEstimate()
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 1_000_000) { RandomLoss = 0.05 };
        sim.RunUntil(S(30));
        Dump(sim, "5% loss, 1M");
        var (min, _) = sim.TargetRange(S(20), S(30));
        output.WriteLine($"20-30 s: mean {sim.MeanTarget(S(20), S(30)) / 1000:0} kbit/s, min {min / 1000}");
        Assert.True(min >= 600_000, $"min {min}");
    }

    [Fact]
    public void StepDownFrom2MTo200kIsDetectedWithinOneSecond()
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 2_000_000);
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
    }

    [Fact]
    public void ProbingFindsAStepUpFrom200kTo2MWithinFiveSeconds()
    {
        var sim = new SimulatedLink(new SendSideBandwidthEstimator(30_000, 5_000_000, 300_000), 200_000) { WantedBps = 2_500_000 };
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
    }
}
