using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>
/// RR: Receiver Report RTCP packet (RFC 3550 §6.4.2), PT=201, RC = number of report blocks.
/// A zero-allocation view when parsed; build one with the constructor over caller spans.
/// </summary>
public readonly ref struct ReceiverReport : IRtcpPacket
{
    public ReceiverReport(uint ssrc, RtcpItemList<ReportBlock> reportBlocks = default, ReadOnlySpan<byte> profileExtensions = default)
    {
        Ssrc = ssrc;
        ReportBlocks = reportBlocks;
        ProfileExtensions = profileExtensions;
    }

    /// <summary>SSRC of the packet sender.</summary>
    public uint Ssrc { get; }
    public RtcpItemList<ReportBlock> ReportBlocks { get; }
    public ReadOnlySpan<byte> ProfileExtensions { get; }

    public static bool TryParse(ReadOnlySpan<byte> packet, out ReceiverReport report)
    {
        report = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.ReceiverReport, -1, out var header, out var body)) return false;
        int blocksLength = header.Count * ReportBlock.Size;
        if (body.Length < 4 + blocksLength) return false;
        report = new ReceiverReport(
            BinaryPrimitives.ReadUInt32BigEndian(body),
            RtcpItemList<ReportBlock>.FromWire(body.Slice(4, blocksLength)),
            body[(4 + blocksLength)..]);
        return true;
    }

    public int GetSerializedLength() =>
        RtcpHeader.Size + 4 + ReportBlocks.ByteLength + ((ProfileExtensions.Length + 3) & ~3);

    public int WriteTo(Span<byte> destination)
    {
        if (ReportBlocks.Count > 31) throw new InvalidOperationException("At most 31 report blocks per RR.");
        int length = GetSerializedLength();
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        RtcpHeader.Write(destination, ReportBlocks.Count, RtcpPacketType.ReceiverReport, length);
        var body = destination[RtcpHeader.Size..];
        BinaryPrimitives.WriteUInt32BigEndian(body, Ssrc);
        int pos = 4 + ReportBlocks.WriteTo(body[4..]);
        ProfileExtensions.CopyTo(body[pos..]);
        body.Slice(pos + ProfileExtensions.Length, length - RtcpHeader.Size - pos - ProfileExtensions.Length).Clear();
        return length;
    }
}
