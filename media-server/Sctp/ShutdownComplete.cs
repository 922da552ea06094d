namespace TeleRehab.Media.Sctp;

/// <summary>
/// Shutdown Complete (SHUTDOWN COMPLETE) chunk, RFC 9260 §3.3.13: the T bit (Verification Tag
/// reflected) and no value; length 4.
/// </summary>
public readonly ref struct ShutdownComplete : ISctpChunkWriter
{
    public const byte TBit = 0x01;

    public ShutdownComplete(bool verificationTagReflected) => VerificationTagReflected = verificationTagReflected;

    public bool VerificationTagReflected { get; }

    public static bool TryParse(SctpChunk chunk, out ShutdownComplete result)
    {
        result = default;
        if (chunk.Type != SctpChunkType.ShutdownComplete || chunk.Length != SctpChunk.HeaderSize) return false;
        result = new ShutdownComplete((chunk.Flags & TBit) != 0);
        return true;
    }

    public int GetSerializedLength() => SctpChunk.HeaderSize;

    public int WriteTo(Span<byte> destination) =>
        SctpChunk.WriteHeader(destination, (byte)SctpChunkType.ShutdownComplete, VerificationTagReflected ? TBit : (byte)0, SctpChunk.HeaderSize);
}
