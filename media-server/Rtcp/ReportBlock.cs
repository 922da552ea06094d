using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>
/// A reception report block (RFC 3550 §6.4.1), 24 bytes. <see cref="CumulativeLost"/> is a signed
/// 24-bit value (-8388608..8388607); duplicates can make it negative.
/// </summary>
public readonly record struct ReportBlock(
    uint Ssrc,
    byte FractionLost,
    int CumulativeLost,
    uint ExtendedHighestSequenceNumber,
    uint Jitter,
    uint LastSenderReport,
    uint DelaySinceLastSenderReport) : IRtcpItem<ReportBlock>
{
    public const int Size = 24;
    public const int MinCumulativeLost = -(1 << 23);
    public const int MaxCumulativeLost = (1 << 23) - 1;

    public static int WireSize => Size;

    public static ReportBlock Read(ReadOnlySpan<byte> source)
    {
        uint lostWord = BinaryPrimitives.ReadUInt32BigEndian(source[4..]);
        int cumulative = (int)(lostWord << 8) >> 8; // sign-extend 24 bits
        return new ReportBlock(
            BinaryPrimitives.ReadUInt32BigEndian(source),
            (byte)(lostWord >> 24),
            cumulative,
            BinaryPrimitives.ReadUInt32BigEndian(source[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[20..]));
    }

    public void Write(Span<byte> destination)
    {
        // Saturate rather than wrap, as RFC 3550 §6.4.1 / A.3 clamps the cumulative count.
        int lost = Math.Clamp(CumulativeLost, MinCumulativeLost, MaxCumulativeLost);
        BinaryPrimitives.WriteUInt32BigEndian(destination, Ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], (uint)FractionLost << 24 | ((uint)lost & 0xFFFFFF));
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], ExtendedHighestSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], Jitter);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], LastSenderReport);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], DelaySinceLastSenderReport);
    }
}
