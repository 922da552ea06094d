using CsCheck;
using TeleRehab.Media.Rtcp;
using static TeleRehab.Media.Tests.Rtcp.RtcpKnownVectorTests;

namespace TeleRehab.Media.Tests.Rtcp;

public class TransportWideFeedbackTests
{
    private static List<TwccPacketStatus> Statuses(TransportWideFeedback fb)
    {
        var list = new List<TwccPacketStatus>();
        foreach (var s in fb) list.Add(s);
        return list;
    }

    /// <summary>
    /// Hand-computed from draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: base seq 5, 4 packets,
    /// reference time 16 (x 64 ms = 1024 ms), fb pkt count 3.
    ///   seq 5 at 1025.0 ms: delta +4 ticks (small, 1 byte 0x04)
    ///   seq 6 lost
    ///   seq 7 at 1025.5 ms: delta +2 ticks (small, 0x02)
    ///   seq 8 at 1024.5 ms: delta -4 ticks (large, 2 bytes 0xFFFC)
    /// Symbols 01 00 01 10 need the 2-bit status vector (§3.1.4): 1 1 01 00 01 10 00 00 00 = 0xD180.
    /// 26 bytes of content -> 2 bytes of padding, P=1, last byte 0x02; length 28/4-1 = 6.
    /// </summary>
    private const string KnownVector = "AFCD0006 11111111 22222222 0005 0004 000010 03 D180 04 02 FFFC 0002";

    [Fact]
    public void Builder_produces_hand_computed_vector()
    {
        var builder = new TransportWideFeedbackBuilder(0x11111111, 0x22222222, 3);
        Func<double, TimeSpan> ms = TimeSpan.FromMilliseconds;
        Assert.Equal(-1, builder.AddReceivedPackets([(5, ms(1025)), (7, ms(1025.5)), (8, ms(1024.5))]));
        Assert.Equal(Hex(KnownVector), Write(builder));
    }

    [Fact]
    public void Parser_decodes_hand_computed_vector()
    {
        Assert.True(TransportWideFeedback.TryParse(Hex(KnownVector), out var fb));
        Assert.Equal(0x11111111u, fb.SenderSsrc);
        Assert.Equal(0x22222222u, fb.MediaSsrc);
        Assert.Equal(5, fb.BaseSequenceNumber);
        Assert.Equal(4, fb.PacketStatusCount);
        Assert.Equal(16u, fb.ReferenceTimeRaw);
        Assert.Equal(TimeSpan.FromMilliseconds(1024), fb.ReferenceTime);
        Assert.Equal(3, fb.FeedbackPacketCount);
        Func<double, TimeSpan> ms = TimeSpan.FromMilliseconds;
        Assert.Equal(new[]
        {
            new TwccPacketStatus(5, TwccStatusSymbol.ReceivedSmallDelta, 4, ms(1025)),
            new TwccPacketStatus(6, TwccStatusSymbol.NotReceived, 0, TimeSpan.Zero),
            new TwccPacketStatus(7, TwccStatusSymbol.ReceivedSmallDelta, 2, ms(1025.5)),
            new TwccPacketStatus(8, TwccStatusSymbol.ReceivedLargeDelta, -4, ms(1024.5)),
        }, Statuses(fb));
        Assert.Equal(ms(-1), Statuses(fb)[3].Delta);
    }

    [Fact]
    public void Run_length_chunk_of_221_received_packets()
    {
        // §3.1.3: T=0, S=01 (received, small delta), run length 221 -> 0 01 0000011011101 = 0x20DD,
        // followed by 221 one-byte deltas of 1 tick (250 us). 16 + 2 + 221 = 239 -> pad 1 to 240.
        var bytes = new List<byte>(Hex("AFCD003C 00000001 00000002 FFFE 00DD 000000 00 20DD"));
        bytes.AddRange(Enumerable.Repeat((byte)1, 221));
        bytes.Add(1); // padding count
        Assert.Equal(244, bytes.Count);
        Assert.True(TransportWideFeedback.TryParse(bytes.ToArray(), out var fb));
        var statuses = Statuses(fb);
        Assert.Equal(221, statuses.Count);
        Assert.All(statuses, s => Assert.Equal(TwccStatusSymbol.ReceivedSmallDelta, s.Symbol));
        Assert.Equal((ushort)0xFFFE, statuses[0].SequenceNumber);
        Assert.Equal((ushort)218, statuses[220].SequenceNumber); // wraps through 0
        Assert.Equal(TimeSpan.FromMilliseconds(221 * 0.25), statuses[220].ArrivalTime);
    }

    [Fact]
    public void One_bit_status_vector_chunk()
    {
        // §3.1.4: T=1 S=0, symbols 0 11111 000 111 00 -> 1 0 01111100011100 = 0x9F1C:
        // 1 lost, 5 received, 3 lost, 3 received, 2 lost; 8 one-byte deltas follow.
        var bytes = Hex("8FCD0007 00000001 00000002 0000 000E 000000 00 9F1C 0102030405060708 0000");
        Assert.True(TransportWideFeedback.TryParse(bytes, out var fb));
        var received = Statuses(fb).Select(s => s.Received ? 1 : 0);
        Assert.Equal(new[] { 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0 }, received);
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7, 8 }, Statuses(fb).Where(s => s.Received).Select(s => s.DeltaTicks));
    }

    [Theory]
    [InlineData("8FCD0005 00000001 00000002 0000 000E 000000 00 9F1C 0102")] // fewer deltas than received packets
    [InlineData("8FCD0004 00000001 00000002 0000 0020 000000 00")]           // status count without chunks
    [InlineData("8FCD0005 00000001 00000002 0000 0001 000000 00 7FFF 0000")] // reserved symbol 11 in a run
    [InlineData("8FCD0005 00000001 00000002 0000 0001 000000 00 F000 0000")] // reserved symbol in a 2-bit vector
    [InlineData("8FCD0003 00000001 00000002 0000 0001")]                     // fixed part truncated
    public void Malformed_feedback_is_rejected(string hex)
    {
        Assert.False(TransportWideFeedback.TryParse(Hex(hex), out _));
    }

    [Fact]
    public void Builder_rejects_out_of_order_and_out_of_range()
    {
        var builder = new TransportWideFeedbackBuilder(1, 2, 0);
        Assert.True(builder.TryAddReceivedPacket(100, TimeSpan.FromSeconds(1)));
        Assert.False(builder.TryAddReceivedPacket(100, TimeSpan.FromSeconds(1)));
        Assert.False(builder.TryAddReceivedPacket(99, TimeSpan.FromSeconds(1)));
        Assert.False(builder.TryAddReceivedPacket(101, TimeSpan.FromSeconds(20))); // > 8191.75 ms delta
        Assert.True(builder.TryAddReceivedPacket(101, TimeSpan.FromSeconds(2)));
        Assert.Equal(2, builder.PacketStatusCount);
    }

    private static readonly Gen<(ushort Start, long StartTicks, (int Step, int DeltaTicks)[] Records)> GenRecords =
        Gen.Select(Gen.UShort, Gen.Long[0, 10_000 * TimeSpan.TicksPerSecond],
            Gen.Select(Gen.Int[0, 60], Gen.Int[-400, 1200]).Array[1, 400]);

    [Fact]
    public void Builder_and_parser_round_trip()
    {
        GenRecords.Sample((start, startTicks, records) =>
        {
            var builder = new TransportWideFeedbackBuilder(7, 8, 9);
            var expected = new List<(ushort Seq, TimeSpan Arrival)>();
            int offset = 0;
            long arrival = startTicks - startTicks % 2500;
            foreach (var (stepRaw, deltaTicks) in records)
            {
                // mostly consecutive packets (to exercise run-length chunks), sometimes gaps
                int step = stepRaw < 45 ? 1 : stepRaw - 43;
                if (expected.Count > 0) offset += step;
                if (offset >= 65535) break;
                arrival = Math.Max(arrival + deltaTicks * 2500L, 0);
                var seq = (ushort)(start + offset);
                if (!builder.TryAddReceivedPacket(seq, TimeSpan.FromTicks(arrival))) break;
                expected.Add((seq, TimeSpan.FromTicks(arrival)));
            }
            var bytes = Write(builder);
            Assert.True(TransportWideFeedback.TryParse(bytes, out var fb));
            Assert.True(RtcpCompoundReader.Validate(bytes));
            Assert.Equal(start, fb.BaseSequenceNumber);
            Assert.Equal(9, fb.FeedbackPacketCount);
            var got = Statuses(fb);
            Assert.Equal(builder.PacketStatusCount, got.Count);
            var received = got.Where(s => s.Received).Select(s => (s.SequenceNumber, s.ArrivalTime)).ToList();
            // arrival times are reported relative to the 24-bit reference time: compare modulo its wrap
            long wrap = (1L << 24) * 64 * TimeSpan.TicksPerMillisecond;
            Assert.Equal(expected.Select(e => (e.Seq, e.Arrival.Ticks % wrap)), received.Select(r => (r.SequenceNumber, r.ArrivalTime.Ticks % wrap)));
            Assert.Equal(bytes, Write(fb)); // the parsed view re-serializes identically
        }, iter: 500);
    }
}

public class TransportWideFeedbackLongRunTests
{
    [Fact]
    public void Long_gaps_are_split_into_run_length_chunks_of_at_most_8191()
    {
        var builder = new TransportWideFeedbackBuilder(1, 2, 0);
        Assert.True(builder.TryAddReceivedPacket(65000, TimeSpan.FromMilliseconds(100)));
        Assert.True(builder.TryAddReceivedPacket(unchecked((ushort)(65000 + 20000)), TimeSpan.FromMilliseconds(200)));
        var buffer = new byte[builder.GetSerializedLength()];
        builder.WriteTo(buffer);
        Assert.True(TransportWideFeedback.TryParse(buffer, out var fb));
        Assert.Equal(20001, fb.PacketStatusCount);
        // 1 received, 19999 lost (8191 + 8191 + 3617), 1 received -> 5 run-length chunks
        Assert.Equal(10, fb.Chunks.Length);
        int received = 0, lost = 0;
        TimeSpan last = default;
        foreach (var s in fb)
        {
            if (s.Received) { received++; last = s.ArrivalTime; }
            else lost++;
        }
        Assert.Equal((2, 19999), (received, lost));
        Assert.Equal(TimeSpan.FromMilliseconds(200), last);
    }

    [Fact]
    public void Every_feedback_type_dispatches_from_one_compound_packet()
    {
        var buffer = new byte[1500];
        var w = new RtcpCompoundWriter(buffer);
        Span<NackPair> pairs = [new NackPair(10, 1)];
        var twcc = new TransportWideFeedbackBuilder(1, 2, 0);
        twcc.TryAddReceivedPacket(7, TimeSpan.FromSeconds(1));
        Assert.True(w.TryAppend(new SenderReport(1, 2, 3, 4, 5)));
        Assert.True(w.TryAppend(SourceDescription.ForCname(1, "c")));
        Assert.True(w.TryAppend(new TransportLayerNack(1, 2, pairs)));
        Assert.True(w.TryAppend(new PictureLossIndication(1, 2)));
        Assert.True(w.TryAppend(new FullIntraRequest(1, new[] { new FirEntry(2, 1) })));
        Assert.True(w.TryAppend(new ReceiverEstimatedMaxBitrate(1, 300_000, new SsrcEntry[] { 2 })));
        Assert.True(w.TryAppend(twcc));
        Assert.True(w.TryAppend(new Goodbye(new SsrcEntry[] { 1 })));
        var parsed = new List<string>();
        foreach (var p in new RtcpCompoundReader(w.Written))
        {
            parsed.Add((p.PacketType, p.Format) switch
            {
                (RtcpPacketType.SenderReport, _) when SenderReport.TryParse(p.Packet, out _) => "SR",
                (RtcpPacketType.SourceDescription, _) when SourceDescription.TryParse(p.Packet, out _) => "SDES",
                (RtcpPacketType.Goodbye, _) when Goodbye.TryParse(p.Packet, out _) => "BYE",
                (RtcpPacketType.TransportFeedback, TransportLayerNack.Format) when TransportLayerNack.TryParse(p.Packet, out _) => "NACK",
                (RtcpPacketType.TransportFeedback, TransportWideFeedback.Format) when TransportWideFeedback.TryParse(p.Packet, out _) => "TWCC",
                (RtcpPacketType.PayloadSpecificFeedback, PictureLossIndication.Format) when PictureLossIndication.TryParse(p.Packet, out _) => "PLI",
                (RtcpPacketType.PayloadSpecificFeedback, FullIntraRequest.Format) when FullIntraRequest.TryParse(p.Packet, out _) => "FIR",
                (RtcpPacketType.PayloadSpecificFeedback, ReceiverEstimatedMaxBitrate.Format) when ReceiverEstimatedMaxBitrate.TryParse(p.Packet, out _) => "REMB",
                _ => "?",
            });
        }
        Assert.Equal(new[] { "SR", "SDES", "NACK", "PLI", "FIR", "REMB", "TWCC", "BYE" }, parsed);
        Assert.True(RtcpCompoundReader.Validate(w.Written));
    }
}

/// <summary>Vectors of real browser-generated feedback, as published in Pion's rtcp test suite.</summary>
public class TransportWideFeedbackInteropVectorTests
{
    [Fact]
    public void Parses_browser_packet_with_vector_and_overlong_run_chunk()
    {
        // base 34108, count 9, ref 6551830, fb 179; 2-bit vector [1 1 1 1 1 0 2] then a run of 48 "not received"
        // (longer than the 2 remaining statuses); deltas 155,170,106,170,123 ticks and a large 265; P=1, 1 pad byte.
        var bytes = Hex("AFCD0007 9B74F61F 9371DCBC 853C0009 63F916B3 D5520030 9BAA6AAA 7B010901");
        Assert.True(TransportWideFeedback.TryParse(bytes, out var fb));
        Assert.Equal((34108, 9, 6551830u, 179), (fb.BaseSequenceNumber, fb.PacketStatusCount, fb.ReferenceTimeRaw, fb.FeedbackPacketCount));
        var statuses = new List<TwccPacketStatus>();
        foreach (var s in fb) statuses.Add(s);
        Assert.Equal(new[] { 1, 1, 1, 1, 1, 0, 2, 0, 0 }, statuses.Select(s => (int)s.Symbol));
        Assert.Equal(new[] { 155, 170, 106, 170, 123, 0, 265, 0, 0 }, statuses.Select(s => s.DeltaTicks));
        Assert.Equal(Enumerable.Range(34108, 9).Select(i => (ushort)i), statuses.Select(s => s.SequenceNumber));
        Assert.Equal(fb.ReferenceTime + TimeSpan.FromMicroseconds(38750), statuses[0].ArrivalTime);
    }

    [Theory]
    [InlineData("AFCD0005 FA17FA17 43032FA0 00990003 3DE80217 20039401")] // 3 small deltas, only 1 byte before padding
    [InlineData("AFCD0005 FA17FA17 43032FA0 00990002 3DE80217 40029401")] // 2 large deltas, only 1 byte
    public void Rejects_browser_packets_with_missing_deltas(string hex)
    {
        Assert.False(TransportWideFeedback.TryParse(Hex(hex), out _));
    }

    [Fact]
    public void Builder_reproduces_published_run_length_packet()
    {
        // base 4, 7 packets with small deltas 19, 9, 9, 4, 3, 3, 4 ms after reference time 1074030 x 64 ms.
        var builder = new TransportWideFeedbackBuilder(0xFA17FA17, 0x193DD8BB, 1);
        var t = TimeSpan.FromMilliseconds(1074030L * 64);
        int[] deltasMs = [19, 9, 9, 4, 3, 3, 4];
        for (int i = 0; i < 7; i++)
        {
            t += TimeSpan.FromMilliseconds(deltasMs[i]);
            Assert.True(builder.TryAddReceivedPacket((ushort)(4 + i), t));
        }
        Assert.Equal(Hex("AFCD0007 FA17FA17 193DD8BB 00040007 10636E01 20074C24 24100C0C 10000003"), Write(builder));
    }
}
