using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>Parameter types carried in INIT, INIT ACK, HEARTBEAT and RE-CONFIG chunks.</summary>
public enum SctpParameterType : ushort
{
    /// <summary>Heartbeat Info (RFC 9260 §3.3.5).</summary>
    HeartbeatInfo = 1,
    Ipv4Address = 5,
    Ipv6Address = 6,
    /// <summary>State Cookie (RFC 9260 §3.3.3.1).</summary>
    StateCookie = 7,
    UnrecognizedParameter = 8,
    CookiePreservative = 9,
    HostNameAddress = 11,
    SupportedAddressTypes = 12,
    /// <summary>Outgoing SSN Reset Request (RFC 6525 §4.1).</summary>
    OutgoingSsnResetRequest = 13,
    /// <summary>Incoming SSN Reset Request (RFC 6525 §4.2).</summary>
    IncomingSsnResetRequest = 14,
    /// <summary>SSN/TSN Reset Request (RFC 6525 §4.3).</summary>
    SsnTsnResetRequest = 15,
    /// <summary>Re-configuration Response (RFC 6525 §4.4).</summary>
    ReconfigurationResponse = 16,
    /// <summary>Add Outgoing Streams Request (RFC 6525 §4.5).</summary>
    AddOutgoingStreamsRequest = 17,
    /// <summary>Add Incoming Streams Request (RFC 6525 §4.6).</summary>
    AddIncomingStreamsRequest = 18,
    /// <summary>Supported Extensions (RFC 5061 §4.2.7).</summary>
    SupportedExtensions = 0x8008,
    /// <summary>Forward-TSN-Supported (RFC 3758 §3.1).</summary>
    ForwardTsnSupported = 0xC000,
}

/// <summary>
/// A view of one type-length-value field: a variable-length parameter (RFC 9260 §3.2.1) or an error
/// cause (§3.3.10), which share the layout: 16-bit type, 16-bit length (including these 4 bytes,
/// excluding padding), value, zero padding to a multiple of 4.
/// </summary>
public readonly ref struct SctpTlv
{
    public const int HeaderSize = 4;

    private SctpTlv(ReadOnlySpan<byte> bytes) => Bytes = bytes;

    /// <summary>The field as declared by its length, without padding.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    public ushort Type => BinaryPrimitives.ReadUInt16BigEndian(Bytes);
    public int Length => Bytes.Length;
    public ReadOnlySpan<byte> Value => Bytes[HeaderSize..];

    /// <summary>
    /// Reads the field at the start of <paramref name="source"/>; fails when its length is below 4 or runs
    /// past the source. <paramref name="consumed"/> includes padding; missing padding at the very end is
    /// accepted (RFC 9260 §3.2.1: the final padding may or may not be present).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out SctpTlv tlv, out int consumed)
    {
        tlv = default;
        consumed = 0;
        if (source.Length < HeaderSize) return false;
        int length = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
        if (length < HeaderSize || length > source.Length) return false;
        tlv = new SctpTlv(source[..length]);
        consumed = Math.Min(SctpChunk.PaddedLength(length), source.Length);
        return true;
    }

    /// <summary>Padded length of a field with a value of <paramref name="valueLength"/> bytes.</summary>
    public static int GetSerializedLength(int valueLength) => SctpChunk.PaddedLength(HeaderSize + valueLength);

    /// <summary>Writes a field with its padding; returns the padded length. Throws when the destination is too small.</summary>
    public static int Write(Span<byte> destination, ushort type, ReadOnlySpan<byte> value)
    {
        int length = HeaderSize + value.Length;
        int padded = SctpChunk.PaddedLength(length);
        if (length > ushort.MaxValue) throw new ArgumentException("Field longer than 65535 bytes.");
        if (destination.Length < padded) throw new ArgumentException("Destination too small.", nameof(destination));
        WriteHeader(destination, type, length);
        value.CopyTo(destination[HeaderSize..]);
        destination[length..padded].Clear();
        return padded;
    }

    internal static void WriteHeader(Span<byte> destination, ushort type, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
    }
}

/// <summary>Walks a sequence of parameters or error causes; stops at the end or at the first malformed one.</summary>
public ref struct SctpTlvReader
{
    private ReadOnlySpan<byte> _remaining;

    public SctpTlvReader(ReadOnlySpan<byte> fields)
    {
        _remaining = fields;
        IsMalformed = false;
    }

    public bool IsMalformed { get; private set; }

    public readonly bool IsAtEnd => _remaining.IsEmpty;

    public bool TryReadNext(out SctpTlv tlv)
    {
        tlv = default;
        if (_remaining.IsEmpty || IsMalformed) return false;
        if (!SctpTlv.TryRead(_remaining, out tlv, out int consumed))
        {
            IsMalformed = true;
            return false;
        }
        _remaining = _remaining[consumed..];
        return true;
    }

    /// <summary>True when <paramref name="fields"/> is a well-formed sequence (possibly empty).</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> fields)
    {
        var reader = new SctpTlvReader(fields);
        while (reader.TryReadNext(out _)) { }
        return !reader.IsMalformed;
    }
}
