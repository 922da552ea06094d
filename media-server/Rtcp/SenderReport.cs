using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>
/// SR: Sender Report RTCP packet (RFC 3550 §6.4.1), PT=200, RC = number of report blocks.
/// A zero-allocation view when parsed; build one with the constructor over caller spans.
/// </summary>
public readonly ref struct SenderReport : IRtcpPacket
{
    private const int SenderInfoLength = 24; // SSRC + NTP(8) + RTP ts + packet count + octet count

    public SenderReport(uint ssrc, ulong ntpTimestamp, uint rtpTimestamp, uint packetCount, uint octetCount,
        RtcpItemList<ReportBlock> reportBlocks = default, ReadOnlySpan<byte> profileExtensions = default)
    {
        Ssrc = ssrc;
        NtpTimestamp = ntpTimestamp;
        RtpTimestamp = rtpTimestamp;
        PacketCount = packetCount;
        OctetCount = octetCount;
        ReportBlocks = reportBlocks;
        ProfileExtensions = profileExtensions;
    }

    public uint Ssrc { get; }

    /// <summary>64-bit NTP timestamp (32.32 fixed point seconds since 1900).</summary>
    public ulong NtpTimestamp { get; }

    /// <summary>The middle 32 bits of the NTP timestamp, as echoed in LSR (§6.4.1).</summary>
    public uint CompactNtpTimestamp => (uint)(NtpTimestamp >> 16);

    public uint RtpTimestamp { get; }
    public uint PacketCount { get; }
    public uint OctetCount { get; }
    public RtcpItemList<ReportBlock> ReportBlocks { get; }

    /// <summary>Profile-specific extension bytes after the report blocks (a multiple of 4 bytes).</summary>
    public ReadOnlySpan<byte> ProfileExtensions { get; }

    public static bool TryParse(ReadOnlySpan<byte> packet, out SenderReport report)
    {
        report = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.SenderReport, -1, out var header, out var body)) return false;
        int blocksLength = header.Count * ReportBlock.Size;
        if (body.Length < SenderInfoLength + blocksLength) return false;
        report = new SenderReport(
            BinaryPrimitives.ReadUInt32BigEndian(body),
            BinaryPrimitives.ReadUInt64BigEndian(body[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[20..]),
            RtcpItemList<ReportBlock>.FromWire(body.Slice(SenderInfoLength, blocksLength)),
            body[(SenderInfoLength + blocksLength)..]);
        return true;
    }

    public int GetSerializedLength() =>
        RtcpHeader.Size + SenderInfoLength + ReportBlocks.ByteLength + ((ProfileExtensions.Length + 3) & ~3);

    public int WriteTo(Span<byte> destination)
    {
        if (ReportBlocks.Count > 31) throw new InvalidOperationException("At most 31 report blocks per SR.");
        int length = GetSerializedLength();
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        RtcpHeader.Write(destination, ReportBlocks.Count, RtcpPacketType.SenderReport, length);
        var body = destination[RtcpHeader.Size..];
        BinaryPrimitives.WriteUInt32BigEndian(body, Ssrc);
        BinaryPrimitives.WriteUInt64BigEndian(body[4..], NtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(body[12..], RtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(body[16..], PacketCount);
        BinaryPrimitives.WriteUInt32BigEndian(body[20..], OctetCount);
        int pos = SenderInfoLength + ReportBlocks.WriteTo(body[SenderInfoLength..]);
        ProfileExtensions.CopyTo(body[pos..]);
        body.Slice(pos + ProfileExtensions.Length, length - RtcpHeader.Size - pos - ProfileExtensions.Length).Clear();
        return length;
    }
}
