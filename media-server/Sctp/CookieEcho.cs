namespace TeleRehab.Media.Sctp;

/// <summary>Cookie Echo (COOKIE ECHO) chunk, RFC 9260 §3.3.11: the State Cookie received in the INIT ACK, unchanged.</summary>
public readonly ref struct CookieEcho : ISctpChunkWriter
{
    public CookieEcho(ReadOnlySpan<byte> cookie) => Cookie = cookie;

    public ReadOnlySpan<byte> Cookie { get; }

    public static bool TryParse(SctpChunk chunk, out CookieEcho echo)
    {
        echo = default;
        if (chunk.Type != SctpChunkType.CookieEcho) return false;
        echo = new CookieEcho(chunk.Value);
        return true;
    }

    public int GetSerializedLength() => SctpChunk.PaddedLength(SctpChunk.HeaderSize + Cookie.Length);

    public int WriteTo(Span<byte> destination)
    {
        int padded = SctpChunk.WriteHeader(destination, (byte)SctpChunkType.CookieEcho, 0, SctpChunk.HeaderSize + Cookie.Length);
        Cookie.CopyTo(destination[SctpChunk.HeaderSize..]);
        return padded;
    }
}
