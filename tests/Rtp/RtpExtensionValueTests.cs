using CsCheck;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Tests.Rtp;

public class RtpExtensionValueTests
{
    [Fact]
    public void AbsSendTime_is_6_18_fixed_point_wrapping_at_64_seconds()
    {
        Assert.Equal(0x060000u, AbsSendTime.FromTimeSpan(TimeSpan.FromSeconds(1.5))); // 1 + 0.5 -> 1<<18 | 1<<17
        Assert.Equal(0x060000u, AbsSendTime.FromTimeSpan(TimeSpan.FromSeconds(65.5)));
        Assert.Equal(0xFC0000u, AbsSendTime.FromTimeSpan(TimeSpan.FromSeconds(63)));
        Assert.Equal(TimeSpan.FromSeconds(1.5), AbsSendTime.ToTimeSpan(0x060000));
        Span<byte> b = stackalloc byte[3];
        AbsSendTime.Write(b, 0x123456);
        Assert.Equal(new byte[] { 0x12, 0x34, 0x56 }, b.ToArray());
        Assert.True(AbsSendTime.TryRead(b, out var v));
        Assert.Equal(0x123456u, v);
        Assert.False(AbsSendTime.TryRead(b[..2], out _));
    }

    [Fact]
    public void AbsSendTime_round_trip_is_within_one_unit()
    {
        Gen.Long[0, TimeSpan.TicksPerSecond * 63].Sample(ticks =>
        {
            var t = TimeSpan.FromTicks(ticks);
            var back = AbsSendTime.ToTimeSpan(AbsSendTime.FromTimeSpan(t));
            // one unit is 2^-18 s ~ 3.8 us; allow a unit for rounding and the 64 s wrap at the top
            var diff = Math.Abs((back - t).Ticks);
            Assert.True(diff <= 39 || Math.Abs(diff - 64 * TimeSpan.TicksPerSecond) <= 39, $"{t} -> {back}");
        });
    }

    [Fact]
    public void Transport_sequence_number_and_audio_level()
    {
        Span<byte> b = stackalloc byte[2];
        TransportSequenceNumberExtension.Write(b, 0xABCD);
        Assert.Equal(new byte[] { 0xAB, 0xCD }, b.ToArray());
        Assert.True(TransportSequenceNumberExtension.TryRead(b, out var seq));
        Assert.Equal(0xABCD, seq);
        Assert.False(TransportSequenceNumberExtension.TryRead(b[..1], out _));

        // RFC 6464 §3: V=1, level 42 -dBov -> 0x80 | 0x2A
        Assert.True(AudioLevel.TryRead([0xAA], out var level));
        Assert.Equal(new AudioLevel(true, 42), level);
        Assert.True(AudioLevel.TryRead([0x7F], out level));
        Assert.Equal(new AudioLevel(false, 127), level);
        Assert.False(AudioLevel.TryRead([], out _));
        new AudioLevel(true, 42).Write(b);
        Assert.Equal(0xAA, b[0]);
    }

    [Fact]
    public void Mid_and_rid_compare_without_decoding()
    {
        ReadOnlySpan<byte> value = "video0"u8;
        Assert.True(RtpStringExtension.Equals(value, "video0"));
        Assert.False(RtpStringExtension.Equals(value, "video1"));
        Assert.False(RtpStringExtension.Equals(value, "video"));
        Assert.False(RtpStringExtension.Equals([0xE9], "\u00E9")); // non-ASCII never matches byte-wise
        Assert.True(RtpStringExtension.Equals(value, "video0"u8));
        Span<byte> b = stackalloc byte[8];
        int n = RtpStringExtension.Write(b, "hi");
        Assert.Equal("hi"u8.ToArray(), b[..n].ToArray());
    }
}
