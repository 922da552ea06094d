using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>A fixed-size item in a chunk's list (gap ack blocks, duplicate TSNs, stream pairs).</summary>
public interface ISctpItem<T> where T : struct
{
    static abstract int WireSize { get; }
    static abstract T Read(ReadOnlySpan<byte> source);
    void Write(Span<byte> destination);
}

/// <summary>
/// A list of fixed-size items, either a view of wire bytes (when parsed) or the caller's span (when
/// building). No allocation either way.
/// </summary>
public readonly ref struct SctpItemList<T> where T : struct, ISctpItem<T>
{
    private readonly ReadOnlySpan<T> _items;
    private readonly ReadOnlySpan<byte> _wire;
    private readonly bool _isWire;

    public SctpItemList(ReadOnlySpan<T> items)
    {
        _items = items;
        _wire = default;
        _isWire = false;
    }

    private SctpItemList(ReadOnlySpan<byte> wire)
    {
        _items = default;
        _wire = wire;
        _isWire = true;
    }

    /// <summary>Wraps wire bytes; the caller has checked that their length is a multiple of the item size.</summary>
    internal static SctpItemList<T> FromWire(ReadOnlySpan<byte> wire) => new(wire);

    public static implicit operator SctpItemList<T>(ReadOnlySpan<T> items) => new(items);

    public static implicit operator SctpItemList<T>(T[]? items) => new(items);

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
        private readonly SctpItemList<T> _list;
        private int _index;

        internal Enumerator(SctpItemList<T> list)
        {
            _list = list;
            _index = -1;
        }

        public bool MoveNext() => ++_index < _list.Count;

        public readonly T Current => _list[_index];
    }
}

/// <summary>
/// Gap Ack Block of a SACK (RFC 9260 §3.3.4): TSNs from Cumulative TSN Ack + <see cref="Start"/> to
/// Cumulative TSN Ack + <see cref="End"/> have been received.
/// </summary>
public readonly record struct GapAckBlock(ushort Start, ushort End) : ISctpItem<GapAckBlock>
{
    public static int WireSize => 4;

    public static GapAckBlock Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt16BigEndian(source), BinaryPrimitives.ReadUInt16BigEndian(source[2..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, Start);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], End);
    }
}

/// <summary>A TSN reported as received more than once (SACK, RFC 9260 §3.3.4).</summary>
public readonly record struct DuplicateTsn(uint Tsn) : ISctpItem<DuplicateTsn>
{
    public static int WireSize => 4;

    public static DuplicateTsn Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt32BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Tsn);
}

/// <summary>A stream/sequence pair of a FORWARD TSN chunk (RFC 3758 §3.2): the largest skipped SSN of an ordered stream.</summary>
public readonly record struct ForwardTsnStream(ushort StreamId, ushort StreamSequenceNumber) : ISctpItem<ForwardTsnStream>
{
    public static int WireSize => 4;

    public static ForwardTsnStream Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt16BigEndian(source), BinaryPrimitives.ReadUInt16BigEndian(source[2..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, StreamId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], StreamSequenceNumber);
    }
}

/// <summary>A stream number in a stream reset request (RFC 6525 §4.1).</summary>
public readonly record struct SctpStreamId(ushort Value) : ISctpItem<SctpStreamId>
{
    public static int WireSize => 2;

    public static SctpStreamId Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt16BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt16BigEndian(destination, Value);
}
