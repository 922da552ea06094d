using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1).</summary>
public static class RtcpPacketType
{
    public const byte SenderReport = 200;
    public const byte ReceiverReport = 201;
    public const byte SourceDescription = 202;
    public const byte Goodbye = 203;
    public const byte ApplicationDefined = 204;
    /// <summary>Transport-layer feedback, RTPFB (RFC 4585 §6.1).</summary>
    public const byte TransportFeedback = 205;
    /// <summary>Payload-specific feedback, PSFB (RFC 4585 §6.1).</summary>
    public const byte PayloadSpecificFeedback = 206;
}

/// <summary>
/// The common 4-byte RTCP header (RFC 3550 §6.4.1): V=2, P, a 5-bit count (RC/SC, or FMT for
/// feedback messages), PT, and the length in 32-bit words minus one.
/// </summary>
public readonly record struct RtcpHeader(bool Padding, byte Count, byte PacketType, ushort LengthInWords)
{
    public const int Size = 4;

    /// <summary>Total packet length in bytes, header and padding included.</summary>
    public int PacketLength => (LengthInWords + 1) * 4;

    /// <summary>Parses the common header (version must be 2). Does not check the length against the buffer.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out RtcpHeader header)
    {
        if (data.Length < Size || data[0] >> 6 != 2) { header = default; return false; }
        header = new RtcpHeader((data[0] & 0x20) != 0, (byte)(data[0] & 0x1F), data[1],
            BinaryPrimitives.ReadUInt16BigEndian(data[2..]));
        return true;
    }

    /// <summary>Writes a header for a packet of <paramref name="packetLength"/> bytes (a multiple of 4).</summary>
    public static void Write(Span<byte> destination, int count, byte packetType, int packetLength, bool padding = false)
    {
        if ((uint)count > 31) throw new ArgumentOutOfRangeException(nameof(count));
        if (packetLength < Size || packetLength % 4 != 0 || packetLength > 65536 * 4)
            throw new ArgumentOutOfRangeException(nameof(packetLength));
        destination[0] = (byte)(0x80 | (padding ? 0x20 : 0) | count);
        destination[1] = packetType;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(packetLength / 4 - 1));
    }

    /// <summary>
    /// Validates the header of one RTCP packet at the start of <paramref name="data"/> and returns its body
    /// (after the 4-byte header, with padding removed). <paramref name="expectedCount"/> = -1 accepts any count/FMT.
    /// </summary>
    internal static bool TryGetBody(ReadOnlySpan<byte> data, byte expectedType, int expectedCount,
        out RtcpHeader header, out ReadOnlySpan<byte> body)
    {
        body = default;
        if (!TryParse(data, out header)) return false;
        if (header.PacketType != expectedType) return false;
        if (expectedCount >= 0 && header.Count != expectedCount) return false;
        int length = header.PacketLength;
        if (length > data.Length) return false;
        int padding = 0;
        if (header.Padding)
        {
            // §6.4.1: the last octet counts the padding octets, itself included.
            padding = data[length - 1];
            if (padding == 0 || padding > length - Size) return false;
        }
        body = data.Slice(Size, length - Size - padding);
        return true;
    }
}

/// <summary>An RTCP packet that can be serialized into a caller's buffer.</summary>
public interface IRtcpPacket
{
    /// <summary>Exact number of bytes <see cref="WriteTo"/> writes (a multiple of 4).</summary>
    int GetSerializedLength();

    /// <summary>Writes the packet, header included; returns the bytes written. Throws if the span is too small.</summary>
    int WriteTo(Span<byte> destination);
}

/// <summary>A fixed-size item of an RTCP list (report block, NACK pair, FIR entry, SSRC).</summary>
public interface IRtcpItem<TSelf> where TSelf : struct, IRtcpItem<TSelf>
{
    static abstract int WireSize { get; }
    static abstract TSelf Read(ReadOnlySpan<byte> source);
    void Write(Span<byte> destination);
}

/// <summary>
/// A list of fixed-size RTCP items backed either by a caller's typed span (when building) or by the
/// wire bytes (when parsed). Never allocates.
/// </summary>
public readonly ref struct RtcpItemList<T> where T : struct, IRtcpItem<T>
{
    private readonly ReadOnlySpan<T> _items;
    private readonly ReadOnlySpan<byte> _wire;
    private readonly bool _isWire;

    public RtcpItemList(ReadOnlySpan<T> items)
    {
        _items = items;
        _wire = default;
        _isWire = false;
    }

    private RtcpItemList(ReadOnlySpan<byte> wire)
    {
        _items = default;
        _wire = wire;
        _isWire = true;
    }

    /// <summary>Wraps wire bytes; their length must be a multiple of the item size.</summary>
    public static RtcpItemList<T> FromWire(ReadOnlySpan<byte> wire)
    {
        if (wire.Length % T.WireSize != 0) throw new ArgumentException("Length is not a multiple of the item size.");
        return new RtcpItemList<T>(wire);
    }

    public static implicit operator RtcpItemList<T>(ReadOnlySpan<T> items) => new(items);

    public static implicit operator RtcpItemList<T>(T[]? items) => new(items);

    public int Count => _isWire ? _wire.Length / T.WireSize : _items.Length;

    public int ByteLength => Count * T.WireSize;

    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            return _isWire ? T.Read(_wire.Slice(index * T.WireSize, T.WireSize)) : _items[index];
        }
    }

    public int WriteTo(Span<byte> destination)
    {
        if (_isWire)
        {
            _wire.CopyTo(destination);
            return _wire.Length;
        }
        int size = T.WireSize;
        for (int i = 0; i < _items.Length; i++) _items[i].Write(destination.Slice(i * size, size));
        return _items.Length * size;
    }

    public Enumerator GetEnumerator() => new(this);

    public ref struct Enumerator
    {
        private readonly RtcpItemList<T> _list;
        private int _index;

        internal Enumerator(RtcpItemList<T> list)
        {
            _list = list;
            _index = -1;
        }

        public bool MoveNext() => ++_index < _list.Count;

        public readonly T Current => _list[_index];
    }
}

/// <summary>An SSRC as a 4-byte RTCP list item (BYE and REMB SSRC lists).</summary>
public readonly record struct SsrcEntry(uint Ssrc) : IRtcpItem<SsrcEntry>
{
    public static int WireSize => 4;

    public static SsrcEntry Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt32BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Ssrc);

    public static implicit operator SsrcEntry(uint ssrc) => new(ssrc);
}
