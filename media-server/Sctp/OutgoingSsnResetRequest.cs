using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// Outgoing SSN Reset Request Parameter, RFC 6525 §4.1 (type 13): Re-configuration Request Sequence
/// Number, Re-configuration Response Sequence Number, Sender's Last Assigned TSN, and the streams to
/// reset (none means all). WebRTC closes a data channel by resetting its stream.
/// </summary>
public readonly ref struct OutgoingSsnResetRequest
{
    public const int FixedSize = 16;

    public OutgoingSsnResetRequest(uint requestSequenceNumber, uint responseSequenceNumber, uint sendersLastAssignedTsn,
        SctpItemList<SctpStreamId> streams = default)
    {
        RequestSequenceNumber = requestSequenceNumber;
        ResponseSequenceNumber = responseSequenceNumber;
        SendersLastAssignedTsn = sendersLastAssignedTsn;
        Streams = streams;
    }

    public uint RequestSequenceNumber { get; }
    public uint ResponseSequenceNumber { get; }
    public uint SendersLastAssignedTsn { get; }
    public SctpItemList<SctpStreamId> Streams { get; }

    public static bool TryParse(SctpTlv parameter, out OutgoingSsnResetRequest request)
    {
        request = default;
        if (parameter.Type != (ushort)SctpParameterType.OutgoingSsnResetRequest || parameter.Length < FixedSize
            || (parameter.Length - FixedSize) % 2 != 0) return false;
        var v = parameter.Value;
        request = new OutgoingSsnResetRequest(
            BinaryPrimitives.ReadUInt32BigEndian(v),
            BinaryPrimitives.ReadUInt32BigEndian(v[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(v[8..]),
            SctpItemList<SctpStreamId>.FromWire(v[12..]));
        return true;
    }

    /// <summary>Padded length on the wire.</summary>
    public int GetSerializedLength() => SctpChunk.PaddedLength(FixedSize + Streams.ByteLength);

    public int WriteTo(Span<byte> destination)
    {
        int length = FixedSize + Streams.ByteLength;
        int padded = SctpChunk.PaddedLength(length);
        if (length > ushort.MaxValue) throw new ArgumentException("Too many streams.");
        if (destination.Length < padded) throw new ArgumentException("Destination too small.", nameof(destination));
        SctpTlv.WriteHeader(destination, (ushort)SctpParameterType.OutgoingSsnResetRequest, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], RequestSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], ResponseSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], SendersLastAssignedTsn);
        Streams.WriteTo(destination[FixedSize..]);
        destination[length..padded].Clear();
        return padded;
    }
}
