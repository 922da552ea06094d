using TeleRehab.Media.Sctp;
using static TeleRehab.Media.Tests.Sctp.SctpTestHelpers;

namespace TeleRehab.Media.Tests.Sctp;

public class SctpChunkRoundTripTests
{
    [Theory]
    [InlineData(DataChunkFlags.Complete, 0)]
    [InlineData(DataChunkFlags.Beginning | DataChunkFlags.Unordered, 1)]
    [InlineData(DataChunkFlags.End | DataChunkFlags.Immediate, 2)]
    [InlineData(DataChunkFlags.None, 3)]
    [InlineData(DataChunkFlags.Complete, 4)]
    [InlineData(DataChunkFlags.Complete, 1000)]
    public void Data(DataChunkFlags flags, int payloadLength)
    {
        var payload = Enumerable.Range(0, payloadLength).Select(i => (byte)(i * 7)).ToArray();
        var bytes = Write(new PayloadData(flags, 0xFEDCBA98, 3, 0xABCD, (uint)SctpPayloadProtocol.WebRtcBinary, payload));
        Assert.Equal(SctpChunk.PaddedLength(16 + payloadLength), bytes.Length);
        Assert.True(PayloadData.TryParse(Chunk(bytes), out var data));
        Assert.Equal(flags, data.Flags);
        Assert.Equal(0xFEDCBA98u, data.Tsn);
        Assert.Equal(3, data.StreamId);
        Assert.Equal(0xABCD, data.StreamSequenceNumber);
        Assert.Equal(53u, data.PayloadProtocol);
        Assert.Equal(payload, data.UserData.ToArray());
        Assert.Equal((flags & DataChunkFlags.Unordered) != 0, data.IsUnordered);
        Assert.Equal((flags & DataChunkFlags.Beginning) != 0, data.IsBeginning);
        Assert.Equal((flags & DataChunkFlags.End) != 0, data.IsEnd);
        Assert.Equal((flags & DataChunkFlags.Immediate) != 0, data.IsImmediate);
        Assert.Equal(16 + payloadLength, Chunk(bytes).Length);
    }

    [Fact]
    public void Data_exact_bytes_and_webrtc_ppids()
    {
        var bytes = Write(new PayloadData(DataChunkFlags.Complete | DataChunkFlags.Unordered, 1, 2, 0, (uint)SctpPayloadProtocol.WebRtcString, "hi"u8));
        Assert.Equal(Hex("00 07 0012 00000001 0002 0000 00000033 6869 0000"), bytes);
        Assert.Equal(50u, (uint)SctpPayloadProtocol.Dcep);
        Assert.Equal(51u, (uint)SctpPayloadProtocol.WebRtcString);
        Assert.Equal(53u, (uint)SctpPayloadProtocol.WebRtcBinary);
        Assert.Equal(56u, (uint)SctpPayloadProtocol.WebRtcStringEmpty);
        Assert.Equal(57u, (uint)SctpPayloadProtocol.WebRtcBinaryEmpty);
    }

    [Fact]
    public void Data_without_user_data_parses_for_the_association_to_abort()
    {
        Assert.True(PayloadData.TryParse(Chunk(Hex("00 03 0010 00000001 0000 0000 00000035")), out var data));
        Assert.True(data.UserData.IsEmpty);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void Init(bool extensions, bool forwardTsn)
    {
        byte[] ext = extensions ? [0x82, 0xC0] : [];
        var bytes = Write(new Initiation(0x11223344, 131072, 1024, 65535, 0xCAFEBABE, ext, forwardTsn));
        Assert.True(Initiation.TryParse(Chunk(bytes), out var init));
        Assert.Equal(0x11223344u, init.InitiateTag);
        Assert.Equal(131072u, init.AdvertisedReceiverWindowCredit);
        Assert.Equal(1024, init.OutboundStreams);
        Assert.Equal(65535, init.InboundStreams);
        Assert.Equal(0xCAFEBABEu, init.InitialTsn);
        Assert.Equal(ext, init.SupportedExtensions.ToArray());
        Assert.Equal(forwardTsn, init.ForwardTsnSupported);
        Assert.Equal(extensions, init.SupportsExtension(SctpChunkType.ReConfig));
        Assert.False(init.HasUnrecognizedParametersToReport);
        Assert.False(InitiationAcknowledgement.TryParse(Chunk(bytes), out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void InitAck(int cookieLength)
    {
        var cookie = Enumerable.Range(0, cookieLength).Select(i => (byte)(200 - i)).ToArray();
        var bytes = Write(new InitiationAcknowledgement(7, 65536, 16, 16, 99, [0xC0], true, cookie));
        Assert.True(InitiationAcknowledgement.TryParse(Chunk(bytes), out var ack));
        Assert.Equal(7u, ack.InitiateTag);
        Assert.Equal(65536u, ack.AdvertisedReceiverWindowCredit);
        Assert.Equal(16, ack.OutboundStreams);
        Assert.Equal(16, ack.InboundStreams);
        Assert.Equal(99u, ack.InitialTsn);
        Assert.True(ack.HasStateCookie);
        Assert.Equal(cookie, ack.StateCookie.ToArray());
        Assert.True(ack.ForwardTsnSupported);
        Assert.True(ack.SupportsExtension(SctpChunkType.ForwardTsn));
        Assert.False(Initiation.TryParse(Chunk(bytes), out _));
    }

    [Fact]
    public void InitAck_with_cookie_last_leaves_its_padding_out_of_the_chunk_length()
    {
        var bytes = Write(new InitiationAcknowledgement(7, 65536, 16, 16, 99, stateCookie: [1, 2, 3, 4, 5]));
        Assert.Equal(20 + 4 + 5, Chunk(bytes).Length);
        Assert.Equal(32, bytes.Length);
    }

    [Fact]
    public void InitAck_without_state_cookie_parses_with_the_flag_clear()
    {
        var bytes = Write(new Initiation(7, 65536, 16, 16, 99));
        bytes[0] = (byte)SctpChunkType.InitAck;
        Assert.True(InitiationAcknowledgement.TryParse(Chunk(bytes), out var ack));
        Assert.False(ack.HasStateCookie);
    }

    [Fact]
    public void Sack()
    {
        GapAckBlock[] gaps = [new(2, 3), new(5, 9)];
        DuplicateTsn[] dups = [new(100), new(0xFFFFFFFF), new(7)];
        var bytes = Write(new SelectiveAcknowledgement(1000, 5000, gaps, dups));
        Assert.Equal(16 + 8 + 12, bytes.Length);
        Assert.True(SelectiveAcknowledgement.TryParse(Chunk(bytes), out var sack));
        Assert.Equal(1000u, sack.CumulativeTsnAck);
        Assert.Equal(5000u, sack.AdvertisedReceiverWindowCredit);
        Assert.Equal(gaps, ToArray(sack.GapAckBlocks));
        Assert.Equal(dups, ToArray(sack.DuplicateTsns));

        Assert.True(SelectiveAcknowledgement.TryParse(Chunk(Write(new SelectiveAcknowledgement(5, 6))), out var empty));
        Assert.Equal(0, empty.GapAckBlocks.Count);
        Assert.Equal(0, empty.DuplicateTsns.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    public void Heartbeat_and_ack(int infoLength)
    {
        var info = Enumerable.Range(0, infoLength).Select(i => (byte)(i + 1)).ToArray();
        var request = Write(new HeartbeatRequest(info));
        Assert.Equal(SctpChunk.PaddedLength(8 + infoLength), request.Length);
        Assert.True(HeartbeatRequest.TryParse(Chunk(request), out var hb));
        Assert.Equal(info, hb.HeartbeatInfo.ToArray());
        Assert.False(HeartbeatAcknowledgement.TryParse(Chunk(request), out _));

        var ack = Write(new HeartbeatAcknowledgement(hb.HeartbeatInfo));
        Assert.True(HeartbeatAcknowledgement.TryParse(Chunk(ack), out var hbAck));
        Assert.Equal(info, hbAck.HeartbeatInfo.ToArray());
        Assert.Equal(request.AsSpan(1).ToArray(), ack.AsSpan(1).ToArray());
    }

    [Fact]
    public void Abort_with_t_bit_and_causes()
    {
        var causes = new byte[64];
        int n = new SctpErrorCause(SctpErrorCauseCode.UserInitiatedAbort, "bye"u8).WriteTo(causes);
        n += new SctpErrorCause(SctpErrorCauseCode.ProtocolViolation, "x"u8).WriteTo(causes.AsSpan(n));
        Assert.Equal(8 + 8, n);
        var bytes = Write(new AbortAssociation(true, causes.AsSpan(0, n)));
        Assert.Equal(4 + 8 + 5, Chunk(bytes).Length); // the last cause's padding is not counted
        Assert.Equal(20, bytes.Length);
        Assert.True(AbortAssociation.TryParse(Chunk(bytes), out var abort));
        Assert.True(abort.VerificationTagReflected);

        Assert.True(SctpErrorCause.TryRead(abort.ErrorCauses, out var first, out int consumed));
        Assert.Equal(SctpErrorCauseCode.UserInitiatedAbort, first.Code);
        Assert.Equal("bye"u8.ToArray(), first.Information.ToArray());
        Assert.True(SctpErrorCause.TryRead(abort.ErrorCauses[consumed..], out var second, out _));
        Assert.Equal(SctpErrorCauseCode.ProtocolViolation, second.Code);
        Assert.Equal("x"u8.ToArray(), second.Information.ToArray());

        Assert.True(AbortAssociation.TryParse(Chunk(Write(new AbortAssociation(false))), out var plain));
        Assert.False(plain.VerificationTagReflected);
        Assert.True(plain.ErrorCauses.IsEmpty);
        Assert.Equal(Hex("06 00 0004"), Write(new AbortAssociation(false)));
    }

    [Fact]
    public void Error_chunk()
    {
        var causes = new byte[16];
        int n = new SctpErrorCause(SctpErrorCauseCode.UnrecognizedChunkType, Hex("FF 00 0004")).WriteTo(causes);
        var bytes = Write(new OperationError(causes.AsSpan(0, n)));
        Assert.Equal(Hex("09 00 000C 0006 0008 FF000004"), bytes);
        Assert.True(OperationError.TryParse(Chunk(bytes), out var error));
        var reader = new SctpTlvReader(error.ErrorCauses);
        Assert.True(reader.TryReadNext(out var cause));
        Assert.Equal((ushort)SctpErrorCauseCode.UnrecognizedChunkType, cause.Type);
        Assert.False(reader.TryReadNext(out _));
        Assert.False(reader.IsMalformed);
    }

    [Fact]
    public void Shutdown_family()
    {
        var shutdown = Write(new ShutdownAssociation(0x01020304));
        Assert.Equal(Hex("07 00 0008 01020304"), shutdown);
        Assert.True(ShutdownAssociation.TryParse(Chunk(shutdown), out var s));
        Assert.Equal(0x01020304u, s.CumulativeTsnAck);

        var ack = Write(new ShutdownAcknowledgement());
        Assert.Equal(Hex("08 00 0004"), ack);
        Assert.True(ShutdownAcknowledgement.TryParse(Chunk(ack), out _));

        var complete = Write(new ShutdownComplete(true));
        Assert.Equal(Hex("0E 01 0004"), complete);
        Assert.True(ShutdownComplete.TryParse(Chunk(complete), out var c));
        Assert.True(c.VerificationTagReflected);
        Assert.True(ShutdownComplete.TryParse(Chunk(Write(new ShutdownComplete(false))), out var c2));
        Assert.False(c2.VerificationTagReflected);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(32)]
    public void Cookie_echo_and_ack(int cookieLength)
    {
        var cookie = Enumerable.Range(0, cookieLength).Select(i => (byte)~i).ToArray();
        var bytes = Write(new CookieEcho(cookie));
        Assert.True(CookieEcho.TryParse(Chunk(bytes), out var echo));
        Assert.Equal(cookie, echo.Cookie.ToArray());

        var ack = Write(new CookieAcknowledgement());
        Assert.Equal(Hex("0B 00 0004"), ack);
        Assert.True(CookieAcknowledgement.TryParse(Chunk(ack), out _));
    }

    [Fact]
    public void Forward_tsn()
    {
        ForwardTsnStream[] streams = [new(1, 10), new(4, 0xFFFF)];
        var bytes = Write(new ForwardTsn(0x80000000, streams));
        Assert.Equal(Hex("C0 00 0010 80000000 0001 000A 0004 FFFF"), bytes);
        Assert.True(ForwardTsn.TryParse(Chunk(bytes), out var fwd));
        Assert.Equal(0x80000000u, fwd.NewCumulativeTsn);
        Assert.Equal(streams, ToArray(fwd.Streams));
        Assert.True(ForwardTsn.TryParse(Chunk(Write(new ForwardTsn(5))), out var bare));
        Assert.Equal(0, bare.Streams.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ReConfig_outgoing_reset_request(int streamCount)
    {
        var streams = Enumerable.Range(0, streamCount).Select(i => new SctpStreamId((ushort)(i * 2 + 1))).ToArray();
        var request = new OutgoingSsnResetRequest(10, 20, 30, streams);
        var parameter = new byte[request.GetSerializedLength()];
        Assert.Equal(parameter.Length, request.WriteTo(parameter));
        var bytes = Write(new ReConfig(parameter));
        Assert.Equal(4 + 16 + 2 * streamCount, Chunk(bytes).Length);

        Assert.True(ReConfig.TryParse(Chunk(bytes), out var reconfig));
        Assert.Equal(1, reconfig.ParameterCount);
        Assert.False(reconfig.TryGetSecond(out _));
        Assert.True(OutgoingSsnResetRequest.TryParse(reconfig.First, out var parsed));
        Assert.Equal(10u, parsed.RequestSequenceNumber);
        Assert.Equal(20u, parsed.ResponseSequenceNumber);
        Assert.Equal(30u, parsed.SendersLastAssignedTsn);
        Assert.Equal(streams, ToArray(parsed.Streams));
        Assert.False(ReconfigurationResponse.TryParse(reconfig.First, out _));
    }

    [Fact]
    public void ReConfig_request_and_responses()
    {
        var buffer = new byte[64];
        int n = new OutgoingSsnResetRequest(1, 2, 3, new SctpStreamId[] { new(5) }).WriteTo(buffer);
        n += new ReconfigurationResponse(9, ReconfigurationResult.SuccessPerformed).WriteTo(buffer.AsSpan(n));
        var bytes = Write(new ReConfig(buffer.AsSpan(0, n)));
        Assert.Equal(Hex("82 00 0024 000D 0012 00000001 00000002 00000003 0005 0000 0010 000C 00000009 00000001"), bytes);
        Assert.True(ReConfig.TryParse(Chunk(bytes), out var reconfig));
        Assert.Equal(2, reconfig.ParameterCount);
        Assert.True(OutgoingSsnResetRequest.TryParse(reconfig.First, out var request));
        Assert.Equal(5, request.Streams[0].Value);
        Assert.True(reconfig.TryGetSecond(out var second));
        Assert.True(ReconfigurationResponse.TryParse(second, out var response));
        Assert.Equal(9u, response.ResponseSequenceNumber);
        Assert.Equal(ReconfigurationResult.SuccessPerformed, response.Result);
        Assert.False(response.HasNextTsns);

        n = new ReconfigurationResponse(4, ReconfigurationResult.InProgress, 100, 200).WriteTo(buffer);
        Assert.Equal(20, n);
        Assert.True(ReConfig.TryParse(Chunk(Write(new ReConfig(buffer.AsSpan(0, n)))), out var longer));
        Assert.True(ReconfigurationResponse.TryParse(longer.First, out var withTsns));
        Assert.True(withTsns.HasNextTsns);
        Assert.Equal(ReconfigurationResult.InProgress, withTsns.Result);
        Assert.Equal(100u, withTsns.SendersNextTsn);
        Assert.Equal(200u, withTsns.ReceiversNextTsn);
    }

    [Fact]
    public void Unknown_chunk_types_follow_the_high_bit_rules()
    {
        Assert.Equal(SctpUnrecognizedAction.Stop, SctpUnrecognized.ForChunk(0x3F));
        Assert.Equal(SctpUnrecognizedAction.StopAndReport, SctpUnrecognized.ForChunk(0x40));
        Assert.Equal(SctpUnrecognizedAction.Skip, SctpUnrecognized.ForChunk(0x80));
        Assert.Equal(SctpUnrecognizedAction.SkipAndReport, SctpUnrecognized.ForChunk(0xC1));
        Assert.Equal(SctpUnrecognizedAction.Skip, SctpUnrecognized.ForParameter(0x8001));
        Assert.Equal(SctpUnrecognizedAction.StopAndReport, SctpUnrecognized.ForParameter(0x4000));
        Assert.True(SctpUnrecognizedAction.SkipAndReport.Continues());
        Assert.True(SctpUnrecognizedAction.SkipAndReport.Reports());
        Assert.False(SctpUnrecognizedAction.Stop.Continues());
        Assert.False(SctpUnrecognizedAction.Skip.Reports());

        Assert.True(SctpChunk.TryRead(Hex("C7 AA 0005 01 000000"), out var unknown, out int consumed));
        Assert.Equal(0xC7, unknown.TypeCode);
        Assert.Equal(0xAA, unknown.Flags);
        Assert.Equal(new byte[] { 1 }, unknown.Value.ToArray());
        Assert.Equal(8, consumed);
    }

    internal static T[] ToArray<T>(SctpItemList<T> list) where T : struct, ISctpItem<T>
    {
        var result = new List<T>();
        foreach (var item in list) result.Add(item);
        return result.ToArray();
    }
}
