using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>DATA chunk flags (RFC 9260 §3.3.1).</summary>
[Flags]
public enum DataChunkFlags : byte
{
    None = 0,
    /// <summary>E: last fragment of a user message.</summary>
    End = 0x01,
    /// <summary>B: first fragment of a user message.</summary>
    Beginning = 0x02,
    /// <summary>U: unordered; the Stream Sequence Number is to be ignored.</summary>
    Unordered = 0x04,
    /// <summary>I: the sender asks for an immediate SACK (RFC 7053).</summary>
    Immediate = 0x08,
    /// <summary>B and E: an unfragmented message.</summary>
    Complete = Beginning | End,
}

/// <summary>Payload Protocol Identifiers used by WebRTC data channels (RFC 8831 §8; IANA SCTP PPIDs).</summary>
public enum SctpPayloadProtocol : uint
{
    /// <summary>WebRTC DCEP (RFC 8832).</summary>
    Dcep = 50,
    WebRtcString = 51,
    /// <summary>Deprecated partial binary.</summary>
    WebRtcBinaryPartial = 52,
    WebRtcBinary = 53,
    /// <summary>Deprecated partial string.</summary>
    WebRtcStringPartial = 54,
    /// <summary>An empty string message (sent as one zero byte).</summary>
    WebRtcStringEmpty = 56,
    /// <summary>An empty binary message (sent as one zero byte).</summary>
    WebRtcBinaryEmpty = 57,
}

/// <summary>
/// Payload Data (DATA) chunk, RFC 9260 §3.3.1: flags U/B/E (and I, RFC 7053), TSN, Stream Identifier,
/// Stream Sequence Number, Payload Protocol Identifier, user data. A chunk with no user data parses
/// (with empty <see cref="UserData"/>): the association must answer it with an ABORT carrying the
/// "No User Data" cause, so it is not treated as malformed here.
/// </summary>
public readonly ref struct PayloadData : ISctpChunkWriter
{
    public const int FixedSize = SctpChunk.HeaderSize + 12;

    public PayloadData(DataChunkFlags flags, uint tsn, ushort streamId, ushort streamSequenceNumber, uint payloadProtocol, ReadOnlySpan<byte> userData)
    {
        Flags = flags;
        Tsn = tsn;
        StreamId = streamId;
        StreamSequenceNumber = streamSequenceNumber;
        PayloadProtocol = payloadProtocol;
        UserData = userData;
    }

    public DataChunkFlags Flags { get; }
    public uint Tsn { get; }
    public ushort StreamId { get; }
    public ushort StreamSequenceNumber { get; }
    public uint PayloadProtocol { get; }
    public ReadOnlySpan<byte> UserData { get; }

    public bool IsUnordered => (Flags & DataChunkFlags.Unordered) != 0;
    public bool IsBeginning => (Flags & DataChunkFlags.Beginning) != 0;
    public bool IsEnd => (Flags & DataChunkFlags.End) != 0;
    public bool IsImmediate => (Flags & DataChunkFlags.Immediate) != 0;

    public static bool TryParse(SctpChunk chunk, out PayloadData data)
    {
        data = default;
        if (chunk.Type != SctpChunkType.Data || chunk.Length < FixedSize) return false;
        var v = chunk.Value;
        data = new PayloadData(
            (DataChunkFlags)chunk.Flags,
            BinaryPrimitives.ReadUInt32BigEndian(v),
            BinaryPrimitives.ReadUInt16BigEndian(v[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(v[6..]),
            BinaryPrimitives.ReadUInt32BigEndian(v[8..]),
            v[12..]);
        return true;
    }

    public int GetSerializedLength() => SctpChunk.PaddedLength(FixedSize + UserData.Length);

    public int WriteTo(Span<byte> destination)
    {
        int padded = SctpChunk.WriteHeader(destination, (byte)SctpChunkType.Data, (byte)Flags, FixedSize + UserData.Length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Tsn);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], StreamId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], StreamSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], PayloadProtocol);
        UserData.CopyTo(destination[FixedSize..]);
        return padded;
    }
}
