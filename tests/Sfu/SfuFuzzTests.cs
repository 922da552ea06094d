using CsCheck;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

/// <summary>Random bytes never make a per-packet method throw; malformed packets are refused with false / 0.</summary>
public class SfuFuzzTests
{
    [Fact]
    public void RandomBytesAreHandledWithoutExceptions()
    {
        var pt = PayloadTypeMap.Build([new(96, "VP8", 90000)], [new(100, "VP8", 90000)]);
        var ext = ExtensionIdMap.Build([new(1, "a"), new(2, "b")], [new(14, "a")]);
        Gen.Byte.Array[0, 200].Array[1, 20].Sample(packets =>
        {
            var buffer = new RetransmissionBuffer(16, maxPacketSize: 150);
            var rewriter = new RtpStreamRewriter(1, 90000);
            var responder = new NackResponder(rewriter, pt, ext);
            responder.EnableRtx(2, [(100, 101)]);
            var send = new SendStatistics(1, 90000);
            var dest = new byte[300];
            foreach (var bytes in packets)
            {
                var work = (byte[])bytes.Clone();
                bool stored = buffer.Store(bytes, Ms(0));
                if (bytes.Length is < 12 or > 150) Assert.False(stored);
                if (rewriter.TryRewrite(work, Ms(1), out ushort outSeq))
                {
                    pt.TryRewrite(work);
                    ext.TryRewrite(work);
                    send.OnPacketSent(work, Ms(1));
                    int n = responder.TryBuildRetransmission(outSeq, buffer, Ms(2), dest);
                    Assert.InRange(n, 0, 202);
                }
            }
        });
    }

    [Fact]
    public void OverlongStoredPacketsAreNotRetransmittedIntoASmallBuffer()
    {
        var buffer = new RetransmissionBuffer(16);
        var rewriter = new RtpStreamRewriter(1, 90000);
        var responder = new NackResponder(rewriter);
        var p = MakeRtp(5, 1, 0, payloadLength: 1000);
        buffer.Store(p, Ms(0));
        rewriter.TryRewrite((byte[])p.Clone(), Ms(0), out ushort outSeq);
        Assert.Equal(0, responder.TryBuildRetransmission(outSeq, buffer, Ms(1), new byte[500]));
        Assert.Equal(p.Length, responder.TryBuildRetransmission(outSeq, buffer, Ms(1), new byte[1500]));
    }
}
