using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// Forward Cumulative TSN (FORWARD TSN) chunk, RFC 3758 §3.2: the New Cumulative TSN, then one
/// stream/SSN pair per ordered stream with skipped messages. Length 8 + 4 × pairs.
/// </summary>
public readonly ref struct ForwardTsn : ISctpChunkWriter
{
    public const int FixedSize = 8;

    public ForwardTsn(uint newCumulativeTsn, SctpItemList<ForwardTsnStream> streams = default)
    {
        NewCumulativeTsn = newCumulativeTsn;
        Streams = streams;
    }

    public uint NewCumulativeTsn { get; }
    public SctpItemList<ForwardTsnStream> Streams { get; }

    public static bool TryParse(SctpChunk chunk, out ForwardTsn forward)
    {
        forward = default;
        if (chunk.Type != SctpChunkType.ForwardTsn || chunk.Length < FixedSize || (chunk.Length - FixedSize) % 4 != 0) return false;
        forward = new ForwardTsn(BinaryPrimitives.ReadUInt32BigEndian(chunk.Value), SctpItemList<ForwardTsnStream>.FromWire(chunk.Value[4..]));
        return true;
    }

    public int GetSerializedLength() => FixedSize + Streams.ByteLength;

    public int WriteTo(Span<byte> destination)
    {
        int length = SctpChunk.WriteHeader(destination, (byte)SctpChunkType.ForwardTsn, 0, GetSerializedLength());
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], NewCumulativeTsn);
        Streams.WriteTo(destination[FixedSize..]);
        return length;
    }
}
