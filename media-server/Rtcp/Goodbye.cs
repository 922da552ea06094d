namespace TeleRehab.Media.Rtcp;

/// <summary>
/// BYE: Goodbye RTCP packet (RFC 3550 §6.6), PT=203, SC = number of SSRC/CSRC identifiers, followed
/// by an optional length-prefixed UTF-8 reason. Zero-allocation view over the wire bytes.
/// </summary>
public readonly ref struct Goodbye : IRtcpPacket
{
    public Goodbye(RtcpItemList<SsrcEntry> sources, ReadOnlySpan<byte> reasonUtf8 = default)
    {
        Sources = sources;
        Reason = reasonUtf8;
    }

    public RtcpItemList<SsrcEntry> Sources { get; }

    /// <summary>The reason for leaving, UTF-8 (empty when absent).</summary>
    public ReadOnlySpan<byte> Reason { get; }

    public static bool TryParse(ReadOnlySpan<byte> packet, out Goodbye goodbye)
    {
        goodbye = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.Goodbye, -1, out var header, out var body)) return false;
        int ssrcLength = header.Count * 4;
        if (body.Length < ssrcLength) return false;
        var reason = ReadOnlySpan<byte>.Empty;
        if (body.Length > ssrcLength)
        {
            int length = body[ssrcLength];
            if (ssrcLength + 1 + length > body.Length) return false;
            reason = body.Slice(ssrcLength + 1, length);
        }
        goodbye = new Goodbye(RtcpItemList<SsrcEntry>.FromWire(body[..ssrcLength]), reason);
        return true;
    }

    public int GetSerializedLength() =>
        RtcpHeader.Size + Sources.ByteLength + (Reason.IsEmpty ? 0 : (1 + Reason.Length + 3) & ~3);

    public int WriteTo(Span<byte> destination)
    {
        if (Sources.Count > 31) throw new InvalidOperationException("At most 31 sources per BYE.");
        if (Reason.Length > 255) throw new InvalidOperationException("Reason over 255 bytes.");
        int length = GetSerializedLength();
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        RtcpHeader.Write(destination, Sources.Count, RtcpPacketType.Goodbye, length);
        int pos = RtcpHeader.Size + Sources.WriteTo(destination[RtcpHeader.Size..]);
        if (!Reason.IsEmpty)
        {
            destination[pos] = (byte)Reason.Length;
            Reason.CopyTo(destination[(pos + 1)..]);
            destination[(pos + 1 + Reason.Length)..length].Clear();
        }
        return length;
    }
}
