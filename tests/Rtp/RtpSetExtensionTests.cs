using CsCheck;
using TeleRehab.Media.Rtp;
using static TeleRehab.Media.Tests.Rtp.RtpPacketReaderTests;

namespace TeleRehab.Media.Tests.Rtp;

/// <summary><see cref="RtpPacketRewriter.TrySetExtension"/>: how the SFU stamps its own transport-wide sequence
/// number on a forwarded packet whether or not the publisher's packet carried the extension.</summary>
public class RtpSetExtensionTests
{
    [Fact]
    public void Overwrites_an_element_that_is_there()
    {
        var buffer = new byte[64];
        var writer = new RtpHeaderWriter(buffer, 96, 1, 2, 3);
        writer.AddExtension(5, [0x00, 0x01]);
        var length = writer.Finish();
        var before = length;
        Assert.True(RtpPacketRewriter.TrySetExtension(buffer, ref length, 5, [0xAB, 0xCD]));
        Assert.Equal(before, length);
        Assert.True(RtpPacketReader.TryParse(buffer.AsSpan(0, length), out var rtp));
        Assert.True(rtp.TryGetExtension(5, out var value));
        Assert.Equal(new byte[] { 0xAB, 0xCD }, value.ToArray());
    }

    [Fact]
    public void Adds_a_one_byte_block_to_a_packet_without_extensions()
    {
        var buffer = new byte[64];
        var length = new RtpHeaderWriter(buffer, 96, 1, 2, 3).Finish();
        new byte[] { 9, 8, 7 }.CopyTo(buffer, length);
        length += 3;
        Assert.True(RtpPacketRewriter.TrySetExtension(buffer, ref length, 3, [0x12, 0x34]));
        // X set; BEDE, one word: [31 12 34 00]; payload moved behind it.
        Assert.Equal(Hex("9060 0001 00000002 00000003 BEDE 0001 31123400 090807"), buffer[..length]);
    }

    [Fact]
    public void Refuses_when_the_buffer_is_full_or_the_id_does_not_fit()
    {
        var buffer = new byte[12];
        var length = new RtpHeaderWriter(buffer, 96, 1, 2, 3).Finish();
        Assert.False(RtpPacketRewriter.TrySetExtension(buffer, ref length, 3, [1, 2]));
        Assert.Equal(12, length);
        var roomy = new byte[40];
        length = new RtpHeaderWriter(roomy, 96, 1, 2, 3).Finish();
        Assert.False(RtpPacketRewriter.TrySetExtension(roomy, ref length, 15, [1, 2])); // 15 is reserved in one-byte form
    }

    [Fact]
    public void Keeps_every_other_element_the_payload_and_the_padding()
    {
        Gen.Select(Gen.Int[1, 14].Array[0, 6].Select(ids => ids.Distinct().ToArray()), Gen.Byte.Array[0, 60], Gen.Int[0, 20], Gen.Int[1, 14],
                Gen.Byte.Array[1, 4], Gen.Int[0, 3])
            .Sample((ids, payload, padding, id, value, csrcCount) =>
            {
                var buffer = new byte[400];
                var writer = new RtpHeaderWriter(buffer, 96, 7, 8, 9, marker: false, csrcs: Enumerable.Range(1, csrcCount).Select(i => (uint)i).ToArray());
                foreach (var other in ids) writer.AddExtension(other, [(byte)other, (byte)(other * 3)]);
                var length = writer.Finish();
                payload.CopyTo(buffer, length);
                length += payload.Length;
                if (padding > 0)
                {
                    length = RtpHeaderWriter.AddPadding(buffer, length, padding);
                }
                var existing = ids.Contains(id);
                var ok = RtpPacketRewriter.TrySetExtension(buffer, ref length, id, value);
                if (existing && value.Length != 2) return !ok; // an element of another length is not replaced
                if (!ok || !RtpPacketReader.TryParse(buffer.AsSpan(0, length), out var rtp)) return false;
                if (!rtp.TryGetExtension(id, out var got) || !got.SequenceEqual(value)) return false;
                foreach (var other in ids.Where(o => o != id))
                {
                    if (!rtp.TryGetExtension(other, out var v) || !v.SequenceEqual(new[] { (byte)other, (byte)(other * 3) })) return false;
                }
                return rtp.Payload.SequenceEqual(payload) && rtp.PaddingLength == padding && rtp.CsrcCount == csrcCount;
            });
    }
}
