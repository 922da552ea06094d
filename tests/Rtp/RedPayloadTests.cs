using CsCheck;
using TeleRehab.Media.Rtp;
using static TeleRehab.Media.Tests.Rtp.RtpPacketReaderTests;

namespace TeleRehab.Media.Tests.Rtp;

public class RedPayloadTests
{
    private const byte RedType = 63;  // a browser's usual red/48000/2
    private const byte OpusType = 111;

    private static byte[] Fill(int length, byte first)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = (byte)(first + i);
        return bytes;
    }

    /// <summary>An RTP packet with two CSRCs, two one-byte extensions and optional padding around a RED payload.</summary>
    private static byte[] RtpPacket(byte[] redPayload, uint timestamp = 0x01020304, bool marker = true, int padding = 0)
    {
        var buffer = new byte[64 + redPayload.Length + padding];
        var writer = new RtpHeaderWriter(buffer, RedType, sequenceNumber: 0x1234, timestamp, ssrc: 0xCAFEBABE, marker,
            csrcs: [0x11111111, 0x22222222]);
        writer.AddExtension(1, [0x8A]);             // audio level
        writer.AddExtension(3, [0x0F, 0xA0]);       // transport-wide sequence number
        int header = writer.Finish();
        redPayload.CopyTo(buffer, header);
        int total = header + redPayload.Length;
        if (padding > 0) total = RtpHeaderWriter.AddPadding(buffer, total, padding);
        return buffer[..total];
    }

    // ---- RFC 2198 §3/§4 layouts -------------------------------------------------------------------------------

    [Fact]
    public void Parses_the_section_4_example_one_redundant_block_and_a_primary()
    {
        // §4: one redundant LPC block (PT 7, 14 bytes) and a DVI4 primary (PT 5, 84 bytes); the offset here is one
        // 20 ms frame at 8 kHz (160). Header word: F=1 | PT=0000111 | offset=00000010100000 | length=0000001110.
        var lpc = Fill(14, 0x10);
        var dvi4 = Fill(84, 0x80);
        var payload = Hex("87 02 80 0E  05").Concat(lpc).Concat(dvi4).ToArray();

        var blocks = new RedBlock[4];
        Assert.True(RedPayload.TryParse(payload, blocks, out int count));
        Assert.Equal(2, count);
        Assert.Equal(new RedBlock(PayloadType: 7, TimestampOffset: 160, Offset: 5, Length: 14), blocks[0]);
        Assert.Equal(new RedBlock(PayloadType: 5, TimestampOffset: 0, Offset: 19, Length: 84), blocks[1]);
        Assert.Equal(lpc, payload.AsSpan(blocks[0].Offset, blocks[0].Length).ToArray());
        Assert.Equal(dvi4, payload.AsSpan(blocks[1].Offset, blocks[1].Length).ToArray());

        // The same payload written from its parts.
        var written = new byte[RedPayload.GetSerializedLength([new RedundantBlock(7, 160, lpc)], dvi4.Length)];
        Assert.Equal(payload.Length, written.Length);
        Assert.Equal(written.Length, RedPayload.Write(written, 5, dvi4, [new RedundantBlock(7, 160, lpc)]));
        Assert.Equal(payload, written);
    }

    [Fact]
    public void Header_fields_take_their_full_widths()
    {
        // All ones: F=1, PT=127, offset=2^14-1, length=2^10-1; then the primary's F=0, PT=0.
        var payload = Hex("FFFFFFFF 00").Concat(new byte[RedPayload.MaxBlockLength + 3]).ToArray();
        var blocks = new RedBlock[2];
        Assert.True(RedPayload.TryParse(payload, blocks, out int count));
        Assert.Equal(2, count);
        Assert.Equal(new RedBlock(127, RedPayload.MaxTimestampOffset, 5, 1023), blocks[0]);
        Assert.Equal(new RedBlock(0, 0, 5 + 1023, 3), blocks[1]);

        // A zero-length redundant block with offset 1 and PT 0: F=1 only, offset's lowest bit is bit 10.
        Assert.True(RedPayload.TryParse(Hex("80000400 7F AA"), blocks, out count));
        Assert.Equal(new RedBlock(0, 1, 5, 0), blocks[0]);
        Assert.Equal(new RedBlock(127, 0, 5, 1), blocks[1]);
    }

    [Fact]
    public void Parses_webrtc_opus_red_with_two_redundant_frames_oldest_first()
    {
        // libwebrtc's order: the frame of 40 ms ago, then 20 ms ago (offsets 1920 and 960 at 48 kHz), then the primary.
        var old = Fill(70, 1);
        var previous = Fill(75, 2);
        var primary = Fill(80, 3);
        // EF = F=1 PT=111; 1920 << 10 | 70 = 0x1E0046; 960 << 10 | 75 = 0x0F004B; 6F = F=0 PT=111.
        var payload = Hex("EF1E0046 EF0F004B 6F").Concat(old).Concat(previous).Concat(primary).ToArray();
        Span<RedBlock> blocks = stackalloc RedBlock[3];
        Assert.True(RedPayload.TryParse(payload, blocks, out int count));
        Assert.Equal(3, count);
        Assert.Equal(new RedBlock(OpusType, 1920, 9, 70), blocks[0]);
        Assert.Equal(new RedBlock(OpusType, 960, 79, 75), blocks[1]);
        Assert.Equal(new RedBlock(OpusType, 0, 154, 80), blocks[2]);
        Assert.Equal(payload.Length, blocks[2].Offset + blocks[2].Length);
    }

    [Fact]
    public void A_primary_alone_has_the_one_byte_header()
    {
        var blocks = new RedBlock[1];
        Assert.True(RedPayload.TryParse(Hex("6F 0102 03"), blocks, out int count));
        Assert.Equal(1, count);
        Assert.Equal(new RedBlock(OpusType, 0, 1, 3), blocks[0]);

        // §3 allows an empty primary: it parses, with length 0.
        Assert.True(RedPayload.TryParse(Hex("6F"), blocks, out count));
        Assert.Equal(new RedBlock(OpusType, 0, 1, 0), blocks[0]);

        var written = new byte[4];
        Assert.Equal(4, RedPayload.Write(written, OpusType, Hex("010203"), []));
        Assert.Equal(Hex("6F 010203"), written);
    }

    [Theory]
    [InlineData("")]                        // empty payload
    [InlineData("EF")]                      // F=1 header cut after 1 byte
    [InlineData("EF0F00")]                  // ... after 3 bytes
    [InlineData("EF0F0000")]                // complete header, no final header
    [InlineData("EF0F0000 EF0F0000")]       // two headers, no final header
    [InlineData("EF0F0001 6F")]             // block length 1, no data
    [InlineData("EF0F0003 6F AABB")]        // block length 3, 2 bytes of data
    [InlineData("EF0F0002 EF0F0002 6F AABB CC")] // second block runs past the end
    [InlineData("EF0F03FF 6F 00")]          // maximum block length, almost nothing there
    public void Malformed_payloads_are_rejected(string hex)
    {
        var payload = Hex(hex);
        var blocks = new RedBlock[8];
        Assert.False(RedPayload.TryParse(payload, blocks, out int count));
        Assert.Equal(0, count);

        var packet = RtpPacket(payload);
        var destination = new byte[packet.Length];
        Assert.False(RedPayload.TryStripToPrimary(packet, destination, out int written));
        Assert.Equal(0, written);
        Assert.False(RedPayload.TryExtractRedundant(packet, 0, 1, destination, out written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void More_blocks_than_the_span_holds_is_rejected()
    {
        var payload = Hex("EF0F0001 EF0F0001 6F AA BB CC");
        Assert.False(RedPayload.TryParse(payload, new RedBlock[0], out int count));
        Assert.Equal(0, count);
        Assert.False(RedPayload.TryParse(payload, new RedBlock[1], out count));
        Assert.False(RedPayload.TryParse(payload, new RedBlock[2], out count));
        Assert.Equal(0, count);
        Assert.True(RedPayload.TryParse(payload, new RedBlock[3], out count));
        Assert.Equal(3, count);
        Assert.False(RedPayload.TryParse(Hex("6F AA"), new RedBlock[0], out _)); // no room even for the primary
    }

    // ---- Write -------------------------------------------------------------------------------------------------

    [Fact]
    public void Write_rejects_fields_that_do_not_fit_and_writes_nothing()
    {
        var destination = new byte[2048];
        byte[] frame = [1, 2, 3];
        Assert.Throws<ArgumentOutOfRangeException>(() => RedPayload.Write(destination, 128, frame, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => RedPayload.Write(destination, OpusType, frame, [new RedundantBlock(128, 960, frame)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RedPayload.Write(destination, OpusType, frame, [new RedundantBlock(OpusType, 16384, frame)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RedPayload.Write(destination, OpusType, frame, [new RedundantBlock(OpusType, 960, new byte[1024])]));
        Assert.All(destination, b => Assert.Equal(0, b));

        // Limits themselves are fine.
        Assert.Equal(4 + 1 + 1023 + 3, RedPayload.Write(destination, 127, frame, [new RedundantBlock(127, 16383, new byte[1023])]));

        var small = new byte[RedPayload.GetSerializedLength([new RedundantBlock(OpusType, 960, frame)], frame.Length) - 1];
        Assert.Throws<ArgumentException>(() => RedPayload.Write(small, OpusType, frame, [new RedundantBlock(OpusType, 960, frame)]));
        Assert.All(small, b => Assert.Equal(0, b));
    }

    // ---- Strip to the primary ----------------------------------------------------------------------------------

    [Fact]
    public void Strip_keeps_the_header_and_changes_only_the_payload_type_the_P_bit_and_the_payload()
    {
        var primary = Fill(80, 0x40);
        var red = Hex("EF0F0003 6F AABBCC").Concat(primary).ToArray();
        var packet = RtpPacket(red, padding: 4);
        Assert.True(RtpPacketReader.TryParse(packet, out var source));
        int header = source.HeaderLength;
        Assert.Equal(12 + 8 + 4 + 8, header);

        var destination = new byte[packet.Length];
        Assert.True(RedPayload.TryStripToPrimary(packet, destination, out int written));
        Assert.Equal(header + primary.Length, written);

        // Byte 0: V=2 P=1 X=1 CC=2 (0xB2) becomes P=0 (0x92); byte 1: M=1 PT=63 (0xBF) becomes M=1 PT=111 (0xEF).
        Assert.Equal(0xB2, packet[0]);
        Assert.Equal(0x92, destination[0]);
        Assert.Equal(0xBF, packet[1]);
        Assert.Equal(0xEF, destination[1]);
        Assert.Equal(packet[2..header], destination[2..header]); // seq, timestamp, SSRC, CSRCs, extensions
        Assert.Equal(primary, destination[header..written]);

        Assert.True(RtpPacketReader.TryParse(destination.AsSpan(0, written), out var plain));
        Assert.Equal(OpusType, plain.PayloadType);
        Assert.True(plain.Marker);
        Assert.False(plain.HasPadding);
        Assert.Equal(0x1234, plain.SequenceNumber);
        Assert.Equal(0x01020304u, plain.Timestamp);
        Assert.Equal(0xCAFEBABEu, plain.Ssrc);
        Assert.Equal(0x22222222u, plain.GetCsrc(1));
        Assert.True(plain.TryGetExtension(3, out var twcc));
        Assert.Equal(new byte[] { 0x0F, 0xA0 }, twcc.ToArray());
    }

    [Fact]
    public void Strip_works_in_place()
    {
        var primary = Fill(50, 9);
        var packet = RtpPacket(Hex("EF0F0004 EF078002 6F").Concat(Fill(6, 0xF0)).Concat(primary).ToArray(), padding: 3);
        var expected = new byte[packet.Length];
        Assert.True(RedPayload.TryStripToPrimary(packet, expected, out int length));

        Assert.True(RedPayload.TryStripToPrimary(packet, packet, out int written));
        Assert.Equal(length, written);
        Assert.Equal(expected[..length], packet[..written]);
    }

    [Fact]
    public void Strip_needs_room_for_the_header_and_the_primary()
    {
        var packet = RtpPacket(Hex("EF0F0002 6F AABB 010203"));
        Assert.True(RtpPacketReader.TryParse(packet, out var source));
        int needed = source.HeaderLength + 3;
        Assert.False(RedPayload.TryStripToPrimary(packet, new byte[needed - 1], out int written));
        Assert.Equal(0, written);
        Assert.True(RedPayload.TryStripToPrimary(packet, new byte[needed], out written));
        Assert.Equal(needed, written);
    }

    [Fact]
    public void Strip_rejects_an_empty_primary_and_a_malformed_rtp_packet()
    {
        var destination = new byte[256];
        // Only redundancy left: legal RED, but a plain packet without payload has nothing to decode.
        Assert.False(RedPayload.TryStripToPrimary(RtpPacket(Hex("EF0F0002 6F AABB")), destination, out _));
        Assert.False(RedPayload.TryStripToPrimary(RtpPacket([]), destination, out _));          // no RED header at all
        Assert.False(RedPayload.TryStripToPrimary(RtpPacket([], padding: 4), destination, out _)); // padding only
        Assert.False(RedPayload.TryStripToPrimary(Hex("80BF 0001 00000002"), destination, out _)); // short RTP header
        Assert.False(RedPayload.TryStripToPrimary(Hex("40BF 0001 00000002 00000003 6FAA"), destination, out _)); // V=1
        Assert.False(RedPayload.TryStripToPrimary([], destination, out _));
        // The RED payload ends where the padding starts: a block "hidden" in the padding does not count.
        Assert.False(RedPayload.TryStripToPrimary(RtpPacket(Hex("EF0F0004 6F AABB"), padding: 2), destination, out _));
    }

    // ---- Extract a redundant block -----------------------------------------------------------------------------

    [Theory]
    [InlineData(0x01020304u, 960, 0x01020304u - 960)]
    [InlineData(100u, 960, 4294966436u)]                   // across the 32-bit wrap: 2^32 + 100 - 960
    [InlineData(0u, 1, uint.MaxValue)]
    [InlineData(0u, 16383, 4294950913u)]                   // 2^32 - 16383
    [InlineData(uint.MaxValue, 16383, uint.MaxValue - 16383)]
    public void Extract_rebuilds_the_packet_a_redundant_block_stood_for(uint timestamp, int offset, uint expected)
    {
        var older = Fill(60, 0x20);
        var primary = Fill(80, 0x40);
        var red = new byte[RedPayload.GetSerializedLength([new RedundantBlock(OpusType, (ushort)offset, older)], primary.Length)];
        RedPayload.Write(red, OpusType, primary, [new RedundantBlock(OpusType, (ushort)offset, older)]);
        var packet = RtpPacket(red, timestamp, marker: true, padding: 5);
        Assert.True(RtpPacketReader.TryParse(packet, out var source));
        int header = source.HeaderLength;

        var destination = new byte[packet.Length];
        Assert.True(RedPayload.TryExtractRedundant(packet, 0, 0x1233, destination, out int written));
        Assert.Equal(header + older.Length, written);
        Assert.True(RtpPacketReader.TryParse(destination.AsSpan(0, written), out var plain));
        Assert.Equal(OpusType, plain.PayloadType);
        Assert.False(plain.Marker);
        Assert.False(plain.HasPadding);
        Assert.Equal(0x1233, plain.SequenceNumber);
        Assert.Equal(expected, plain.Timestamp);
        Assert.Equal(0xCAFEBABEu, plain.Ssrc);
        Assert.Equal(packet[8..header], destination[8..header]); // SSRC, CSRCs, extensions byte for byte
        Assert.Equal(packet[0] & ~0x20, destination[0]);
        Assert.Equal(older, plain.Payload.ToArray());
    }

    [Fact]
    public void Extract_finds_each_redundant_block_by_index()
    {
        var payload = Hex("EF1E0003 EF0F0002 6F AABBCC DDEE 010203");
        var packet = RtpPacket(payload, timestamp: 48_000);
        var destination = new byte[packet.Length];

        Assert.True(RedPayload.TryExtractRedundant(packet, 0, 7, destination, out int written));
        Assert.True(RtpPacketReader.TryParse(destination.AsSpan(0, written), out var first));
        Assert.Equal(48_000u - 1920, first.Timestamp);
        Assert.Equal(Hex("AABBCC"), first.Payload.ToArray());

        Assert.True(RedPayload.TryExtractRedundant(packet, 1, 8, destination, out written));
        Assert.True(RtpPacketReader.TryParse(destination.AsSpan(0, written), out var second));
        Assert.Equal(48_000u - 960, second.Timestamp);
        Assert.Equal(8, second.SequenceNumber);
        Assert.Equal(Hex("DDEE"), second.Payload.ToArray());

        // The primary is not a redundant block; nor is anything past it or before the first.
        Assert.False(RedPayload.TryExtractRedundant(packet, 2, 9, destination, out written));
        Assert.Equal(0, written);
        Assert.False(RedPayload.TryExtractRedundant(packet, 3, 9, destination, out _));
        Assert.False(RedPayload.TryExtractRedundant(packet, -1, 9, destination, out _));

        Assert.True(RtpPacketReader.TryParse(packet, out var source));
        Assert.False(RedPayload.TryExtractRedundant(packet, 1, 8, new byte[source.HeaderLength + 1], out _));
        Assert.True(RedPayload.TryExtractRedundant(packet, 1, 8, new byte[source.HeaderLength + 2], out _));
    }

    [Fact]
    public void Extract_rejects_an_empty_redundant_block()
    {
        var packet = RtpPacket(Hex("EF0F0000 6F 010203"));
        Assert.False(RedPayload.TryExtractRedundant(packet, 0, 1, new byte[256], out int written));
        Assert.Equal(0, written);
    }

    // ---- Properties --------------------------------------------------------------------------------------------

    private static readonly Gen<RedundantBlock[]> GenRedundant =
        Gen.Select(Gen.Byte[0, 127], Gen.Int[0, RedPayload.MaxTimestampOffset], Gen.Byte.Array[0, 120],
            (pt, offset, data) => new RedundantBlock(pt, (ushort)offset, data)).Array[0, 4];

    [Fact]
    public void Write_then_parse_strip_and_extract_round_trip()
    {
        Gen.Select(GenRedundant, Gen.Byte[0, 127], Gen.Byte.Array[1, 200], Gen.UInt, Gen.Int[0, 20], Gen.UShort)
            .Sample((redundant, primaryType, primary, timestamp, padding, seq) =>
            {
                var red = new byte[RedPayload.GetSerializedLength(redundant, primary.Length)];
                Assert.Equal(red.Length, RedPayload.Write(red, primaryType, primary, redundant));

                var blocks = new RedBlock[redundant.Length + 1];
                Assert.True(RedPayload.TryParse(red, blocks, out int count));
                Assert.Equal(redundant.Length + 1, count);
                for (int i = 0; i < redundant.Length; i++)
                {
                    Assert.Equal(redundant[i].PayloadType, blocks[i].PayloadType);
                    Assert.Equal(redundant[i].TimestampOffset, blocks[i].TimestampOffset);
                    Assert.Equal(redundant[i].Data.ToArray(), red.AsSpan(blocks[i].Offset, blocks[i].Length).ToArray());
                }
                Assert.Equal(new RedBlock(primaryType, 0, red.Length - primary.Length, primary.Length), blocks[^1]);

                var packet = RtpPacket(red, timestamp, marker: true, padding);
                Assert.True(RtpPacketReader.TryParse(packet, out var source));
                var destination = new byte[packet.Length];
                Assert.True(RedPayload.TryStripToPrimary(packet, destination, out int written));
                Assert.True(RtpPacketReader.TryParse(destination.AsSpan(0, written), out var plain));
                Assert.Equal(primaryType, plain.PayloadType);
                Assert.Equal(source.Timestamp, plain.Timestamp);
                Assert.Equal(source.SequenceNumber, plain.SequenceNumber);
                Assert.Equal(primary, plain.Payload.ToArray());

                for (int i = 0; i < redundant.Length; i++)
                {
                    bool ok = RedPayload.TryExtractRedundant(packet, i, seq, destination, out written);
                    Assert.Equal(redundant[i].Data.Length > 0, ok);
                    if (!ok) continue;
                    Assert.True(RtpPacketReader.TryParse(destination.AsSpan(0, written), out var recovered));
                    Assert.Equal(unchecked(timestamp - redundant[i].TimestampOffset), recovered.Timestamp);
                    Assert.Equal(seq, recovered.SequenceNumber);
                    Assert.Equal(redundant[i].PayloadType, recovered.PayloadType);
                    Assert.Equal(redundant[i].Data.ToArray(), recovered.Payload.ToArray());
                }
                Assert.False(RedPayload.TryExtractRedundant(packet, redundant.Length, seq, destination, out _));
            }, iter: 2000);
    }

    [Fact]
    public void Random_payloads_never_throw_and_what_parses_tiles_the_payload_and_rewrites_identically()
    {
        // Raw random bytes, and written payloads cut short or with one byte changed (closer to the edge cases).
        var genMutated = Gen.Select(GenRedundant, Gen.Byte[0, 127], Gen.Byte.Array[0, 60], Gen.Int[0, 400], Gen.Byte,
            (redundant, pt, primary, position, value) =>
            {
                var red = new byte[RedPayload.GetSerializedLength(redundant, primary.Length)];
                RedPayload.Write(red, pt, primary, redundant);
                if (position < red.Length) red[position] = value;
                else if (position - red.Length < red.Length) red = red[..(position - red.Length)];
                return red;
            });
        Gen.Select(Gen.OneOf(Gen.Byte.Array[0, 64], genMutated), Gen.Int[0, 6], Gen.Int[-1, 6])
            .Sample((payload, room, index) =>
            {
                var blocks = new RedBlock[room];
                bool parsed = RedPayload.TryParse(payload, blocks, out int count);
                if (parsed)
                {
                    Assert.InRange(count, 1, room);
                    int position = RedPayload.BlockHeaderLength * (count - 1) + RedPayload.PrimaryHeaderLength;
                    for (int i = 0; i < count; i++)
                    {
                        Assert.Equal(position, blocks[i].Offset);
                        position += blocks[i].Length;
                    }
                    Assert.Equal(payload.Length, position);
                    Assert.Equal(0, blocks[count - 1].TimestampOffset);

                    var redundant = new RedundantBlock[count - 1];
                    for (int i = 0; i < redundant.Length; i++)
                        redundant[i] = new RedundantBlock(blocks[i].PayloadType, blocks[i].TimestampOffset,
                            payload.AsMemory(blocks[i].Offset, blocks[i].Length));
                    var primary = blocks[count - 1];
                    var again = new byte[payload.Length];
                    RedPayload.Write(again, primary.PayloadType, payload.AsSpan(primary.Offset, primary.Length), redundant);
                    Assert.Equal(payload, again);
                }

                var packet = RtpPacket(payload);
                var destination = new byte[packet.Length];
                bool stripped = RedPayload.TryStripToPrimary(packet, destination, out _);
                bool extracted = RedPayload.TryExtractRedundant(packet, index, 1, destination, out _);
                var all = new RedBlock[payload.Length + 1];
                bool valid = RedPayload.TryParse(payload, all, out int n);
                Assert.Equal(valid && all[n - 1].Length > 0, stripped);
                Assert.Equal(valid && index >= 0 && index < n - 1 && all[index].Length > 0, extracted);
                if (parsed) Assert.True(valid);
            }, iter: 20_000);
    }

    [Fact]
    public void Random_rtp_packets_never_throw()
    {
        Gen.Select(Gen.Byte.Array[0, 80], Gen.Int[-1, 4], Gen.Int[0, 100]).Sample((packet, index, size) =>
        {
            var destination = new byte[size];
            RedPayload.TryStripToPrimary(packet, destination, out _);
            RedPayload.TryExtractRedundant(packet, index, 0, destination, out _);
            if (packet.Length > 0)
            {
                packet[0] = (byte)((packet[0] & 0x3F) | 0x80); // V=2, so more of them reach the RED parser
                RedPayload.TryStripToPrimary(packet, destination, out _);
                RedPayload.TryExtractRedundant(packet, index, 0, destination, out _);
                RedPayload.TryStripToPrimary(packet, packet, out _);
            }
        }, iter: 20_000);
    }
}
