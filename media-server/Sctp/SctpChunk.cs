using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>SCTP chunk types (RFC 9260 §3.2; FORWARD TSN: RFC 3758 §3.2; RE-CONFIG: RFC 6525 §3.1).</summary>
public enum SctpChunkType : byte
{
    Data = 0,
    Init = 1,
    InitAck = 2,
    Sack = 3,
    Heartbeat = 4,
    HeartbeatAck = 5,
    Abort = 6,
    Shutdown = 7,
    ShutdownAck = 8,
    Error = 9,
    CookieEcho = 10,
    CookieAck = 11,
    ShutdownComplete = 14,
    ReConfig = 130,
    ForwardTsn = 192,
}

/// <summary>
/// What a receiver does with a chunk type (RFC 9260 §3.2) or parameter type (§3.2.1) it does not
/// recognize, encoded in the two highest bits of the type.
/// </summary>
public enum SctpUnrecognizedAction
{
    /// <summary>00: stop processing the packet (for a parameter: the chunk's remaining parameters).</summary>
    Stop = 0,
    /// <summary>01: stop, and report it in an ERROR chunk (Unrecognized Chunk Type, or Unrecognized Parameters).</summary>
    StopAndReport = 1,
    /// <summary>10: skip it and continue.</summary>
    Skip = 2,
    /// <summary>11: skip it and continue, but report it.</summary>
    SkipAndReport = 3,
}

/// <summary>The high-bit rules of RFC 9260 §3.2 (chunks) and §3.2.1 (parameters).</summary>
public static class SctpUnrecognized
{
    /// <summary>Action for an unrecognized chunk type (its two high bits, RFC 9260 §3.2).</summary>
    public static SctpUnrecognizedAction ForChunk(byte chunkType) => (SctpUnrecognizedAction)(chunkType >> 6);

    /// <summary>Action for an unrecognized parameter type (its two high bits, RFC 9260 §3.2.1).</summary>
    public static SctpUnrecognizedAction ForParameter(ushort parameterType) => (SctpUnrecognizedAction)(parameterType >> 14);

    /// <summary>True for the actions that continue with the next chunk or parameter.</summary>
    public static bool Continues(this SctpUnrecognizedAction action) => action >= SctpUnrecognizedAction.Skip;

    /// <summary>True for the actions that ask for an ERROR report.</summary>
    public static bool Reports(this SctpUnrecognizedAction action) => ((int)action & 1) != 0;
}

/// <summary>
/// A view of one chunk (RFC 9260 §3.2): Chunk Type, Chunk Flags, Chunk Length (header and value,
/// without padding) and Chunk Value. Chunks are padded with zero bytes to a multiple of 4; the
/// padding is not counted in the length and the receiver ignores its content.
/// </summary>
public readonly ref struct SctpChunk
{
    public const int HeaderSize = 4;

    private SctpChunk(ReadOnlySpan<byte> bytes)
    {
        Bytes = bytes;
    }

    /// <summary>The chunk as declared by its length: header and value, without padding.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    public byte TypeCode => Bytes[0];
    public SctpChunkType Type => (SctpChunkType)Bytes[0];
    public byte Flags => Bytes[1];
    public int Length => Bytes.Length;
    public ReadOnlySpan<byte> Value => Bytes[HeaderSize..];

    /// <summary>
    /// Reads the chunk at the start of <paramref name="source"/>. Fails when fewer than 4 bytes remain,
    /// the Chunk Length is below 4, or it runs past <paramref name="source"/>. <paramref name="consumed"/>
    /// includes the padding; a last chunk whose padding is missing (source ends right after its
    /// length) is accepted, as the receiver ignores padding (RFC 9260 §3.2).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out SctpChunk chunk, out int consumed)
    {
        chunk = default;
        consumed = 0;
        if (source.Length < HeaderSize) return false;
        int length = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
        if (length < HeaderSize || length > source.Length) return false;
        chunk = new SctpChunk(source[..length]);
        consumed = Math.Min(PaddedLength(length), source.Length);
        return true;
    }

    /// <summary>Reads a chunk and checks its type.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, SctpChunkType expected, out SctpChunk chunk)
    {
        if (!TryRead(source, out chunk, out _) || chunk.Type != expected)
        {
            chunk = default;
            return false;
        }
        return true;
    }

    /// <summary>Rounds a length up to a multiple of 4.</summary>
    public static int PaddedLength(int length) => (length + 3) & ~3;

    /// <summary>
    /// Writes a chunk header with the unpadded <paramref name="length"/>, and zeroes the padding after
    /// <paramref name="length"/>. Returns the padded length. Throws when the destination is too small.
    /// </summary>
    internal static int WriteHeader(Span<byte> destination, byte type, byte flags, int length)
    {
        int padded = PaddedLength(length);
        if ((uint)length > ushort.MaxValue) throw new ArgumentException("Chunk longer than 65535 bytes.");
        if (destination.Length < padded) throw new ArgumentException("Destination too small.", nameof(destination));
        destination[0] = type;
        destination[1] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
        destination[length..padded].Clear();
        return padded;
    }
}

/// <summary>
/// Walks the chunks of a packet (RFC 9260 §3.2). Stops at the end or at the first malformed chunk,
/// which <see cref="IsMalformed"/> then reports.
/// </summary>
public ref struct SctpChunkReader
{
    private ReadOnlySpan<byte> _remaining;

    public SctpChunkReader(ReadOnlySpan<byte> chunks)
    {
        _remaining = chunks;
        IsMalformed = false;
    }

    public bool IsMalformed { get; private set; }

    public readonly bool IsAtEnd => _remaining.IsEmpty;

    public bool TryReadNext(out SctpChunk chunk)
    {
        chunk = default;
        if (_remaining.IsEmpty || IsMalformed) return false;
        if (!SctpChunk.TryRead(_remaining, out chunk, out int consumed))
        {
            IsMalformed = true;
            return false;
        }
        _remaining = _remaining[consumed..];
        return true;
    }

    /// <summary>Enables <c>foreach</c>; stops silently at a malformed chunk (check <see cref="SctpPacket.TryParse"/> first).</summary>
    public readonly SctpChunkReader GetEnumerator() => this;

    private SctpChunk _current;
    public readonly SctpChunk Current => _current;
    public bool MoveNext() => TryReadNext(out _current);
}

/// <summary>A chunk writer, so <see cref="SctpPacketWriter"/> can append any chunk without boxing.</summary>
public interface ISctpChunkWriter
{
    /// <summary>Length on the wire, including padding to 4 bytes.</summary>
    int GetSerializedLength();

    /// <summary>Writes the chunk with its padding; returns <see cref="GetSerializedLength"/>.</summary>
    int WriteTo(Span<byte> destination);
}
