namespace TeleRehab.Media.Rtcp;

/// <summary>One packet of a compound RTCP packet: its header and its bytes (header and padding included).</summary>
public readonly ref struct RtcpPacketView
{
    internal RtcpPacketView(RtcpHeader header, ReadOnlySpan<byte> packet)
    {
        Header = header;
        Packet = packet;
    }

    public RtcpHeader Header { get; }

    public byte PacketType => Header.PacketType;

    /// <summary>The 5-bit count field: RC/SC for reports, FMT for RTPFB/PSFB feedback.</summary>
    public int Format => Header.Count;

    /// <summary>The whole packet; pass it to the typed parser (e.g. <see cref="TransportLayerNack.TryParse"/>).</summary>
    public ReadOnlySpan<byte> Packet { get; }
}

/// <summary>
/// Iterates the packets of a compound RTCP packet (RFC 3550 §6.1, §6.4.1). Every packet must have V=2,
/// a length that fits the remaining bytes, and a valid padding count. Reduced-size RTCP (RFC 5506) is
/// accepted, so the first packet is not required to be an SR/RR, and padding is accepted on any packet
/// (libwebrtc pads transport-wide feedback even when it is not last), although RFC 3550 A.2 expects it
/// only on the last one. Iteration stops at the first malformed packet and sets <see cref="IsMalformed"/>.
/// </summary>
public ref struct RtcpCompoundReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _offset;
    private RtcpPacketView _current;

    public RtcpCompoundReader(ReadOnlySpan<byte> compound)
    {
        _data = compound;
        _offset = 0;
        _current = default;
        IsMalformed = false;
    }

    /// <summary>True once iteration stopped on a malformed packet.</summary>
    public bool IsMalformed { get; private set; }

    public readonly RtcpPacketView Current => _current;

    public readonly RtcpCompoundReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (IsMalformed || _offset >= _data.Length) return false;
        var rest = _data[_offset..];
        if (!RtcpHeader.TryParse(rest, out var header) || header.PacketLength > rest.Length)
        {
            IsMalformed = true;
            return false;
        }
        int length = header.PacketLength;
        if (header.Padding)
        {
            int padding = rest[length - 1];
            if (padding == 0 || padding > length - RtcpHeader.Size)
            {
                IsMalformed = true;
                return false;
            }
        }
        _current = new RtcpPacketView(header, rest[..length]);
        _offset += length;
        return true;
    }

    /// <summary>True if the buffer is a non-empty sequence of well-formed RTCP packets using every byte.</summary>
    public static bool Validate(ReadOnlySpan<byte> compound)
    {
        if (compound.IsEmpty) return false;
        var reader = new RtcpCompoundReader(compound);
        while (reader.MoveNext()) { }
        return !reader.IsMalformed;
    }
}

/// <summary>Writes several RTCP packets back to back into one compound buffer (RFC 3550 §6.1).</summary>
public ref struct RtcpCompoundWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public RtcpCompoundWriter(Span<byte> destination)
    {
        _buffer = destination;
        _length = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>Appends a packet; returns false (writing nothing) if it does not fit.</summary>
    public bool TryAppend<T>(scoped T packet) where T : IRtcpPacket, allows ref struct
    {
        int size = packet.GetSerializedLength();
        if (size > _buffer.Length - _length) return false;
        _length += packet.WriteTo(_buffer[_length..]);
        return true;
    }
}
