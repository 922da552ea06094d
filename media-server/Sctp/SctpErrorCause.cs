namespace TeleRehab.Media.Sctp;

/// <summary>Error cause codes (RFC 9260 §3.3.10.1–13; RFC 6525 has none of its own).</summary>
public enum SctpErrorCauseCode : ushort
{
    InvalidStreamIdentifier = 1,
    MissingMandatoryParameter = 2,
    StaleCookie = 3,
    OutOfResource = 4,
    UnresolvableAddress = 5,
    UnrecognizedChunkType = 6,
    InvalidMandatoryParameter = 7,
    UnrecognizedParameters = 8,
    NoUserData = 9,
    CookieReceivedWhileShuttingDown = 10,
    RestartWithNewAddresses = 11,
    UserInitiatedAbort = 12,
    ProtocolViolation = 13,
}

/// <summary>
/// One error cause (RFC 9260 §3.3.10): Cause Code, Cause Length, Cause-Specific Information, padded to
/// 4 bytes. Used inside ABORT and ERROR chunks; read a sequence of them with <see cref="SctpTlvReader"/>.
/// </summary>
public readonly ref struct SctpErrorCause
{
    public SctpErrorCause(SctpErrorCauseCode code, ReadOnlySpan<byte> information)
    {
        Code = code;
        Information = information;
    }

    public SctpErrorCauseCode Code { get; }
    public ReadOnlySpan<byte> Information { get; }

    public static bool TryRead(ReadOnlySpan<byte> source, out SctpErrorCause cause, out int consumed)
    {
        cause = default;
        if (!SctpTlv.TryRead(source, out var tlv, out consumed)) return false;
        cause = new SctpErrorCause((SctpErrorCauseCode)tlv.Type, tlv.Value);
        return true;
    }

    public int GetSerializedLength() => SctpTlv.GetSerializedLength(Information.Length);

    public int WriteTo(Span<byte> destination) => SctpTlv.Write(destination, (ushort)Code, Information);
}

/// <summary>Shared by ABORT, ERROR and RE-CONFIG: a chunk whose value is a list of error causes or parameters.</summary>
internal static class TlvListChunk
{
    public static bool TryParse(SctpChunk chunk, SctpChunkType type, out ReadOnlySpan<byte> causes)
    {
        causes = default;
        if (chunk.Type != type || !SctpTlvReader.IsWellFormed(chunk.Value)) return false;
        causes = chunk.Value;
        return true;
    }

    /// <summary>
    /// Writes the chunk. <paramref name="causes"/> are encoded causes, each padded; the Chunk Length
    /// leaves out the last cause's padding, found by walking them.
    /// </summary>
    public static int Write(Span<byte> destination, SctpChunkType type, byte flags, ReadOnlySpan<byte> causes)
    {
        int unpadded = SctpChunk.HeaderSize + causes.Length - LastPadding(causes);
        int padded = SctpChunk.WriteHeader(destination, (byte)type, flags, unpadded);
        causes[..(unpadded - SctpChunk.HeaderSize)].CopyTo(destination[SctpChunk.HeaderSize..]);
        return padded;
    }

    public static int GetSerializedLength(ReadOnlySpan<byte> causes) => SctpChunk.PaddedLength(SctpChunk.HeaderSize + causes.Length - LastPadding(causes));

    private static int LastPadding(ReadOnlySpan<byte> causes)
    {
        var reader = new SctpTlvReader(causes);
        int last = 0, end = 0;
        while (reader.TryReadNext(out var tlv))
        {
            last = end + tlv.Length;
            end = last + SctpChunk.PaddedLength(tlv.Length) - tlv.Length;
            end = Math.Min(end, causes.Length);
        }
        if (reader.IsMalformed) throw new ArgumentException("Fields are malformed.", nameof(causes));
        return causes.Length - last;
    }
}
