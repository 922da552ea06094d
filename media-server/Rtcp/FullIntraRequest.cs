using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>One FIR FCI entry (RFC 5104 §4.3.1.1): target SSRC, command sequence number, 24 reserved bits.</summary>
public readonly record struct FirEntry(uint Ssrc, byte SequenceNumber) : IRtcpItem<FirEntry>
{
    public static int WireSize => 8;

    public static FirEntry Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt32BigEndian(source), source[4]);

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Ssrc);
        destination[4] = SequenceNumber;
        destination.Slice(5, 3).Clear();
    }
}

/// <summary>
/// FIR: Full Intra Request (RFC 5104 §4.3.1), PSFB PT=206, FMT=4. The "SSRC of media source" is unused
/// and set to 0 (§4.3.1.2); targets are in the FCI entries.
/// </summary>
public readonly ref struct FullIntraRequest : IRtcpPacket
{
    public const int Format = 4;

    public FullIntraRequest(uint senderSsrc, RtcpItemList<FirEntry> entries, uint mediaSsrc = 0)
    {
        SenderSsrc = senderSsrc;
        MediaSsrc = mediaSsrc;
        Entries = entries;
    }

    public uint SenderSsrc { get; }
    public uint MediaSsrc { get; }
    public RtcpItemList<FirEntry> Entries { get; }

    public static bool TryParse(ReadOnlySpan<byte> packet, out FullIntraRequest fir)
    {
        fir = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.PayloadSpecificFeedback, Format, out _, out var body)) return false;
        if (body.Length < 16 || (body.Length - 8) % 8 != 0) return false;
        fir = new FullIntraRequest(
            BinaryPrimitives.ReadUInt32BigEndian(body),
            RtcpItemList<FirEntry>.FromWire(body[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[4..]));
        return true;
    }

    public int GetSerializedLength() => RtcpHeader.Size + 8 + Entries.ByteLength;

    public int WriteTo(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        RtcpHeader.Write(destination, Format, RtcpPacketType.PayloadSpecificFeedback, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], SenderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], MediaSsrc);
        Entries.WriteTo(destination[12..]);
        return length;
    }
}
