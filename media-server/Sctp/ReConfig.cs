namespace TeleRehab.Media.Sctp;

/// <summary>Re-configuration Response results (RFC 6525 §4.4).</summary>
public enum ReconfigurationResult : uint
{
    SuccessNothingToDo = 0,
    SuccessPerformed = 1,
    Denied = 2,
    ErrorWrongSsn = 3,
    ErrorRequestAlreadyInProgress = 4,
    ErrorBadSequenceNumber = 5,
    InProgress = 6,
}

/// <summary>
/// Re-configuration (RE-CONFIG) chunk, RFC 6525 §3.1: one or two re-configuration parameters
/// (requests or responses, §4), read with <see cref="First"/>/<see cref="Second"/> and then
/// <see cref="OutgoingSsnResetRequest"/> or <see cref="ReconfigurationResponse"/>.
/// </summary>
public readonly ref struct ReConfig : ISctpChunkWriter
{
    /// <param name="parameters">One or two encoded parameters, each padded to 4 bytes.</param>
    public ReConfig(ReadOnlySpan<byte> parameters) => Parameters = parameters;

    public ReadOnlySpan<byte> Parameters { get; }

    /// <summary>The first parameter (always present in a parsed chunk).</summary>
    public SctpTlv First
    {
        get
        {
            SctpTlv.TryRead(Parameters, out var tlv, out _);
            return tlv;
        }
    }

    /// <summary>The second parameter, when there is one.</summary>
    public bool TryGetSecond(out SctpTlv second)
    {
        second = default;
        var reader = new SctpTlvReader(Parameters);
        return reader.TryReadNext(out _) && reader.TryReadNext(out second);
    }

    public int ParameterCount
    {
        get
        {
            var reader = new SctpTlvReader(Parameters);
            int count = 0;
            while (reader.TryReadNext(out _)) count++;
            return count;
        }
    }

    public static bool TryParse(SctpChunk chunk, out ReConfig reconfig)
    {
        reconfig = default;
        if (!TlvListChunk.TryParse(chunk, SctpChunkType.ReConfig, out var parameters)) return false;
        var candidate = new ReConfig(parameters);
        int count = candidate.ParameterCount;
        if (count is < 1 or > 2) return false;
        reconfig = candidate;
        return true;
    }

    public int GetSerializedLength() => TlvListChunk.GetSerializedLength(Parameters);

    public int WriteTo(Span<byte> destination) => TlvListChunk.Write(destination, SctpChunkType.ReConfig, 0, Parameters);
}
