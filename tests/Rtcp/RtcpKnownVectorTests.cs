using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Tests.Rtcp;

/// <summary>Byte vectors hand-assembled from the RFC packet diagrams (offsets noted in comments).</summary>
public class RtcpKnownVectorTests
{
    internal static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    internal static byte[] Write<T>(scoped in T packet) where T : IRtcpPacket, allows ref struct
    {
        var buffer = new byte[packet.GetSerializedLength()];
        Assert.Equal(buffer.Length, packet.WriteTo(buffer));
        return buffer;
    }

    // RFC 3550 §6.4.1 report block: SSRC | fraction lost 0x40 (25%) + cumulative lost -1 (0xFFFFFF) |
    // ext. highest seq 0x0001FFFF | jitter 0x20 | LSR 0x03040506 | DLSR 0x00010000 (1 s)
    private const string ReportBlockHex = "55667788 40FFFFFF 0001FFFF 00000020 03040506 00010000";
    private static readonly ReportBlock Block = new(0x55667788, 0x40, -1, 0x0001FFFF, 0x20, 0x03040506, 0x00010000);

    [Fact]
    public void Sender_report_with_one_block()
    {
        // V=2 RC=1 -> 0x81, PT=200, 52 bytes = 13 words -> length 12; SSRC, NTP, RTP ts, packets, octets
        var bytes = Hex("81C8000C 11223344 01020304 05060708 0A0B0C0D 00000010 00000400 " + ReportBlockHex);
        Assert.True(SenderReport.TryParse(bytes, out var sr));
        Assert.Equal(0x11223344u, sr.Ssrc);
        Assert.Equal(0x0102030405060708UL, sr.NtpTimestamp);
        Assert.Equal(0x03040506u, sr.CompactNtpTimestamp);
        Assert.Equal(0x0A0B0C0Du, sr.RtpTimestamp);
        Assert.Equal(16u, sr.PacketCount);
        Assert.Equal(1024u, sr.OctetCount);
        Assert.Equal(1, sr.ReportBlocks.Count);
        Assert.Equal(Block, sr.ReportBlocks[0]);
        Assert.Equal(bytes, Write(new SenderReport(0x11223344, 0x0102030405060708, 0x0A0B0C0D, 16, 1024, new[] { Block })));
    }

    [Fact]
    public void Receiver_report_empty_and_with_block()
    {
        Assert.Equal(Hex("80C90001 11223344"), Write(new ReceiverReport(0x11223344)));
        var bytes = Hex("81C90007 11223344 " + ReportBlockHex);
        Assert.True(ReceiverReport.TryParse(bytes, out var rr));
        Assert.Equal(0x11223344u, rr.Ssrc);
        Assert.Equal(Block, rr.ReportBlocks[0]);
        Assert.Equal(bytes, Write(rr));
    }

    [Fact]
    public void Sdes_cname_chunk()
    {
        // RFC 3550 §6.5: SC=1, SSRC, CNAME(1) len 4 "abcd", then null octets to the 32-bit boundary (2 here)
        var bytes = Hex("81CA0003 11223344 0104 61626364 0000");
        Assert.Equal(bytes, Write(SourceDescription.ForCname(0x11223344, "abcd")));
        Assert.True(SourceDescription.TryParse(bytes, out var sdes));
        Assert.Equal("abcd", sdes!.Chunks[0].Cname);
        // a CNAME of 6 bytes fills the word exactly, so a whole word of nulls must follow (§6.5)
        Assert.Equal(Hex("81CA0004 11223344 0106 616263646566 00000000"), Write(SourceDescription.ForCname(0x11223344, "abcdef")));
    }

    [Fact]
    public void Goodbye_with_reason()
    {
        // RFC 3550 §6.6: SC=1, SSRC, length 3 "bye" (exactly one word)
        var bytes = Hex("81CB0002 11223344 03627965");
        Assert.True(Goodbye.TryParse(bytes, out var bye));
        Assert.Equal(0x11223344u, bye.Sources[0].Ssrc);
        Assert.Equal("bye"u8.ToArray(), bye.Reason.ToArray());
        Assert.Equal(bytes, Write(bye));
        Assert.Equal(Hex("81CB0001 11223344"), Write(new Goodbye(new SsrcEntry[] { 0x11223344 })));
    }

    [Fact]
    public void Generic_nack()
    {
        // RFC 4585 §6.2.1: RTPFB FMT=1, PID 100, BLP 0b101 -> lost 100, 101, 103
        var bytes = Hex("81CD0003 11223344 55667788 00640005");
        Assert.True(TransportLayerNack.TryParse(bytes, out var nack));
        Assert.Equal(0x11223344u, nack.SenderSsrc);
        Assert.Equal(0x55667788u, nack.MediaSsrc);
        var lost = new List<int>();
        foreach (var s in nack.LostSequenceNumbers) lost.Add(s);
        Assert.Equal(new[] { 100, 101, 103 }, lost);
        Span<NackPair> pairs = stackalloc NackPair[3];
        int n = TransportLayerNack.BuildPairs([100, 101, 103], pairs);
        Assert.Equal(bytes, Write(new TransportLayerNack(0x11223344, 0x55667788, pairs[..n])));
    }

    [Fact]
    public void Nack_pairs_span_the_wrap()
    {
        Span<NackPair> pairs = stackalloc NackPair[4];
        int n = TransportLayerNack.BuildPairs([65534, 65535, 0, 15, 16, 40], pairs);
        // PID 65534 covers 65535 (bit 0) and 0 (bit 1); 15 is 17 ahead, so it starts a new pair.
        Assert.Equal(3, n);
        Assert.Equal(new NackPair(65534, 0b11), pairs[0]);
        Assert.Equal(new NackPair(15, 0b1), pairs[1]);
        Assert.Equal(new NackPair(40, 0), pairs[2]);
        Assert.Equal(3, TransportLayerNack.GetPairCount([65534, 65535, 0, 15, 16, 40]));
    }

    [Fact]
    public void Picture_loss_indication()
    {
        // RFC 4585 §6.3.1: PSFB FMT=1, length 2, no FCI
        var bytes = Hex("81CE0002 11223344 55667788");
        Assert.True(PictureLossIndication.TryParse(bytes, out var pli));
        Assert.Equal(new PictureLossIndication(0x11223344, 0x55667788), pli);
        Assert.Equal(bytes, Write(pli));
    }

    [Fact]
    public void Full_intra_request()
    {
        // RFC 5104 §4.3.1: PSFB FMT=4, media SSRC 0, FCI: SSRC + seq nr 7 + 24 reserved bits
        var bytes = Hex("84CE0004 11223344 00000000 55667788 07000000");
        Assert.True(FullIntraRequest.TryParse(bytes, out var fir));
        Assert.Equal(new FirEntry(0x55667788, 7), fir.Entries[0]);
        Assert.Equal(bytes, Write(new FullIntraRequest(0x11223344, new[] { new FirEntry(0x55667788, 7) })));
    }

    [Fact]
    public void Remb_one_megabit()
    {
        // 1,000,000 bps = 250000 (0x3D090) x 2^2 -> Num SSRC 1 | exp 2 | mantissa: 0x01 << 24 | 2 << 18 | 0x3D090 = 0x010BD090
        var bytes = Hex("8FCE0005 11223344 00000000 52454D42 010BD090 55667788");
        Assert.True(ReceiverEstimatedMaxBitrate.TryParse(bytes, out var remb));
        Assert.Equal(1_000_000UL, remb.Bitrate);
        Assert.Equal(0x55667788u, remb.Ssrcs[0].Ssrc);
        Assert.Equal(bytes, Write(new ReceiverEstimatedMaxBitrate(0x11223344, 1_000_000, new SsrcEntry[] { 0x55667788 })));
        Assert.False(ReceiverEstimatedMaxBitrate.TryParse(Hex("8FCE0005 11223344 00000000 52454D43 010BD090 55667788"), out _));
    }

    [Fact]
    public void Compound_reader_iterates_and_writer_concatenates()
    {
        var buffer = new byte[200];
        var writer = new RtcpCompoundWriter(buffer);
        Assert.True(writer.TryAppend(new ReceiverReport(0x11223344, new[] { Block })));
        Assert.True(writer.TryAppend(SourceDescription.ForCname(0x11223344, "abcd")));
        Assert.True(writer.TryAppend(new PictureLossIndication(1, 2)));
        int length = writer.Length;
        Assert.Equal(32 + 16 + 12, length);
        Assert.False(new RtcpCompoundWriter(buffer.AsSpan(0, 40)).TryAppend(SourceDescription.ForCname(1, new string('x', 40))));

        var types = new List<(byte, int)>();
        var reader = new RtcpCompoundReader(buffer.AsSpan(0, length));
        foreach (var p in reader)
        {
            types.Add((p.PacketType, p.Format));
            if (p.PacketType == RtcpPacketType.PayloadSpecificFeedback && p.Format == PictureLossIndication.Format)
                Assert.True(PictureLossIndication.TryParse(p.Packet, out _));
        }
        Assert.Equal(new[] { ((byte)201, 1), ((byte)202, 1), ((byte)206, 1) }, types);
        Assert.True(RtcpCompoundReader.Validate(buffer.AsSpan(0, length)));
        Assert.False(RtcpCompoundReader.Validate(buffer.AsSpan(0, length - 4)));   // last packet truncated
        Assert.False(RtcpCompoundReader.Validate(buffer.AsSpan(0, length + 1)));   // stray byte
        Assert.False(RtcpCompoundReader.Validate([]));
    }

    [Fact]
    public void Compound_reader_checks_padding_count()
    {
        // P=1 with padding count 4 (whole last word) is valid; 0 or more than the packet is not.
        Assert.True(RtcpCompoundReader.Validate(Hex("A0C90002 11223344 00000004")));
        Assert.False(RtcpCompoundReader.Validate(Hex("A0C90002 11223344 00000000")));
        Assert.False(RtcpCompoundReader.Validate(Hex("A0C90002 11223344 0000000D")));
        Assert.True(ReceiverReport.TryParse(Hex("A0C90002 11223344 00000004"), out var rr));
        Assert.Equal(0x11223344u, rr.Ssrc);
        Assert.Equal(0, rr.ProfileExtensions.Length);
    }

    [Theory]
    [InlineData("81C8000C 11223344")]                     // SR shorter than its length field
    [InlineData("82C90007 11223344 " + ReportBlockHex)]   // RR with RC=2 but one block
    [InlineData("81CD0002 11223344 55667788")]            // NACK without FCI
    [InlineData("81CD0003 11223344 55667788 006400")]     // NACK FCI truncated
    [InlineData("84CE0003 11223344 00000000 55667788")]   // FIR FCI of 4 bytes
    [InlineData("81CE0001 11223344")]                     // PLI without media SSRC
    [InlineData("8FCE0004 11223344 00000000 52454D42 020BD090")] // REMB claims 2 SSRCs, has none
    [InlineData("81CA0002 11223344 0104 6162")]           // SDES item runs past the packet
    [InlineData("81CA0002 11223344 01026162")]            // SDES without the terminating null octet
    [InlineData("81CB0002 11223344 05627965")]            // BYE reason longer than the packet
    [InlineData("41C90001 11223344")]                     // version 1
    public void Malformed_packets_are_rejected(string hex)
    {
        var bytes = Hex(hex);
        Assert.False(SenderReport.TryParse(bytes, out _) || ReceiverReport.TryParse(bytes, out _)
            || TransportLayerNack.TryParse(bytes, out _) || FullIntraRequest.TryParse(bytes, out _)
            || PictureLossIndication.TryParse(bytes, out _) || ReceiverEstimatedMaxBitrate.TryParse(bytes, out _)
            || SourceDescription.TryParse(bytes, out _) || Goodbye.TryParse(bytes, out _)
            || TransportWideFeedback.TryParse(bytes, out _));
    }
}
