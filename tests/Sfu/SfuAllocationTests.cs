using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class SfuAllocationTests
{
    [Fact]
    public void PerPacketPathsDoNotAllocate()
    {
        var rewriter = new RtpStreamRewriter(1, 90000);
        var buffer = new RetransmissionBuffer(512);
        var nacks = new NackGenerator();
        var responder = new NackResponder(rewriter);
        responder.EnableRtx(3, [(96, 97)]);
        var receive = new ReceiveStatistics(7, 90000);
        var send = new SendStatistics(1, 90000);
        var throttle = new KeyframeRequestThrottle(KeyframeRequestKind.Fir);
        var packet = MakeRtp(7, 0, 0, payloadLength: 1200);
        var work = new byte[1500];
        var lost = new ushort[64];

        void Run(int from, int count)
        {
            for (int i = from; i < from + count; i++)
            {
                var now = TimeSpan.FromMilliseconds(i);
                RtpHelpers(packet, (ushort)(i * 2), (uint)(i * 3000)); // every other seq lost: NACKs are due all the time
                buffer.Store(packet, now);
                nacks.OnPacketReceived((ushort)(i * 2), now);
                nacks.CollectNacks(now, lost);
                nacks.WriteNack(now, 1, 7, work);
                receive.OnPacketReceived((ushort)(i * 2), (uint)(i * 3000), now);
                packet.CopyTo(work, 0);
                rewriter.TryRewrite(work.AsSpan(0, packet.Length), now, out ushort outSeq);
                send.OnPacketSent(work.AsSpan(0, packet.Length), now);
                responder.TryBuildRetransmission(outSeq, buffer, now, work);
                if (throttle.OnRequest(now)) throttle.WriteRequest(work, 1, 7);
                receive.CreateReportBlock(now);
                RtcpReportWriter.WriteSenderReport(work, send, 1UL << 40, now, [], "cname"u8);
            }
        }

        Run(0, 100); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(100, 1000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void RtpHelpers(byte[] packet, ushort seq, uint ts)
    {
        TeleRehab.Media.Rtp.RtpPacketRewriter.SetSequenceNumber(packet, seq);
        TeleRehab.Media.Rtp.RtpPacketRewriter.SetTimestamp(packet, ts);
    }
}
