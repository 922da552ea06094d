using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// An SCTP packet (RFC 9260 §3): the 12-byte common header of §3.1 (Source Port, Destination Port,
/// Verification Tag, Checksum) followed by one or more chunks (§3.2). A view over the caller's bytes.
/// The checksum is CRC32c over the whole packet with the checksum field taken as zero (§6.8,
/// Appendix A), stored least significant byte first as the appendix's reference code does.
/// </summary>
public readonly ref struct SctpPacket
{
    public const int CommonHeaderSize = 12;

    private SctpPacket(ReadOnlySpan<byte> bytes) => Bytes = bytes;

    public ReadOnlySpan<byte> Bytes { get; }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(Bytes);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(Bytes[2..]);
    public uint VerificationTag => BinaryPrimitives.ReadUInt32BigEndian(Bytes[4..]);

    /// <summary>The checksum field as stored (little-endian CRC32c).</summary>
    public uint Checksum => BinaryPrimitives.ReadUInt32LittleEndian(Bytes[8..]);

    /// <summary>The chunk area after the common header.</summary>
    public ReadOnlySpan<byte> ChunkBytes => Bytes.Length > CommonHeaderSize ? Bytes[CommonHeaderSize..] : default;

    public SctpChunkReader Chunks => new(ChunkBytes);

    /// <summary>
    /// Parses the common header and checks that the chunk area is one or more well-formed chunks.
    /// Does not check the checksum (see <see cref="HasValidChecksum"/>). Never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out SctpPacket result)
    {
        result = default;
        if (packet.Length < CommonHeaderSize + SctpChunk.HeaderSize) return false;
        var reader = new SctpChunkReader(packet[CommonHeaderSize..]);
        while (reader.TryReadNext(out _)) { }
        if (reader.IsMalformed) return false;
        result = new SctpPacket(packet);
        return true;
    }

    /// <summary>CRC32c of <paramref name="packet"/> with its checksum field taken as zero.</summary>
    public static uint ComputeChecksum(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < CommonHeaderSize) throw new ArgumentException("Shorter than the common header.", nameof(packet));
        uint state = Crc32c.Update(0xFFFFFFFFu, packet[..8]);
        state = Crc32c.Update(state, stackalloc byte[4]);
        state = Crc32c.Update(state, packet[CommonHeaderSize..]);
        return ~state;
    }

    /// <summary>True when the packet is at least a common header long and its checksum is right. Never throws.</summary>
    public static bool HasValidChecksum(ReadOnlySpan<byte> packet) =>
        packet.Length >= CommonHeaderSize
        && BinaryPrimitives.ReadUInt32LittleEndian(packet[8..]) == ComputeChecksum(packet);

    /// <summary>Computes and stores the checksum of a complete packet.</summary>
    public static void WriteChecksum(Span<byte> packet) =>
        BinaryPrimitives.WriteUInt32LittleEndian(packet[8..], ComputeChecksum(packet));

    /// <summary>Writes the common header with a zero checksum; returns 12.</summary>
    public static int WriteCommonHeader(Span<byte> destination, ushort sourcePort, ushort destinationPort, uint verificationTag)
    {
        if (destination.Length < CommonHeaderSize) throw new ArgumentException("Destination too small.", nameof(destination));
        BinaryPrimitives.WriteUInt16BigEndian(destination, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], verificationTag);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], 0);
        return CommonHeaderSize;
    }
}

/// <summary>
/// Builds a packet in the caller's buffer: common header, then chunks, then <see cref="Finish"/>
/// writes the checksum and returns the packet length.
/// </summary>
public ref struct SctpPacketWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public SctpPacketWriter(Span<byte> buffer, ushort sourcePort, ushort destinationPort, uint verificationTag)
    {
        _buffer = buffer;
        _length = SctpPacket.WriteCommonHeader(buffer, sourcePort, destinationPort, verificationTag);
    }

    public readonly int Length => _length;

    public readonly int Remaining => _buffer.Length - _length;

    /// <summary>Appends a chunk; throws when it does not fit (check <see cref="Remaining"/> first).</summary>
    public void Append<T>(T chunk) where T : ISctpChunkWriter, allows ref struct
    {
        _length += chunk.WriteTo(_buffer[_length..]);
    }

    /// <summary>Writes the checksum; returns the packet length.</summary>
    public readonly int Finish()
    {
        SctpPacket.WriteChecksum(_buffer[.._length]);
        return _length;
    }
}
