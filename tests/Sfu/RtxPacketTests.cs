using CsCheck;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class RtxPacketTests
{
    [Fact]
    public void WrapsPerRfc4588()
    {
        var original = MakeRtp(0x11111111, 0xABCD, 90000, pt: 96, payloadLength: 4, marker: true, extensions: [(2, [0x55])], padding: 4);
        var dest = new byte[100];
        int n = RtxPacket.TryWrap(original, 0x44444444, 97, 7, dest);
        Assert.Equal(RtxPacket.GetWrappedLength(original), n);
        Assert.Equal(Convert.FromHexString("90E10007" + "00015F90" + "44444444" + "BEDE0001" + "20550000" + "ABCD" + "00010203"), dest[..n]);
        Assert.Equal(0, RtxPacket.TryWrap(original, 1, 97, 7, new byte[n - 1]));
    }

    [Fact]
    public void UnwrapRestoresTheOriginal()
    {
        var original = MakeRtp(0x11111111, 0xABCD, 90000, pt: 96, payloadLength: 30, extensions: [(2, [0x55]), (3, [1, 2, 3])]);
        var rtx = new byte[200];
        int n = RtxPacket.TryWrap(original, 0x44444444, 97, 7, rtx);
        int m = RtxPacket.TryUnwrap(rtx.AsSpan(0, n), 0x11111111, 96);
        Assert.Equal(original, rtx[..m]);
    }

    [Fact]
    public void UnwrapRejectsPaddingOnlyProbesAndGarbage()
    {
        var probe = MakeRtp(0x44444444, 1, 0, pt: 97, payloadLength: 0, padding: 200);
        Assert.Equal(0, RtxPacket.TryUnwrap(probe, 1, 96));
        Assert.Equal(0, RtxPacket.TryUnwrap(MakeRtp(1, 1, 0, payloadLength: 1), 1, 96));
        Gen.Byte.Array[0, 100].Sample(bytes =>
        {
            int n = RtxPacket.TryUnwrap(bytes, 1, 96);
            Assert.InRange(n, 0, Math.Max(0, bytes.Length - 2));
        });
    }

    [Fact]
    public void RoundTripsRandomPackets()
    {
        Gen.Select(Gen.UShort, Gen.UInt, Gen.Int[0, 300], Gen.Bool, Gen.Int[0, 20]).Sample((seq, ts, payload, marker, padding) =>
        {
            var original = MakeRtp(5, seq, ts, pt: 100, payloadLength: payload, marker: marker, padding: padding);
            var rtx = new byte[400];
            int n = RtxPacket.TryWrap(original, 6, 101, (ushort)(seq ^ 0x5555), rtx);
            int m = RtxPacket.TryUnwrap(rtx.AsSpan(0, n), 5, 100);
            var expected = padding == 0 ? original : MakeRtp(5, seq, ts, pt: 100, payloadLength: payload, marker: marker);
            Assert.Equal(expected, rtx[..m]);
        });
    }
}
