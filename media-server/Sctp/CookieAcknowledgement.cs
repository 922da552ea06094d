namespace TeleRehab.Media.Sctp;

/// <summary>Cookie Acknowledgement (COOKIE ACK) chunk, RFC 9260 §3.3.12: no value; length 4.</summary>
public readonly ref struct CookieAcknowledgement : ISctpChunkWriter
{
    public static bool TryParse(SctpChunk chunk, out CookieAcknowledgement result)
    {
        result = default;
        return chunk.Type == SctpChunkType.CookieAck && chunk.Length == SctpChunk.HeaderSize;
    }

    public int GetSerializedLength() => SctpChunk.HeaderSize;

    public int WriteTo(Span<byte> destination) => SctpChunk.WriteHeader(destination, (byte)SctpChunkType.CookieAck, 0, SctpChunk.HeaderSize);
}
