namespace TeleRehab.Media.Sctp;

/// <summary>Shutdown Acknowledgement (SHUTDOWN ACK) chunk, RFC 9260 §3.3.9: no value; length 4.</summary>
public readonly ref struct ShutdownAcknowledgement : ISctpChunkWriter
{
    public static bool TryParse(SctpChunk chunk, out ShutdownAcknowledgement result)
    {
        result = default;
        return chunk.Type == SctpChunkType.ShutdownAck && chunk.Length == SctpChunk.HeaderSize;
    }

    public int GetSerializedLength() => SctpChunk.HeaderSize;

    public int WriteTo(Span<byte> destination) => SctpChunk.WriteHeader(destination, (byte)SctpChunkType.ShutdownAck, 0, SctpChunk.HeaderSize);
}
