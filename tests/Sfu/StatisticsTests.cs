using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class ReceiveStatisticsTests
{
    [Fact]
    public void LossIsCumulativeAndFractionPerInterval()
    {
        var s = new ReceiveStatistics(0x1234, 90000);
        // Timestamps advance with arrival time (90 units per ms): no jitter.
        foreach (ushort seq in new ushort[] { 0, 1, 2, 4, 5, 6, 8, 9 }) s.OnPacketReceived(seq, 90u * seq, Ms(seq));
        var b = s.CreateReportBlock(Ms(10));
        // A.3: expected 10, received 8, lost 2; fraction = (2 << 8) / 10 = 51 (8-bit fixed point of 0.2).
        Assert.Equal(new ReportBlock(0x1234, 51, 2, 9, 0, 0, 0), b);
        for (ushort seq = 10; seq < 20; seq++) s.OnPacketReceived(seq, 90u * seq, Ms(seq));
        b = s.CreateReportBlock(Ms(20));
        Assert.Equal((byte)0, b.FractionLost);
        Assert.Equal(2, b.CumulativeLost);
        Assert.Equal(19u, b.ExtendedHighestSequenceNumber);
        // An interval where everything is lost reports 255/256 at most: 1 received of 4 expected -> 192.
        s.OnPacketReceived(23, 90u * 23, Ms(23));
        b = s.CreateReportBlock(Ms(30));
        Assert.Equal((byte)192, b.FractionLost);
        Assert.Equal(5, b.CumulativeLost);
    }

    [Fact]
    public void DuplicatesMakeLossNegativeAndFractionZero()
    {
        var s = new ReceiveStatistics(1, 90000);
        foreach (ushort seq in new ushort[] { 0, 1, 1, 2 }) s.OnPacketReceived(seq, 0, Ms(0));
        var b = s.CreateReportBlock(Ms(1));
        Assert.Equal(-1, b.CumulativeLost);
        Assert.Equal((byte)0, b.FractionLost);
        Assert.Equal(4u, s.PacketsReceived);
    }

    [Fact]
    public void ExtendedHighestSeqCountsCycles()
    {
        var s = new ReceiveStatistics(1, 90000);
        for (int i = 0; i < 12; i++) s.OnPacketReceived((ushort)(65530 + i), 0, Ms(i));
        s.OnPacketReceived(65533, 0, Ms(20)); // reordered/duplicate from the previous cycle
        Assert.Equal(65536u + 5u, s.ExtendedHighestSequenceNumber);
        Assert.Equal(-1, s.CumulativeLost);
    }

    [Fact]
    public void LargeJumpRestartsOnlyWhenConfirmedBySequentialPacket()
    {
        var s = new ReceiveStatistics(1, 90000);
        s.OnPacketReceived(100, 0, Ms(0));
        s.OnPacketReceived(101, 0, Ms(1));
        Assert.False(s.OnPacketReceived(20000, 0, Ms(2))); // A.1: MAX_DROPOUT exceeded, not counted
        Assert.Equal(101u, s.ExtendedHighestSequenceNumber);
        Assert.True(s.OnPacketReceived(20001, 0, Ms(3)));  // sequential: the source restarted
        Assert.Equal(20001u, s.ExtendedHighestSequenceNumber);
        Assert.Equal(1u, s.PacketsReceived);
        Assert.Equal(0, s.CumulativeLost);
    }

    [Fact]
    public void JitterFollowsAppendixA8()
    {
        var s = new ReceiveStatistics(1, 8000);
        // 20 ms packets, 160 timestamp units apart; packet 3 arrives 10 ms (80 units) late.
        for (int i = 0; i < 3; i++) s.OnPacketReceived((ushort)i, (uint)(160 * i), Ms(20 * i));
        Assert.Equal(0u, s.Jitter);
        s.OnPacketReceived(3, 480, Ms(70));
        Assert.Equal(5u, s.Jitter);  // J = 0 + (80 - 0) / 16
        s.OnPacketReceived(4, 640, Ms(80));
        Assert.Equal(9u, s.Jitter);  // J = 5 + (80 - 5) / 16 = 9.69, truncated in the integer form
        Assert.Equal(9u, s.CreateReportBlock(Ms(80)).Jitter);
    }

    [Fact]
    public void JitterMatchesTheFloatingPointFormulaOnARandomSequence()
    {
        var random = new Random(3);
        var s = new ReceiveStatistics(1, 90000);
        double j = 0;
        double? previousTransit = null;
        for (int i = 0; i < 500; i++)
        {
            uint ts = (uint)(3000 * i);
            long arrivalUnits = 3000L * i + 1000 + random.Next(0, 2000);
            var arrival = TimeSpan.FromTicks(arrivalUnits * TimeSpan.TicksPerSecond / 90000);
            s.OnPacketReceived((ushort)i, ts, arrival);
            double transit = arrivalUnits - ts;
            if (previousTransit is { } p) j += (Math.Abs(transit - p) - j) / 16;
            previousTransit = transit;
        }
        Assert.InRange(s.Jitter, j - 2, j + 2);
        Assert.True(j > 100);
    }

    [Fact]
    public void LsrAndDlsrFromTheLastSenderReport()
    {
        // RFC 3550 §6.4.1 Figure 2: LSR 0xb705:2000, DLSR 5.250 s = 0x0005:4000.
        var s = new ReceiveStatistics(1, 90000);
        s.OnPacketReceived(1, 0, Ms(0));
        Assert.Equal((0u, 0u), (s.CreateReportBlock(Ms(0)).LastSenderReport, s.CreateReportBlock(Ms(0)).DelaySinceLastSenderReport));
        s.OnSenderReport(0x0000_b705_2000_0000UL, TimeSpan.FromSeconds(100));
        var b = s.CreateReportBlock(TimeSpan.FromSeconds(105.25));
        Assert.Equal(0xb7052000u, b.LastSenderReport);
        Assert.Equal(0x00054000u, b.DelaySinceLastSenderReport);
        // The sender's RTT computation with A = 0xb710:8000 gives 6.125 s = 0x0006:2000.
        Assert.Equal(0x00062000u, 0xb7108000u - b.LastSenderReport - b.DelaySinceLastSenderReport);
    }
}

public class SendStatisticsTests
{
    [Fact]
    public void CountsPacketsAndPayloadOctets()
    {
        var s = new SendStatistics(9, 90000);
        Assert.False(s.HasSent);
        Assert.True(s.OnPacketSent(MakeRtp(9, 1, 1000, payloadLength: 100, extensions: [(1, [1, 2])], padding: 8), Ms(0)));
        s.OnPacketSent(2000, 50, Ms(1));
        Assert.False(s.OnPacketSent(new byte[5], Ms(2)));
        Assert.Equal(2u, s.PacketCount);
        Assert.Equal(150u, s.OctetCount);
        Assert.True(s.HasSent);
    }

    [Fact]
    public void RtpTimestampIsExtrapolatedFromTheNewestSent()
    {
        var s = new SendStatistics(9, 90000);
        s.OnPacketSent(uint.MaxValue - 1000, 10, Ms(1000));
        s.OnPacketSent(uint.MaxValue - 4000, 10, Ms(1010)); // a retransmission: older timestamp
        Assert.Equal(unchecked(uint.MaxValue - 1000 + 45000), s.GetRtpTimestamp(Ms(1500)));
        Assert.Equal(uint.MaxValue - 1000 - 90, s.GetRtpTimestamp(Ms(999)));
        var sr = s.CreateSenderReport(0x1122334455667788, Ms(1500));
        Assert.Equal((9u, 0x1122334455667788UL, unchecked(uint.MaxValue - 1000 + 45000), 2u, 20u),
            (sr.Ssrc, sr.NtpTimestamp, sr.RtpTimestamp, sr.PacketCount, sr.OctetCount));
    }

    [Fact]
    public void NtpTimestampFromDateTime()
    {
        Assert.Equal(0UL, SendStatistics.ToNtpTimestamp(new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
        Assert.Equal((2208988800UL << 32) | 0x80000000UL,
            SendStatistics.ToNtpTimestamp(new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMilliseconds(500)));
    }

    [Fact]
    public void WritesSrAndSdesCompound()
    {
        var s = new SendStatistics(0x01020304, 48000);
        s.OnPacketSent(960, 80, Ms(0));
        var blocks = new[] { new ReportBlock(0xAABBCCDD, 10, 3, 1000, 7, 0x11, 0x22) };
        var dest = new byte[200];
        int n = RtcpReportWriter.WriteSenderReport(dest, s, 0x0102030405060708, Ms(20), blocks, "ab"u8);
        Assert.Equal(28 + 24 + 16, n);
        Assert.True(RtcpCompoundReader.Validate(dest.AsSpan(0, n)));
        Assert.True(SenderReport.TryParse(dest.AsSpan(0, 52), out var sr));
        Assert.Equal((0x01020304u, 960u + 960u, 1u, 80u, 1), (sr.Ssrc, sr.RtpTimestamp, sr.PacketCount, sr.OctetCount, sr.ReportBlocks.Count));
        Assert.Equal(blocks[0], sr.ReportBlocks[0]);
        // SDES: one chunk, CNAME "ab", END and padding (RFC 3550 §6.5).
        Assert.Equal(Convert.FromHexString("81CA0003" + "01020304" + "01026162" + "00000000"), dest[52..n]);
        Assert.True(SourceDescription.TryParse(dest.AsSpan(52, 16), out var sdes));
        Assert.Equal("ab", sdes!.Chunks[0].Cname);
        Assert.Equal(0, RtcpReportWriter.WriteSenderReport(new byte[60], s, 0, Ms(20), blocks, "ab"u8));
    }

    [Fact]
    public void WritesRrAndSdesCompound()
    {
        var dest = new byte[200];
        int n = RtcpReportWriter.WriteReceiverReport(dest, 5, [], "user@host"u8);
        Assert.True(RtcpCompoundReader.Validate(dest.AsSpan(0, n)));
        Assert.True(ReceiverReport.TryParse(dest.AsSpan(0, 8), out var rr));
        Assert.Equal((5u, 0), (rr.Ssrc, rr.ReportBlocks.Count));
        Assert.True(SourceDescription.TryParse(dest.AsSpan(8, n - 8), out var sdes));
        Assert.Equal((5u, "user@host"), (sdes!.Chunks[0].Ssrc, sdes.Chunks[0].Cname));
        // SSRC + type + length + 2 text bytes end on a word boundary: the END octet needs a whole extra word.
        Assert.Equal(RtcpReportWriter.GetSdesCnameLength(1) + 4, RtcpReportWriter.GetSdesCnameLength(2));
        Assert.Equal(0, RtcpReportWriter.WriteReceiverReport(dest, 5, new ReportBlock[32], "x"u8));
    }
}
