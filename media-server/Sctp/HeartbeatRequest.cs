namespace TeleRehab.Media.Sctp;

/// <summary>
/// Heartbeat Request (HEARTBEAT) chunk, RFC 9260 §3.3.5: one Heartbeat Info parameter (type 1) whose sender-specific
/// information the acknowledgement echoes unchanged.
/// </summary>
public readonly ref struct HeartbeatRequest : ISctpChunkWriter
{
    public HeartbeatRequest(ReadOnlySpan<byte> heartbeatInfo) => HeartbeatInfo = heartbeatInfo;

    /// <summary>The Heartbeat Information field (the parameter's value).</summary>
    public ReadOnlySpan<byte> HeartbeatInfo { get; }

    public static bool TryParse(SctpChunk chunk, out HeartbeatRequest result)
    {
        result = default;
        if (chunk.Type != SctpChunkType.Heartbeat) return false;
        if (!SctpTlv.TryRead(chunk.Value, out var info, out _) || info.Type != (ushort)SctpParameterType.HeartbeatInfo) return false;
        result = new HeartbeatRequest(info.Value);
        return true;
    }

    public int GetSerializedLength() => SctpChunk.HeaderSize + SctpTlv.GetSerializedLength(HeartbeatInfo.Length);

    public int WriteTo(Span<byte> destination)
    {
        int padded = SctpChunk.WriteHeader(destination, (byte)SctpChunkType.Heartbeat, 0, SctpChunk.HeaderSize + SctpTlv.HeaderSize + HeartbeatInfo.Length);
        SctpTlv.Write(destination[SctpChunk.HeaderSize..], (ushort)SctpParameterType.HeartbeatInfo, HeartbeatInfo);
        return padded;
    }
}
