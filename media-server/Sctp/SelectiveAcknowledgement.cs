using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// Selective Acknowledgement (SACK) chunk, RFC 9260 §3.3.4: Cumulative TSN Ack, Advertised Receiver
/// Window Credit, Gap Ack Blocks (offsets from the cumulative TSN) and Duplicate TSNs. The Chunk
/// Length must equal 16 + 4 × (number of gap blocks + number of duplicates).
/// </summary>
public readonly ref struct SelectiveAcknowledgement : ISctpChunkWriter
{
    public const int FixedSize = SctpChunk.HeaderSize + 12;

    public SelectiveAcknowledgement(uint cumulativeTsnAck, uint advertisedReceiverWindowCredit,
        SctpItemList<GapAckBlock> gapAckBlocks = default, SctpItemList<DuplicateTsn> duplicateTsns = default)
    {
        CumulativeTsnAck = cumulativeTsnAck;
        AdvertisedReceiverWindowCredit = advertisedReceiverWindowCredit;
        GapAckBlocks = gapAckBlocks;
        DuplicateTsns = duplicateTsns;
    }

    public uint CumulativeTsnAck { get; }
    public uint AdvertisedReceiverWindowCredit { get; }
    public SctpItemList<GapAckBlock> GapAckBlocks { get; }
    public SctpItemList<DuplicateTsn> DuplicateTsns { get; }

    public static bool TryParse(SctpChunk chunk, out SelectiveAcknowledgement sack)
    {
        sack = default;
        if (chunk.Type != SctpChunkType.Sack || chunk.Length < FixedSize) return false;
        var v = chunk.Value;
        int gaps = BinaryPrimitives.ReadUInt16BigEndian(v[8..]);
        int duplicates = BinaryPrimitives.ReadUInt16BigEndian(v[10..]);
        if (chunk.Length != FixedSize + 4 * (gaps + duplicates)) return false;
        sack = new SelectiveAcknowledgement(
            BinaryPrimitives.ReadUInt32BigEndian(v),
            BinaryPrimitives.ReadUInt32BigEndian(v[4..]),
            SctpItemList<GapAckBlock>.FromWire(v.Slice(12, 4 * gaps)),
            SctpItemList<DuplicateTsn>.FromWire(v.Slice(12 + 4 * gaps, 4 * duplicates)));
        return true;
    }

    public int GetSerializedLength() => FixedSize + GapAckBlocks.ByteLength + DuplicateTsns.ByteLength;

    public int WriteTo(Span<byte> destination)
    {
        if (GapAckBlocks.Count > ushort.MaxValue || DuplicateTsns.Count > ushort.MaxValue)
            throw new ArgumentException("Too many gap blocks or duplicate TSNs.");
        int length = SctpChunk.WriteHeader(destination, (byte)SctpChunkType.Sack, 0, GetSerializedLength());
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], CumulativeTsnAck);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], AdvertisedReceiverWindowCredit);
        BinaryPrimitives.WriteUInt16BigEndian(destination[12..], (ushort)GapAckBlocks.Count);
        BinaryPrimitives.WriteUInt16BigEndian(destination[14..], (ushort)DuplicateTsns.Count);
        int offset = FixedSize + GapAckBlocks.WriteTo(destination[FixedSize..]);
        DuplicateTsns.WriteTo(destination[offset..]);
        return length;
    }
}
