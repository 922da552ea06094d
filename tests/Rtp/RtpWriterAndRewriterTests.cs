using CsCheck;
using TeleRehab.Media.Rtp;
using static TeleRehab.Media.Tests.Rtp.RtpPacketReaderTests;

namespace TeleRehab.Media.Tests.Rtp;

public class RtpWriterAndRewriterTests
{
    private static readonly Gen<(int Id, byte[] Value)[]> GenExtensions =
        Gen.Int[1, 14].Array[0, 6].Select(ids => ids.Distinct().ToArray())
            .SelectMany(ids => Gen.Byte.Array[1, 16].Array[ids.Length].Select(values => ids.Zip(values).ToArray()));

    [Fact]
    public void Writer_produces_known_bytes()
    {
        var buffer = new byte[64];
        var writer = new RtpHeaderWriter(buffer, payloadType: 111, sequenceNumber: 0x0102, timestamp: 0x03040506,
            ssrc: 0x0708090A, marker: true, csrcs: [0xCAFEBABE]);
        writer.AddExtension(1, [0xAA]);
        writer.AddExtension(3, [0x01, 0x02]);
        int length = writer.Finish();
        // V=2 X=1 CC=1 -> 0x91; M=1 PT=111 -> 0xEF; CSRC; BEDE, 2 words: [10 AA] [31 01 02] + 3 zero pad
        Assert.Equal(Hex("91EF 0102 03040506 0708090A CAFEBABE BEDE 0002 10AA 310102 000000"), buffer[..length]);
        Assert.Equal(length, RtpHeaderWriter.GetSerializedLength(1, [1, 2]));
    }

    [Fact]
    public void Writer_without_extensions_leaves_X_clear()
    {
        var buffer = new byte[12];
        int length = new RtpHeaderWriter(buffer, 0, 1, 2, 3).Finish();
        Assert.Equal(Hex("8000 0001 00000002 00000003"), buffer[..length]);
        Assert.Equal(12, RtpHeaderWriter.GetSerializedLength(0, []));
    }

    [Fact]
    public void Writer_and_reader_round_trip()
    {
        Gen.Select(Gen.Byte[0, 127], Gen.UShort, Gen.UInt, Gen.UInt, Gen.Bool, Gen.UInt.Array[0, 15], GenExtensions,
            Gen.Select(Gen.Byte.Array[0, 50], Gen.Int[0, 20])).Sample((pt, seq, ts, ssrc, marker, csrcs, exts, tail) =>
        {
            var (payload, padding) = tail;
            var buffer = new byte[RtpHeaderWriter.GetSerializedLength(csrcs.Length, exts.Select(e => e.Value.Length).ToArray()) + payload.Length + padding];
            var writer = new RtpHeaderWriter(buffer, pt, seq, ts, ssrc, marker, csrcs);
            foreach (var (id, value) in exts) writer.AddExtension(id, value);
            int headerLength = writer.Finish();
            payload.CopyTo(buffer, headerLength);
            int total = headerLength + payload.Length;
            if (padding > 0) total = RtpHeaderWriter.AddPadding(buffer, total, padding);
            Assert.Equal(buffer.Length, total);

            Assert.True(RtpPacketReader.TryParse(buffer, out var r));
            Assert.Equal(pt, r.PayloadType);
            Assert.Equal(seq, r.SequenceNumber);
            Assert.Equal(ts, r.Timestamp);
            Assert.Equal(ssrc, r.Ssrc);
            Assert.Equal(marker, r.Marker);
            Assert.Equal(csrcs.Length, r.CsrcCount);
            for (int i = 0; i < csrcs.Length; i++) Assert.Equal(csrcs[i], r.GetCsrc(i));
            Assert.Equal(headerLength, r.PayloadOffset);
            Assert.Equal(payload, r.Payload.ToArray());
            Assert.Equal(padding, r.PaddingLength);
            foreach (var (id, value) in exts)
            {
                Assert.True(r.TryGetExtension(id, out var got));
                Assert.Equal(value, got.ToArray());
            }
            int n = 0;
            foreach (var _ in r.Extensions) n++;
            Assert.Equal(exts.Length, n);
        }, iter: 2000);
    }

    [Fact]
    public void Fixed_field_rewriters_change_only_their_field()
    {
        Gen.Select(Gen.UInt, Gen.UShort, Gen.UInt, Gen.Byte[0, 127], Gen.Bool).Sample((ssrc, seq, ts, pt, marker) =>
        {
            var packet = Hex("9060 0001 00000002 00000003 BEDE 0001 10AA0000 C0FFEE");
            RtpPacketRewriter.SetSsrc(packet, ssrc);
            RtpPacketRewriter.SetSequenceNumber(packet, seq);
            RtpPacketRewriter.SetTimestamp(packet, ts);
            RtpPacketRewriter.SetPayloadType(packet, pt);
            RtpPacketRewriter.SetMarker(packet, marker);
            Assert.True(RtpPacketReader.TryParse(packet, out var r));
            Assert.Equal((ssrc, seq, ts, pt, marker), (r.Ssrc, r.SequenceNumber, r.Timestamp, r.PayloadType, r.Marker));
            Assert.True(r.HasExtension);
            Assert.Equal(Hex("C0FFEE"), r.Payload.ToArray());
            Assert.True(r.TryGetExtension(1, out var v));
            Assert.Equal(0xAA, v[0]);
        });
    }

    [Fact]
    public void Extension_value_and_id_rewrite_in_place()
    {
        var packet = Hex("9060 0001 00000002 00000003 BEDE 0002 10AA 210102 310A0B");
        Assert.True(RtpPacketRewriter.TryRewriteExtension(packet, 2, [0x77, 0x88]));
        Assert.False(RtpPacketRewriter.TryRewriteExtension(packet, 2, [0x77])); // length must match
        Assert.False(RtpPacketRewriter.TryRewriteExtension(packet, 9, [0x77]));
        Assert.True(RtpPacketRewriter.TryChangeExtensionId(packet, 3, 14));
        Assert.False(RtpPacketRewriter.TryChangeExtensionId(packet, 1, 15)); // 15 is reserved in one-byte form
        Assert.Equal(Hex("9060 0001 00000002 00000003 BEDE 0002 10AA 217788 E10A0B"), packet);
    }

    [Fact]
    public void Remap_swaps_ids_in_one_pass_and_removes_by_padding()
    {
        var packet = Hex("9060 0001 00000002 00000003 BEDE 0002 10AA 210102 310A0B");
        // 1 -> 2, 2 -> 1 (a swap must not chain), 3 -> removed (0)
        Assert.True(RtpPacketRewriter.TryRemapExtensionIds(packet, [0, 2, 1, 0]));
        Assert.Equal(Hex("9060 0001 00000002 00000003 BEDE 0002 20AA 110102 000000"), packet);
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.True(r.TryGetExtension(2, out var v));
        Assert.Equal(0xAA, v[0]);
        Assert.False(r.TryGetExtension(3, out _));
        Assert.False(RtpPacketRewriter.TryRemapExtensionIds(packet, [0, 0, 15]));
    }

    [Fact]
    public void Two_byte_form_ids_can_be_mapped_above_14()
    {
        var packet = Hex("9060 0001 00000002 00000003 1000 0001 0101AA00");
        Assert.True(RtpPacketRewriter.TryChangeExtensionId(packet, 1, 200));
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.True(r.TryGetExtension(200, out var v));
        Assert.Equal(0xAA, v[0]);
    }
}
