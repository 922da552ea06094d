using System.Buffers.Binary;
using TeleRehab.Media.Sctp;
using static TeleRehab.Media.Tests.Sctp.SctpTestHelpers;

namespace TeleRehab.Media.Tests.Sctp;

public class SctpPacketTests
{
    // An INIT as a browser sends it over DTLS (RFC 8841 port 5000, Verification Tag 0), laid out by
    // hand from RFC 9260 §3.1/§3.3.2: Forward-TSN-Supported (RFC 3758), Supported Extensions listing
    // RE-CONFIG and FORWARD TSN (RFC 5061), and Zero Checksum Acceptable (type 0x8001, RFC 9653),
    // which this codec does not know and must skip (high bits 10).
    private const string BrowserInitChunks =
        "01 00 0028" +           // INIT, flags 0, length 40
        "1A2B3C4D" +             // Initiate Tag
        "00020000" +             // a_rwnd 131072
        "FFFF FFFF" +            // outbound / inbound streams 65535
        "5E6F7081" +             // Initial TSN
        "C000 0004" +            // Forward-TSN-Supported
        "8008 0006 82 C0 0000" + // Supported Extensions: RE-CONFIG, FORWARD TSN (+2 padding)
        "8001 0008 00000001";    // Zero Checksum Acceptable, EDMID 1

    private static byte[] BrowserInitPacket()
    {
        var packet = Hex("1388 1388 00000000 00000000" + BrowserInitChunks);
        SctpPacket.WriteChecksum(packet);
        return packet;
    }

    [Fact]
    public void Browser_init_parses_field_by_field()
    {
        var bytes = BrowserInitPacket();
        Assert.Equal(52, bytes.Length);
        Assert.True(SctpPacket.HasValidChecksum(bytes));
        Assert.True(SctpPacket.TryParse(bytes, out var packet));
        Assert.Equal(5000, packet.SourcePort);
        Assert.Equal(5000, packet.DestinationPort);
        Assert.Equal(0u, packet.VerificationTag);

        var chunks = packet.Chunks;
        Assert.True(chunks.TryReadNext(out var chunk));
        Assert.Equal(SctpChunkType.Init, chunk.Type);
        Assert.Equal(40, chunk.Length);
        Assert.True(Initiation.TryParse(chunk, out var init));
        Assert.Equal(0x1A2B3C4Du, init.InitiateTag);
        Assert.Equal(131072u, init.AdvertisedReceiverWindowCredit);
        Assert.Equal(65535, init.OutboundStreams);
        Assert.Equal(65535, init.InboundStreams);
        Assert.Equal(0x5E6F7081u, init.InitialTsn);
        Assert.True(init.ForwardTsnSupported);
        Assert.Equal(new byte[] { 0x82, 0xC0 }, init.SupportedExtensions.ToArray());
        Assert.True(init.SupportsExtension(SctpChunkType.ReConfig));
        Assert.True(init.SupportsExtension(SctpChunkType.ForwardTsn));
        Assert.False(init.SupportsExtension(SctpChunkType.Data));
        Assert.False(init.HasUnrecognizedParametersToReport);
        Assert.Equal(20, init.Parameters.Length);

        // The parameters can be re-walked: the unknown one is there with its type.
        var parameters = new SctpTlvReader(init.Parameters);
        var types = new List<ushort>();
        while (parameters.TryReadNext(out var p)) types.Add(p.Type);
        Assert.Equal(new ushort[] { 0xC000, 0x8008, 0x8001 }, types);
        Assert.Equal(SctpUnrecognizedAction.Skip, SctpUnrecognized.ForParameter(0x8001));

        Assert.False(chunks.TryReadNext(out _));
        Assert.False(chunks.IsMalformed);
    }

    [Fact]
    public void Checksum_is_crc32c_with_the_field_zeroed_stored_least_significant_byte_first()
    {
        var bytes = BrowserInitPacket();
        var zeroed = (byte[])bytes.Clone();
        zeroed.AsSpan(8, 4).Clear();
        uint crc = Crc32c.Compute(zeroed);
        Assert.Equal(crc, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(crc, SctpPacket.ComputeChecksum(bytes));
        Assert.True(SctpPacket.TryParse(bytes, out var packet));
        Assert.Equal(crc, packet.Checksum);
    }

    [Fact]
    public void Any_flipped_bit_breaks_the_checksum()
    {
        var bytes = BrowserInitPacket();
        for (int bit = 0; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(SctpPacket.HasValidChecksum(bytes));
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
        }
        Assert.True(SctpPacket.HasValidChecksum(bytes));
        Assert.False(SctpPacket.HasValidChecksum(bytes.AsSpan(0, 11)));
        Assert.False(SctpPacket.HasValidChecksum([]));
    }

    [Fact]
    public void Writer_bundles_chunks_and_the_reader_walks_them()
    {
        var buffer = new byte[256];
        var writer = new SctpPacketWriter(buffer, 5000, 5001, 0xDEADBEEF);
        writer.Append(new CookieEcho([1, 2, 3]));
        writer.Append(new PayloadData(DataChunkFlags.Complete, 1, 0, 0, (uint)SctpPayloadProtocol.Dcep, [3, 0]));
        writer.Append(new SelectiveAcknowledgement(9, 1000));
        int length = writer.Finish();
        Assert.Equal(12 + 8 + 20 + 16, length);

        var bytes = buffer.AsSpan(0, length);
        Assert.True(SctpPacket.HasValidChecksum(bytes));
        Assert.True(SctpPacket.TryParse(bytes, out var packet));
        Assert.Equal(5000, packet.SourcePort);
        Assert.Equal(5001, packet.DestinationPort);
        Assert.Equal(0xDEADBEEFu, packet.VerificationTag);
        var types = new List<SctpChunkType>();
        foreach (var chunk in packet.Chunks) types.Add(chunk.Type);
        Assert.Equal([SctpChunkType.CookieEcho, SctpChunkType.Data, SctpChunkType.Sack], types);
    }

    [Fact]
    public void Missing_padding_is_accepted_only_on_the_last_chunk()
    {
        // COOKIE ECHO of 5 bytes (length 9) as the last chunk, with and without its 3 padding bytes.
        Assert.True(SctpPacket.TryParse(Hex("1388 1388 00000001 00000000 0A00 0009 0102030405 000000"), out _));
        Assert.True(SctpPacket.TryParse(Hex("1388 1388 00000001 00000000 0A00 0009 0102030405"), out var unpadded));
        var chunks = unpadded.Chunks;
        Assert.True(chunks.TryReadNext(out var echo));
        Assert.Equal(9, echo.Length);
        Assert.False(chunks.TryReadNext(out _));
        Assert.False(chunks.IsMalformed);

        // Not last: the next chunk is read from the padded offset, so without padding it is misread.
        Assert.True(SctpPacket.TryParse(Hex("1388 1388 00000001 00000000 0A00 0009 0102030405 000000 0B00 0004"), out _));
        Assert.False(SctpPacket.TryParse(Hex("1388 1388 00000001 00000000 0A00 0009 0102030405 0B00 0004"), out _));
    }

    [Fact]
    public void Chunk_length_may_or_may_not_include_the_last_parameters_padding()
    {
        // INIT whose last parameter (Supported Extensions, 1 byte of value) is followed by 3 padding bytes,
        // once counted in the Chunk Length (28) and once not (25, then padded on the wire).
        foreach (var chunkLength in new[] { "001C", "0019" })
        {
            var bytes = Hex("1388 1388 00000000 00000000 01 00 " + chunkLength + " 00000001 00010000 0001 0001 00000001 8008 0005 C0 000000");
            Assert.True(SctpPacket.TryParse(bytes, out var packet));
            var chunks = packet.Chunks;
            Assert.True(chunks.TryReadNext(out var chunk));
            Assert.True(Initiation.TryParse(chunk, out var init));
            Assert.Equal(new byte[] { 0xC0 }, init.SupportedExtensions.ToArray());
            Assert.False(chunks.TryReadNext(out _));
            Assert.False(chunks.IsMalformed);
        }
    }

    [Fact]
    public void Parsing_allocates_nothing()
    {
        var bytes = BrowserInitPacket();
        Parse(bytes); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Parse(bytes);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());

        static void Parse(byte[] bytes)
        {
            Assert.True(SctpPacket.HasValidChecksum(bytes));
            Assert.True(SctpPacket.TryParse(bytes, out var packet));
            foreach (var chunk in packet.Chunks)
                Assert.True(Initiation.TryParse(chunk, out _));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("1388")]
    [InlineData("1388 1388 00000000 000000")]              // 11 bytes: truncated common header
    [InlineData("1388 1388 00000000 00000000")]            // no chunk at all
    [InlineData("1388 1388 00000000 00000000 0B00")]       // truncated chunk header
    [InlineData("1388 1388 00000000 00000000 0B00 0003")]  // chunk length below 4
    [InlineData("1388 1388 00000000 00000000 0B00 0000")]  // chunk length 0 (would loop forever)
    [InlineData("1388 1388 00000000 00000000 0B00 0008 0000")] // chunk runs past the packet
    [InlineData("1388 1388 00000000 00000000 0B00 0004 0700 0009 00000000")] // second chunk runs past
    [InlineData("1388 1388 00000000 00000000 0B00 0004 07")] // trailing byte too short for a chunk
    public void Malformed_packets_are_rejected(string hex)
    {
        Assert.False(SctpPacket.TryParse(Hex(hex), out _));
    }

    [Fact]
    public void Chunk_reader_reports_a_malformed_chunk_after_good_ones()
    {
        var reader = new SctpChunkReader(Hex("0B00 0004 0800 0002"));
        Assert.True(reader.TryReadNext(out var first));
        Assert.Equal(SctpChunkType.CookieAck, first.Type);
        Assert.False(reader.TryReadNext(out _));
        Assert.True(reader.IsMalformed);
        Assert.False(reader.TryReadNext(out _));
    }
}
