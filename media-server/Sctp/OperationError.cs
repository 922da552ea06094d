namespace TeleRehab.Media.Sctp;

/// <summary>
/// Operation Error (ERROR) chunk, RFC 9260 §3.3.10: one or more error causes reporting conditions
/// that do not end the association (for example an unrecognized chunk or parameter).
/// </summary>
public readonly ref struct OperationError : ISctpChunkWriter
{
    /// <param name="errorCauses">Encoded causes (see <see cref="SctpErrorCause.WriteTo"/>), each padded to 4 bytes.</param>
    public OperationError(ReadOnlySpan<byte> errorCauses) => ErrorCauses = errorCauses;

    public ReadOnlySpan<byte> ErrorCauses { get; }

    public static bool TryParse(SctpChunk chunk, out OperationError error)
    {
        error = default;
        if (!TlvListChunk.TryParse(chunk, SctpChunkType.Error, out var causes)) return false;
        error = new OperationError(causes);
        return true;
    }

    public int GetSerializedLength() => TlvListChunk.GetSerializedLength(ErrorCauses);

    public int WriteTo(Span<byte> destination) => TlvListChunk.Write(destination, SctpChunkType.Error, 0, ErrorCauses);
}
