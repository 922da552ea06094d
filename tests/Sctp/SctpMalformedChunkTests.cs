using CsCheck;
using TeleRehab.Media.Sctp;
using static TeleRehab.Media.Tests.Sctp.SctpTestHelpers;

namespace TeleRehab.Media.Tests.Sctp;

public class SctpMalformedChunkTests
{
    [Theory]
    [InlineData("00 03 000F 00000001 0000 0000 000000")]          // DATA shorter than its 16-byte header
    [InlineData("01 00 0013 00000001 00000001 0001 0001 000000")] // INIT shorter than 20
    [InlineData("01 00 0018 00000001 00000001 0001 0001 00000001 C000 0003")] // INIT parameter length < 4
    [InlineData("01 00 0018 00000001 00000001 0001 0001 00000001 0007 0009")] // INIT parameter runs past the chunk
    [InlineData("03 00 000F 00000001 00000001 0000 00")]          // SACK shorter than 16
    [InlineData("03 00 0010 00000001 00000001 0001 0000")]        // SACK announces a gap block it lacks
    [InlineData("03 00 0018 00000001 00000001 0001 0000 00010002 00000009")] // SACK with extra bytes
    [InlineData("04 00 0004")]                                    // HEARTBEAT without Heartbeat Info
    [InlineData("04 00 0008 0002 0004")]                          // HEARTBEAT with another parameter
    [InlineData("05 00 0008 0001 0009")]                          // HEARTBEAT ACK info runs past
    [InlineData("06 00 0006 0001")]                               // ABORT with a truncated cause
    [InlineData("06 00 0008 0001 0002")]                          // ABORT cause length < 4
    [InlineData("07 00 0004")]                                    // SHUTDOWN without Cumulative TSN Ack
    [InlineData("07 00 000C 00000001 00000002")]                  // SHUTDOWN too long
    [InlineData("08 00 0008 00000000")]                           // SHUTDOWN ACK with a value
    [InlineData("09 00 0006 0001")]                               // ERROR with a truncated cause
    [InlineData("0B 00 0008 00000000")]                           // COOKIE ACK with a value
    [InlineData("0E 00 0008 00000000")]                           // SHUTDOWN COMPLETE with a value
    [InlineData("82 00 0004")]                                    // RE-CONFIG without parameters
    [InlineData("82 00 0028 0010 000C 00000001 00000000 0010 000C 00000001 00000000 0010 000C 00000001 00000000")] // three
    [InlineData("C0 00 0006 0000")]                               // FORWARD TSN shorter than 8
    [InlineData("C0 00 000A 00000001 0001")]                      // FORWARD TSN with half a stream pair
    public void Malformed_chunks_are_rejected(string hex)
    {
        var bytes = Hex(hex);
        if (!SctpChunk.TryRead(bytes, out var chunk, out _)) return; // rejected at the chunk level already
        Assert.False(ParseKnown(chunk), hex);
    }

    [Fact]
    public void Reconfig_parameters_with_bad_lengths_are_rejected()
    {
        Assert.True(SctpTlv.TryRead(Hex("000D 000F 00000001 00000002 00000003 00"), out var odd, out _));
        Assert.False(OutgoingSsnResetRequest.TryParse(odd, out _));
        Assert.True(SctpTlv.TryRead(Hex("000D 000C 00000001 00000002"), out var shortRequest, out _));
        Assert.False(OutgoingSsnResetRequest.TryParse(shortRequest, out _));
        Assert.True(SctpTlv.TryRead(Hex("0010 0010 00000001 00000002 00000003"), out var sixteen, out _));
        Assert.False(ReconfigurationResponse.TryParse(sixteen, out _));
    }

    [Fact]
    public void Unknown_init_parameters_follow_the_high_bit_rules()
    {
        static Initiation Parse(string parameters)
        {
            var body = Hex("00000001 00010000 0001 0001 00000001" + parameters);
            var chunk = new byte[4 + body.Length];
            chunk[0] = 1;
            chunk[3] = (byte)chunk.Length;
            body.CopyTo(chunk, 4);
            Assert.True(Initiation.TryParse(Chunk(chunk), out var init));
            return init;
        }

        // 00: stop; the Forward-TSN-Supported after it is not processed, nothing to report.
        var stop = Parse("0077 0004 C000 0004");
        Assert.False(stop.ForwardTsnSupported);
        Assert.False(stop.HasUnrecognizedParametersToReport);
        // 01: stop and report.
        var stopReport = Parse("4077 0004 C000 0004");
        Assert.False(stopReport.ForwardTsnSupported);
        Assert.True(stopReport.HasUnrecognizedParametersToReport);
        // 10: skip.
        var skip = Parse("8077 0005 01 000000 C000 0004");
        Assert.True(skip.ForwardTsnSupported);
        Assert.False(skip.HasUnrecognizedParametersToReport);
        // 11: skip and report.
        var skipReport = Parse("C077 0004 C000 0004");
        Assert.True(skipReport.ForwardTsnSupported);
        Assert.True(skipReport.HasUnrecognizedParametersToReport);
    }

    [Fact]
    public void Truncated_serialized_chunks_never_parse()
    {
        byte[][] chunks =
        [
            Write(new PayloadData(DataChunkFlags.Complete, 1, 2, 3, 53, [1, 2, 3, 4, 5])),
            Write(new Initiation(1, 2, 3, 4, 5, [0x82], true)),
            Write(new InitiationAcknowledgement(1, 2, 3, 4, 5, stateCookie: [9, 9, 9])),
            Write(new SelectiveAcknowledgement(1, 2, new GapAckBlock[] { new(1, 2) }, new DuplicateTsn[] { new(3) })),
            Write(new HeartbeatRequest([1, 2, 3, 4])),
            Write(new ShutdownAssociation(1)),
            Write(new CookieEcho([1, 2, 3, 4])),
            Write(new ForwardTsn(1, new ForwardTsnStream[] { new(1, 1) })),
        ];
        foreach (var full in chunks)
        {
            int declared = Chunk(full).Length;
            for (int cut = 0; cut < declared; cut++)
                Assert.False(SctpChunk.TryRead(full.AsSpan(0, cut), out _, out _));
            for (int cut = declared; cut <= full.Length; cut++)
            {
                Assert.True(SctpChunk.TryRead(full.AsSpan(0, cut), out var chunk, out int consumed));
                Assert.Equal(cut, consumed);
                Assert.True(ParseKnown(chunk));
            }
        }
    }

    [Fact]
    public void Random_bytes_never_throw_in_any_parser()
    {
        Gen.Byte.Array[0, 120].Select(Gen.Byte).Sample((bytes, forcedType) =>
        {
            if (SctpPacket.TryParse(bytes, out var packet))
                foreach (var c in packet.Chunks) ParseKnown(c);
            SctpPacket.HasValidChecksum(bytes);
            var reader = new SctpChunkReader(bytes);
            while (reader.TryReadNext(out var c)) ParseKnown(c);

            // Force each known type onto the same bytes so every chunk parser sees garbage.
            var copy = (byte[])bytes.Clone();
            foreach (byte type in (byte[])[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 130, 192, forcedType])
            {
                if (copy.Length > 0) copy[0] = type;
                if (SctpChunk.TryRead(copy, out var chunk, out _)) ParseKnown(chunk);
            }

            var tlvs = new SctpTlvReader(bytes);
            while (tlvs.TryReadNext(out var tlv)) ParseParameter(tlv);
            SctpErrorCause.TryRead(bytes, out _, out _);

            if (DataChannelOpen.TryParse(bytes, out var open)) _ = open.GetLabelString() + open.GetProtocolString();
            DataChannelAck.TryParse(bytes, out _);
            if (copy.Length > 0)
            {
                copy[0] = (byte)DcepMessageType.DataChannelOpen;
                if (DataChannelOpen.TryParse(copy, out var forced))
                    Assert.True(DataChannelOpen.FixedSize + forced.Label.Length + forced.Protocol.Length <= copy.Length);
            }
        }, iter: 5000);
    }

    [Fact]
    public void Random_chunks_that_parse_round_trip_their_length()
    {
        // A chunk of random content that a parser accepts must be walkable by the chunk reader in any packet.
        Gen.Byte.Array[0, 60].Select(Gen.Byte[0, 15]).Sample((value, type) =>
        {
            var chunk = new byte[SctpChunk.PaddedLength(4 + value.Length)];
            chunk[0] = type;
            chunk[2] = (byte)((4 + value.Length) >> 8);
            chunk[3] = (byte)(4 + value.Length);
            value.CopyTo(chunk, 4);
            Assert.True(SctpChunk.TryRead(chunk, out var c, out int consumed));
            Assert.Equal(chunk.Length, consumed);
            ParseKnown(c);
        }, iter: 3000);
    }

    /// <summary>Runs the parser for the chunk's type, touching every item so lazy reads are exercised.</summary>
    internal static bool ParseKnown(SctpChunk chunk)
    {
        switch (chunk.Type)
        {
            case SctpChunkType.Data:
                return PayloadData.TryParse(chunk, out _);
            case SctpChunkType.Init:
                return Initiation.TryParse(chunk, out _);
            case SctpChunkType.InitAck:
                return InitiationAcknowledgement.TryParse(chunk, out _);
            case SctpChunkType.Sack:
                if (!SelectiveAcknowledgement.TryParse(chunk, out var sack)) return false;
                foreach (var gap in sack.GapAckBlocks) _ = gap.End;
                foreach (var dup in sack.DuplicateTsns) _ = dup.Tsn;
                return true;
            case SctpChunkType.Heartbeat:
                return HeartbeatRequest.TryParse(chunk, out _);
            case SctpChunkType.HeartbeatAck:
                return HeartbeatAcknowledgement.TryParse(chunk, out _);
            case SctpChunkType.Abort:
                if (!AbortAssociation.TryParse(chunk, out var abort)) return false;
                WalkCauses(abort.ErrorCauses);
                return true;
            case SctpChunkType.Shutdown:
                return ShutdownAssociation.TryParse(chunk, out _);
            case SctpChunkType.ShutdownAck:
                return ShutdownAcknowledgement.TryParse(chunk, out _);
            case SctpChunkType.Error:
                if (!OperationError.TryParse(chunk, out var error)) return false;
                WalkCauses(error.ErrorCauses);
                return true;
            case SctpChunkType.CookieEcho:
                return CookieEcho.TryParse(chunk, out _);
            case SctpChunkType.CookieAck:
                return CookieAcknowledgement.TryParse(chunk, out _);
            case SctpChunkType.ShutdownComplete:
                return ShutdownComplete.TryParse(chunk, out _);
            case SctpChunkType.ForwardTsn:
                if (!ForwardTsn.TryParse(chunk, out var fwd)) return false;
                foreach (var s in fwd.Streams) _ = s.StreamSequenceNumber;
                return true;
            case SctpChunkType.ReConfig:
                if (!ReConfig.TryParse(chunk, out var reconfig)) return false;
                ParseParameter(reconfig.First);
                if (reconfig.TryGetSecond(out var second)) ParseParameter(second);
                return true;
            default:
                _ = SctpUnrecognized.ForChunk(chunk.TypeCode);
                return true;
        }
    }

    private static void WalkCauses(ReadOnlySpan<byte> causes)
    {
        while (SctpErrorCause.TryRead(causes, out var cause, out int consumed))
        {
            _ = cause.Code;
            causes = causes[consumed..];
        }
        Assert.True(causes.IsEmpty);
    }

    private static void ParseParameter(SctpTlv tlv)
    {
        if (OutgoingSsnResetRequest.TryParse(tlv, out var request))
            foreach (var id in request.Streams) _ = id.Value;
        ReconfigurationResponse.TryParse(tlv, out _);
        _ = SctpUnrecognized.ForParameter(tlv.Type);
    }
}
