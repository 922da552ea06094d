using CsCheck;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Tests.Rtp;

public class RtpPacketReaderTests
{
    internal static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    [Fact]
    public void Parses_fixed_header_fields()
    {
        // RFC 3550 §5.1: V=2 P=0 X=0 CC=0 | M=1 PT=96 | seq=0x1234 | ts=0xDEADBEEF | SSRC=0x01020304 | payload AA BB
        var packet = Hex("80E0 1234 DEADBEEF 01020304 AABB");
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.Equal(2, r.Version);
        Assert.False(r.HasPadding);
        Assert.False(r.HasExtension);
        Assert.True(r.Marker);
        Assert.Equal(96, r.PayloadType);
        Assert.Equal(0x1234, r.SequenceNumber);
        Assert.Equal(0xDEADBEEFu, r.Timestamp);
        Assert.Equal(0x01020304u, r.Ssrc);
        Assert.Equal(0, r.CsrcCount);
        Assert.Equal(12, r.HeaderLength);
        Assert.Equal(12, r.PayloadOffset);
        Assert.Equal(2, r.PayloadLength);
        Assert.Equal(new byte[] { 0xAA, 0xBB }, r.Payload.ToArray());
        Assert.Equal(RtpExtensionForm.None, r.ExtensionForm);
        Assert.False(r.TryGetExtension(1, out _));
    }

    [Fact]
    public void Parses_csrc_list()
    {
        var packet = Hex("8260 0001 00000002 00000003 11111111 22222222 FF");
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.Equal(2, r.CsrcCount);
        Assert.Equal(0x11111111u, r.GetCsrc(0));
        Assert.Equal(0x22222222u, r.GetCsrc(1));
        Assert.Equal(20, r.HeaderLength);
        Assert.Equal(1, r.PayloadLength);
    }

    [Fact]
    public void Removes_padding_using_last_octet_count()
    {
        // P=1; payload 01 02 03 followed by 3 padding octets, the last being the count (§5.1).
        var packet = Hex("A060 0001 00000002 00000003 010203 000003");
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.True(r.HasPadding);
        Assert.Equal(3, r.PaddingLength);
        Assert.Equal(3, r.PayloadLength);
        Assert.Equal(new byte[] { 1, 2, 3 }, r.Payload.ToArray());
    }

    [Theory]
    [InlineData("A060 0001 00000002 00000003 010200")]      // padding count 0
    [InlineData("A060 0001 00000002 00000003 010205")]      // padding count > payload
    [InlineData("A060 0001 00000002 00000003")]             // P set, nothing after header
    [InlineData("4060 0001 00000002 00000003 0102")]        // version 1
    [InlineData("8160 0001 00000002 00000003")]             // CC=1 but no CSRC
    [InlineData("9060 0001 00000002 00000003 BEDE")]        // truncated extension header
    [InlineData("9060 0001 00000002 00000003 BEDE 0002 10AA0000")] // extension length beyond packet
    [InlineData("9060 0001 00000002 00000003 BEDE 0001 13AABBCC")] // one-byte element overruns block
    [InlineData("9060 0001 00000002 00000003 1000 0001 0105AABB")] // two-byte element overruns block
    [InlineData("9060 0001 00000002 00000003 1000 0001 000000 01")] // two-byte element header cut by block end
    [InlineData("8060 0001 00000002 000000")]               // shorter than fixed header
    public void Rejects_malformed(string hex)
    {
        Assert.False(RtpPacketReader.TryParse(Hex(hex), out _));
    }

    [Fact]
    public void One_byte_extensions_with_padding_between_elements()
    {
        // 0xBEDE, length 3 words: [id1 L=0: AA] [pad 00] [id2 L=1: BB CC] [pad 00 00] [id3 L=2: 01 02 03] [pad 00]
        var packet = Hex("9060 0001 00000002 00000003 BEDE 0003 10AA 00 21BBCC 00 32010203 00 FE");
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.Equal(RtpExtensionForm.OneByte, r.ExtensionForm);
        Assert.Equal(0xBEDE, r.ExtensionProfile);
        Assert.Equal(12 + 4 + 12, r.HeaderLength);
        Assert.Equal(1, r.PayloadLength);
        Assert.True(r.TryGetExtension(1, out var v1));
        Assert.Equal(new byte[] { 0xAA }, v1.ToArray());
        Assert.True(r.TryGetExtension(2, out var v2));
        Assert.Equal(new byte[] { 0xBB, 0xCC }, v2.ToArray());
        Assert.True(r.TryGetExtension(3, out var v3));
        Assert.Equal(new byte[] { 1, 2, 3 }, v3.ToArray());
        Assert.False(r.TryGetExtension(4, out _));
        var ids = new List<int>();
        foreach (var e in r.Extensions) ids.Add(e.Id);
        Assert.Equal(new[] { 1, 2, 3 }, ids);
    }

    [Fact]
    public void One_byte_id_15_stops_processing()
    {
        // RFC 8285 §4.2: elements after an id-15 byte are ignored, and its length field too (0xF7 claims 8 bytes).
        var packet = Hex("9060 0001 00000002 00000003 BEDE 0002 10AA F7 2011 000000");
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.True(r.TryGetExtension(1, out _));
        Assert.False(r.TryGetExtension(2, out _));
        int count = 0;
        foreach (var _ in r.Extensions) count++;
        Assert.Equal(1, count);
    }

    [Fact]
    public void Two_byte_extensions_with_zero_length_and_padding()
    {
        // 0x100 + appbits 0x5; [id 1 len 0] [pad] [id 200 len 3: 01 02 03] [id 15 len 1: 07] [pad]
        var packet = Hex("9060 0001 00000002 00000003 1005 0003 0100 00 C803010203 0F0107 00");
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.Equal(RtpExtensionForm.TwoByte, r.ExtensionForm);
        Assert.True(r.TryGetExtension(1, out var empty));
        Assert.Equal(0, empty.Length);
        Assert.True(r.TryGetExtension(200, out var v200));
        Assert.Equal(new byte[] { 1, 2, 3 }, v200.ToArray());
        Assert.True(r.TryGetExtension(15, out var v15)); // 15 is an ordinary id in the two-byte form
        Assert.Equal(new byte[] { 7 }, v15.ToArray());
        Assert.Equal(0, r.PayloadLength);
    }

    [Fact]
    public void Unknown_extension_profile_is_kept_opaque()
    {
        var packet = Hex("9060 0001 00000002 00000003 ABCD 0001 11223344 99");
        Assert.True(RtpPacketReader.TryParse(packet, out var r));
        Assert.Equal(RtpExtensionForm.Other, r.ExtensionForm);
        Assert.Equal(4, r.ExtensionDataLength);
        Assert.False(r.TryGetExtension(1, out _));
        Assert.Equal(1, r.PayloadLength);
    }

    [Fact]
    public void Random_bytes_are_rejected_or_parsed_consistently_without_exceptions()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            if (!RtpPacketReader.TryParse(bytes, out var r)) return;
            Assert.InRange(r.HeaderLength + r.PayloadLength + r.PaddingLength, 12, bytes.Length);
            Assert.True(r.PayloadLength >= 0);
            foreach (var e in r.Extensions)
                Assert.InRange(e.ValueOffset + e.Value.Length, 0, r.HeaderLength);
        }, iter: 20000);
    }

    [Fact]
    public void Random_bytes_behind_a_valid_looking_extension_header_never_throw()
    {
        // Bias the fuzzer towards the extension parser: V=2, X=1, then 0xBEDE or 0x100X and random elements.
        Gen.Select(Gen.Bool, Gen.Byte[0, 6], Gen.Byte.Array[0, 40], Gen.Bool).Sample((oneByte, words, tail, pad) =>
        {
            var packet = new byte[16 + tail.Length];
            packet[0] = (byte)(pad ? 0xB0 : 0x90);
            packet[12] = oneByte ? (byte)0xBE : (byte)0x10;
            packet[13] = oneByte ? (byte)0xDE : (byte)0x00;
            packet[15] = words;
            tail.CopyTo(packet, 16);
            if (RtpPacketReader.TryParse(packet, out var r))
                foreach (var e in r.Extensions) Assert.True(e.Id > 0);
            _ = RtpPacketRewriter.TryChangeExtensionId(packet, 1, 2);
            _ = RtpPacketRewriter.TryRemapExtensionIds(packet, [0, 0, 1, 3]);
        }, iter: 20000);
    }
}
