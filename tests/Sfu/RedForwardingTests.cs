using System.Buffers.Binary;
using CsCheck;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

/// <summary>RED (RFC 2198) per leg: forwarded as it came, stripped to the primary Opus block, lost packets rebuilt from
/// the redundancy, malformed payloads dropped; and the downlink gate's hysteresis.</summary>
public class RedForwardingTests
{
    private const byte Red = 63, Opus = 111;
    private const uint Ssrc = 0xCAFEBABE;
    private const uint Frame = 960; // 20 ms at 48 kHz

    private static readonly CodecDescription[] PublisherCodecs =
        [new(Red, "red", 48000, 2, "111/111"), new(Opus, "opus", 48000, 2, "minptime=10;useinbandfec=1")];

    private static RedForwarder Forwarder(bool receiverHasRed, bool forwardRed = false, byte receiverOpus = Opus, byte receiverRed = Red)
    {
        CodecDescription[] subscriber = receiverHasRed
            ? [new(receiverRed, "red", 48000, 2, $"{receiverOpus}/{receiverOpus}"), new(receiverOpus, "opus", 48000, 2)]
            : [new(receiverOpus, "opus", 48000, 2)];
        var forwarder = new RedForwarder(PayloadTypeMap.Build(PublisherCodecs, subscriber));
        if (forwardRed) forwarder.Gate.Update(20, 0, 0, TimeSpan.Zero);
        return forwarder;
    }

    /// <summary>Frame n's Opus data: 30 + n % 7 bytes starting with n.</summary>
    private static byte[] FrameData(int n)
    {
        var data = new byte[30 + n % 7];
        for (var i = 0; i < data.Length; i++) data[i] = (byte)(n + i);
        return data;
    }

    /// <summary>The RED packet a browser sends for frame n: frames n-distance..n-1 redundant, n primary.</summary>
    private static byte[] RedPacket(int n, int distance = 1)
    {
        var redundant = new List<RedundantBlock>();
        for (var d = distance; d >= 1; d--)
            if (n - d >= 0) redundant.Add(new RedundantBlock(Opus, (ushort)(d * Frame), FrameData(n - d)));
        var primary = FrameData(n);
        var payload = new byte[RedPayload.GetSerializedLength(redundant.ToArray(), primary.Length)];
        RedPayload.Write(payload, Opus, primary, redundant.ToArray());
        return WithPayload(Red, (ushort)(1000 + n), (uint)(5000 + n * Frame), payload);
    }

    private static byte[] WithPayload(byte pt, ushort seq, uint ts, byte[] payload)
    {
        var packet = MakeRtp(Ssrc, seq, ts, pt, payloadLength: payload.Length, extensions: [(1, [0x8A])]);
        var header = packet.Length - payload.Length;
        payload.CopyTo(packet, header);
        return packet;
    }

    private static List<(RedOutput Kind, byte[] Packet)> Run(RedForwarder forwarder, byte[] packet)
    {
        var output = new List<(RedOutput, byte[])>();
        var cursor = default(RedCursor);
        var destination = new byte[1500];
        int length;
        while ((length = forwarder.Next(packet, ref cursor, destination)) > 0) output.Add((cursor.Last, destination[..length]));
        return output;
    }

    private static (byte Pt, ushort Seq, uint Ts, byte[] Payload) Read(byte[] packet)
    {
        Assert.True(RtpPacketReader.TryParse(packet, out var rtp));
        return (rtp.PayloadType, rtp.SequenceNumber, rtp.Timestamp, rtp.Payload.ToArray());
    }

    [Fact]
    public void A_receiver_without_red_gets_the_primary_as_plain_opus()
    {
        var forwarder = Forwarder(receiverHasRed: false);
        for (var n = 0; n < 5; n++)
        {
            var (kind, packet) = Assert.Single(Run(forwarder, RedPacket(n)));
            Assert.Equal(RedOutput.Stripped, kind);
            var (pt, seq, ts, payload) = Read(packet);
            Assert.Equal(Opus, pt); // the caller maps it to the receiver's Opus
            Assert.Equal(1000 + n, seq);
            Assert.Equal(5000 + (uint)n * Frame, ts); // RFC 2198 §3: the header's timestamp is the primary's
            Assert.Equal(FrameData(n), payload);
        }
    }

    [Fact]
    public void A_red_receiver_is_stripped_until_its_gate_opens_and_then_gets_red_as_it_came()
    {
        var forwarder = Forwarder(receiverHasRed: true);
        Assert.False(forwarder.ForwardsRed);
        Assert.Equal(RedOutput.Stripped, Assert.Single(Run(forwarder, RedPacket(1))).Kind);
        forwarder.Gate.Update(RedDownlinkGate.OnLoss, 0, 0, TimeSpan.Zero);
        var original = RedPacket(2);
        var (kind, packet) = Assert.Single(Run(forwarder, original));
        Assert.Equal(RedOutput.Red, kind);
        Assert.Equal(original, packet);
    }

    [Fact]
    public void Red_to_a_receiver_with_other_payload_types_maps_the_blocks()
    {
        var forwarder = Forwarder(receiverHasRed: true, forwardRed: true, receiverOpus: 109, receiverRed: 100);
        var (kind, packet) = Assert.Single(Run(forwarder, RedPacket(3, distance: 2)));
        Assert.Equal(RedOutput.Red, kind);
        var (pt, _, _, payload) = Read(packet);
        Assert.Equal(Red, pt); // the caller's payload type map makes it 100
        var blocks = new RedBlock[4];
        Assert.True(RedPayload.TryParse(payload, blocks, out var count));
        Assert.Equal(3, count);
        Assert.All(blocks[..count], b => Assert.Equal(109, b.PayloadType));
        Assert.Equal(FrameData(3), payload.AsSpan(blocks[2].Offset, blocks[2].Length).ToArray());
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    public void A_packet_lost_on_the_uplink_is_rebuilt_from_the_next_ones_redundancy(int lost, int distance)
    {
        var forwarder = Forwarder(receiverHasRed: false);
        Run(forwarder, RedPacket(10, distance));
        var after = 11 + lost;
        var output = Run(forwarder, RedPacket(after, distance));
        Assert.Equal(lost + 1, output.Count);
        for (var i = 0; i < lost; i++)
        {
            Assert.Equal(RedOutput.Recovered, output[i].Kind);
            var (pt, seq, ts, payload) = Read(output[i].Packet);
            var n = 11 + i;
            Assert.Equal(Opus, pt);
            Assert.Equal(1000 + n, seq);
            Assert.Equal(5000 + (uint)n * Frame, ts);
            Assert.Equal(FrameData(n), payload);
        }
        Assert.Equal(RedOutput.Stripped, output[^1].Kind);
        Assert.Equal(lost, forwarder.Recovery.Recovered);
    }

    [Fact]
    public void A_gap_longer_than_the_redundancy_or_a_late_packet_rebuilds_nothing()
    {
        var forwarder = Forwarder(receiverHasRed: false);
        Run(forwarder, RedPacket(10));
        Assert.Single(Run(forwarder, RedPacket(13))); // 11 and 12 lost; 13 carries 12 only: not a single-packet gap
        var late = Run(forwarder, RedPacket(12));     // a late packet: forwarded, nothing rebuilt
        Assert.Equal(RedOutput.Stripped, Assert.Single(late).Kind);
        Assert.Equal(0, forwarder.Recovery.Recovered);
    }

    [Fact]
    public void A_block_whose_timestamp_is_not_the_lost_frames_is_not_used()
    {
        var forwarder = Forwarder(receiverHasRed: false);
        Run(forwarder, RedPacket(10));
        // Packet 12 carries a redundant block from before packet 10 (DTX, or another distance): not packet 11.
        var payload = new byte[100];
        var length = RedPayload.Write(payload, Opus, FrameData(12), [new RedundantBlock(Opus, (ushort)(3 * Frame), FrameData(9))]);
        var output = Run(forwarder, WithPayload(Red, 1012, 5000 + 12 * Frame, payload[..length]));
        Assert.Equal(RedOutput.Stripped, Assert.Single(output).Kind);
    }

    [Fact]
    public void Plain_opus_from_a_red_publisher_goes_as_it_came()
    {
        var forwarder = Forwarder(receiverHasRed: true, forwardRed: true);
        var plain = WithPayload(Opus, 1000, 5000, FrameData(0));
        var (kind, packet) = Assert.Single(Run(forwarder, plain));
        Assert.Equal(RedOutput.Plain, kind);
        Assert.Equal(plain, packet);
        // and its sequence number counts for a stripped leg's recovery: 1002 after 1000 rebuilds 1001
        var stripped = Forwarder(receiverHasRed: false);
        Assert.Equal(RedOutput.Plain, Assert.Single(Run(stripped, plain)).Kind);
        var output = Run(stripped, RedPacket(2));
        Assert.Equal(RedOutput.Recovered, output[0].Kind);
    }

    public static TheoryData<string, byte[]> MalformedPayloads => new()
    {
        { "empty", [] },
        { "truncated redundant header", [0x80 | Opus, 0x00, 0x0F] },
        { "headers only, no primary header", [0x80 | Opus, 0x00, 0x0F, 0x05] },
        { "block length past the end", [0x80 | Opus, 0x0F, 0x00, 0x20, Opus, 1, 2, 3] },
        { "two blocks, the second past the end", [0x80 | Opus, 0x0F, 0x00, 0x01, 0x80 | Opus, 0x07, 0x80, 0x40, Opus, 9, 9] },
        { "empty primary", [0x80 | Opus, 0x0F, 0x00, 0x02, Opus, 1, 2] },
        { "primary header only", [Opus] },
    };

    [Theory]
    [MemberData(nameof(MalformedPayloads))]
    public void Malformed_red_is_dropped_for_every_receiver(string what, byte[] payload)
    {
        foreach (var forwarder in new[] { Forwarder(false), Forwarder(true, forwardRed: true) })
        {
            Run(forwarder, RedPacket(0));
            var cursor = default(RedCursor);
            Assert.Equal(0, forwarder.Next(WithPayload(Red, 1001, 5000 + Frame, payload), ref cursor, new byte[1500]));
            Assert.True(cursor.Dropped, what);
            // The next packet fills the hole for a stripped leg; a RED leg's browser does it itself.
            var next = Run(forwarder, RedPacket(2));
            Assert.Equal(forwarder.ForwardsRed ? 1 : 2, next.Count);
        }
    }

    [Fact]
    public void Several_redundant_blocks_are_forwarded_or_stripped_safely()
    {
        // RFC 2198 allows many blocks; a sender with three (one more than WebRTC sends) is handled like any.
        var packet = RedPacket(10, distance: 3);
        Assert.Equal(RedOutput.Red, Assert.Single(Run(Forwarder(true, forwardRed: true), packet)).Kind);
        var (kind, stripped) = Assert.Single(Run(Forwarder(false), packet));
        Assert.Equal(RedOutput.Stripped, kind);
        Assert.Equal(FrameData(10), Read(stripped).Payload);
    }

    [Fact]
    public void A_block_of_a_codec_the_receiver_lacks_is_stripped_to_the_primary_instead()
    {
        var payload = new byte[100];
        var length = RedPayload.Write(payload, Opus, FrameData(5), [new RedundantBlock(9, (ushort)Frame, FrameData(4))]); // G722 block
        var packet = WithPayload(Red, 1005, 5000 + 5 * Frame, payload[..length]);
        var (kind, stripped) = Assert.Single(Run(Forwarder(true, forwardRed: true), packet));
        Assert.Equal(RedOutput.Stripped, kind);
        Assert.Equal(FrameData(5), Read(stripped).Payload);
    }

    [Fact]
    public void Random_bytes_after_a_red_header_never_throw()
    {
        Gen.Byte.Array[0, 80].Sample(payload =>
        {
            foreach (var forwarder in new[] { Forwarder(false), Forwarder(true, forwardRed: true) })
            {
                Run(forwarder, RedPacket(0));
                var output = Run(forwarder, WithPayload(Red, 1002, 5000 + 2 * Frame, payload));
                foreach (var (_, packet) in output) Assert.True(RtpPacketReader.TryParse(packet, out _));
            }
        }, iter: 2000);
    }

    [Fact]
    public void The_gate_opens_at_2_percent_and_closes_after_10_s_below_1_percent()
    {
        var gate = new RedDownlinkGate();
        var t = TimeSpan.Zero;
        Assert.False(gate.Update(4, 0, 0, t)); // 1.6 %
        Assert.True(gate.Update(5, 0, 0, t += TimeSpan.FromSeconds(1)));
        Assert.True(gate.Update(0, 0, 0, t += TimeSpan.FromSeconds(5)));
        Assert.True(gate.Update(3, 0, 0, t += TimeSpan.FromSeconds(5))); // 1.2 % keeps it
        Assert.True(gate.Update(0, 0, 0, t += TimeSpan.FromSeconds(9)));
        Assert.False(gate.Update(0, 0, 0, t += TimeSpan.FromSeconds(2)));
        Assert.Equal(2, gate.Switches);
    }

    [Fact]
    public void The_gate_wants_twice_the_red_rate_in_the_estimate()
    {
        var gate = new RedDownlinkGate();
        Assert.False(gate.Update(25, estimateBps: 50_000, redBps: 32_000, TimeSpan.Zero)); // GPRS/EDGE-like leg
        Assert.True(gate.Update(25, estimateBps: 64_000, redBps: 32_000, TimeSpan.FromSeconds(1)));
        Assert.False(gate.Update(25, estimateBps: 40_000, redBps: 32_000, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Payload_type_map_knows_the_publishers_red_and_whether_the_receiver_has_it()
    {
        var withRed = PayloadTypeMap.Build(PublisherCodecs, [new(100, "red", 48000, 2, "109/109"), new(109, "opus", 48000, 2)]);
        Assert.Equal(Red, withRed.PublisherRedPayloadType);
        Assert.True(withRed.SubscriberHasRed);
        Assert.True(withRed.TryMap(Red, out var mapped) && mapped == 100);
        var without = PayloadTypeMap.Build(PublisherCodecs, [new(109, "opus", 48000, 2)]);
        Assert.False(without.SubscriberHasRed);
        Assert.False(PayloadTypeMap.Build([new(Opus, "opus", 48000, 2)], [new(Opus, "opus", 48000, 2)]).SubscriberHasRed);
    }

    [Fact]
    public void Forward_and_strip_allocate_nothing()
    {
        var red = Forwarder(true, forwardRed: true);
        var strip = Forwarder(false);
        var packets = Enumerable.Range(0, 64).Select(n => RedPacket(n)).ToArray();
        var destination = new byte[1500];
        void Once()
        {
            foreach (var packet in packets)
            {
                foreach (var forwarder in new[] { red, strip })
                {
                    var cursor = default(RedCursor);
                    while (forwarder.Next(packet, ref cursor, destination) > 0) { }
                }
            }
        }
        Once();
        Assert.Equal(0, TeleRehab.Media.Tests.Support.Allocations.FewestBytes(3, _ =>
        {
            for (var i = 0; i < packets.Length; i++)
            {
                var cursor = default(RedCursor);
                while (strip.Next(packets[i], ref cursor, destination) > 0) { }
                cursor = default;
                while (red.Next(packets[i], ref cursor, destination) > 0) { }
            }
        }));
    }
}
