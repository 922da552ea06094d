using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Tests.Sfu;

public class RoundTripTimeTests
{
    /// <summary>RFC 3550 §6.4.1, Figure 2: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s),
    /// DLSR = 0x0005:4000 (5.250 s): delay 0x0006:2000 (6.125 s).</summary>
    [Fact]
    public void Rfc3550_figure_2()
    {
        Assert.True(RoundTripTime.TryCompute(0xb7108000, 0xb7052000, 0x00054000, out var rtt));
        Assert.Equal(6.125, rtt.TotalSeconds, 3);
    }

    [Fact]
    public void No_sender_report_yet_or_negative_gives_nothing()
    {
        Assert.False(RoundTripTime.TryCompute(0x10000, 0, 0, out _));
        Assert.False(RoundTripTime.TryCompute(0x10000, 0x10000, 0x100, out _));
    }

    [Fact]
    public void Wraps_modulo_2_to_the_32()
    {
        Assert.True(RoundTripTime.TryCompute(0x00000100, 0xFFFFFF00, 0, out var rtt));
        Assert.Equal(512 / 65536.0, rtt.TotalSeconds, 6);
    }

    [Fact]
    public void Smooths_and_caps()
    {
        var r = new RoundTripTime();
        Assert.Equal(RoundTripTime.Initial, r.Smoothed);
        Assert.True(r.OnReportBlock(0x10000 + 0x8000, 0x10000, 0)); // 500 ms
        Assert.Equal(500, r.Smoothed.TotalMilliseconds, 1);
        Assert.True(r.OnReportBlock(0x20000 + 0x1000, 0x20000, 0)); // 62.5 ms
        Assert.Equal(500 + (62.5 - 500) / 8, r.Smoothed.TotalMilliseconds, 1);
        Assert.True(r.OnReportBlock(0x400000, 0x10000, 0)); // 63 s: capped
        Assert.Equal(RoundTripTime.Max, r.Latest);
    }
}
