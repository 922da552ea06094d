using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>PLI: Picture Loss Indication (RFC 4585 §6.3.1), PSFB PT=206, FMT=1, no FCI.</summary>
public readonly record struct PictureLossIndication(uint SenderSsrc, uint MediaSsrc) : IRtcpPacket
{
    public const int Format = 1;
    public const int Size = 12;

    public static bool TryParse(ReadOnlySpan<byte> packet, out PictureLossIndication pli)
    {
        pli = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.PayloadSpecificFeedback, Format, out _, out var body)) return false;
        if (body.Length < 8) return false;
        pli = new PictureLossIndication(BinaryPrimitives.ReadUInt32BigEndian(body), BinaryPrimitives.ReadUInt32BigEndian(body[4..]));
        return true;
    }

    public int GetSerializedLength() => Size;

    public int WriteTo(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException("Destination too small.", nameof(destination));
        RtcpHeader.Write(destination, Format, RtcpPacketType.PayloadSpecificFeedback, Size);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], SenderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], MediaSsrc);
        return Size;
    }
}
