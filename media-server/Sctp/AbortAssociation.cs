namespace TeleRehab.Media.Sctp;

/// <summary>
/// Abort Association (ABORT) chunk, RFC 9260 §3.3.7: the T bit (set when the Verification Tag is
/// reflected rather than the peer's) and zero or more error causes (§3.3.10).
/// </summary>
public readonly ref struct AbortAssociation : ISctpChunkWriter
{
    public const byte TBit = 0x01;

    /// <param name="errorCauses">Encoded causes (see <see cref="SctpErrorCause.WriteTo"/>), each padded to 4 bytes.</param>
    public AbortAssociation(bool verificationTagReflected, ReadOnlySpan<byte> errorCauses = default)
    {
        VerificationTagReflected = verificationTagReflected;
        ErrorCauses = errorCauses;
    }

    /// <summary>The T bit.</summary>
    public bool VerificationTagReflected { get; }

    /// <summary>The error causes; walk them with <see cref="SctpTlvReader"/> or <see cref="SctpErrorCause.TryRead"/>.</summary>
    public ReadOnlySpan<byte> ErrorCauses { get; }

    public static bool TryParse(SctpChunk chunk, out AbortAssociation abort)
    {
        abort = default;
        if (!TlvListChunk.TryParse(chunk, SctpChunkType.Abort, out var causes)) return false;
        abort = new AbortAssociation((chunk.Flags & TBit) != 0, causes);
        return true;
    }

    public int GetSerializedLength() => TlvListChunk.GetSerializedLength(ErrorCauses);

    public int WriteTo(Span<byte> destination) =>
        TlvListChunk.Write(destination, SctpChunkType.Abort, VerificationTagReflected ? TBit : (byte)0, ErrorCauses);
}
