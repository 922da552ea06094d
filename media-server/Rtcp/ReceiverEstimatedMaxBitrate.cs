using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>
/// REMB: Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03 §2.2), an application-layer
/// feedback message: PSFB PT=206, FMT=15, media SSRC 0, the ASCII identifier "REMB", Num SSRC (8 bits),
/// BR Exp (6 bits), BR Mantissa (18 bits), then the SSRC feedback list. Bitrate = mantissa × 2^exp bps.
/// </summary>
public readonly ref struct ReceiverEstimatedMaxBitrate : IRtcpPacket
{
    public const int Format = 15;
    private const uint Identifier = 0x52454D42; // "REMB"

    /// <param name="bitrate">Bits per second; encoded with the smallest exponent, i.e. rounded down to 18 significant bits.</param>
    public ReceiverEstimatedMaxBitrate(uint senderSsrc, ulong bitrate, RtcpItemList<SsrcEntry> ssrcs)
    {
        SenderSsrc = senderSsrc;
        Bitrate = bitrate;
        Ssrcs = ssrcs;
    }

    public uint SenderSsrc { get; }

    /// <summary>Estimated maximum bitrate in bits per second.</summary>
    public ulong Bitrate { get; }

    public RtcpItemList<SsrcEntry> Ssrcs { get; }

    /// <summary>Splits a bitrate into (exponent, 18-bit mantissa), truncating low bits.</summary>
    public static (int Exponent, uint Mantissa) Encode(ulong bitrate)
    {
        int exp = 0;
        while (bitrate >> exp >= 1UL << 18) exp++;
        return (exp, (uint)(bitrate >> exp));
    }

    public static bool TryParse(ReadOnlySpan<byte> packet, out ReceiverEstimatedMaxBitrate remb)
    {
        remb = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.PayloadSpecificFeedback, Format, out _, out var body)) return false;
        if (body.Length < 16 || BinaryPrimitives.ReadUInt32BigEndian(body[8..]) != Identifier) return false;
        uint word = BinaryPrimitives.ReadUInt32BigEndian(body[12..]);
        int count = (int)(word >> 24);
        int exp = (int)(word >> 18) & 0x3F;
        ulong mantissa = word & 0x3FFFF;
        if (body.Length < 16 + 4 * count) return false;
        // A mantissa shifted past 64 bits is not representable: reject rather than wrap.
        if (mantissa != 0 && exp > 0 && (mantissa << exp) >> exp != mantissa) return false;
        remb = new ReceiverEstimatedMaxBitrate(
            BinaryPrimitives.ReadUInt32BigEndian(body),
            mantissa << exp,
            RtcpItemList<SsrcEntry>.FromWire(body.Slice(16, 4 * count)));
        return true;
    }

    public int GetSerializedLength() => RtcpHeader.Size + 16 + Ssrcs.ByteLength;

    public int WriteTo(Span<byte> destination)
    {
        if (Ssrcs.Count > 255) throw new InvalidOperationException("At most 255 SSRCs per REMB.");
        int length = GetSerializedLength();
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        RtcpHeader.Write(destination, Format, RtcpPacketType.PayloadSpecificFeedback, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], SenderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], 0); // media source: unused (§2.2)
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], Identifier);
        var (exp, mantissa) = Encode(Bitrate);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], (uint)Ssrcs.Count << 24 | (uint)exp << 18 | mantissa);
        Ssrcs.WriteTo(destination[20..]);
        return length;
    }
}
