using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>Shutdown Association (SHUTDOWN) chunk, RFC 9260 §3.3.8: the Cumulative TSN Ack; length 8.</summary>
public readonly ref struct ShutdownAssociation : ISctpChunkWriter
{
    public const int Size = 8;

    public ShutdownAssociation(uint cumulativeTsnAck) => CumulativeTsnAck = cumulativeTsnAck;

    public uint CumulativeTsnAck { get; }

    public static bool TryParse(SctpChunk chunk, out ShutdownAssociation shutdown)
    {
        shutdown = default;
        if (chunk.Type != SctpChunkType.Shutdown || chunk.Length != Size) return false;
        shutdown = new ShutdownAssociation(BinaryPrimitives.ReadUInt32BigEndian(chunk.Value));
        return true;
    }

    public int GetSerializedLength() => Size;

    public int WriteTo(Span<byte> destination)
    {
        SctpChunk.WriteHeader(destination, (byte)SctpChunkType.Shutdown, 0, Size);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], CumulativeTsnAck);
        return Size;
    }
}
