namespace TeleRehab.Media.Sctp;

/// <summary>
/// Heartbeat Acknowledgement (HEARTBEAT ACK) chunk, RFC 9260 §3.3.6: one Heartbeat Info parameter (type 1) whose sender-specific
/// information the acknowledgement echoes unchanged.
/// </summary>
public readonly ref struct HeartbeatAcknowledgement : ISctpChunkWriter
{
    public HeartbeatAcknowledgement(ReadOnlySpan<byte> heartbeatInfo) => HeartbeatInfo = heartbeatInfo;

    /// <summary>The Heartbeat Information field (the parameter's value).</summary>
    public ReadOnlySpan<byte> HeartbeatInfo { get; }

    public static bool TryParse(SctpChunk chunk, out HeartbeatAcknowledgement result)
    {
        result = default;
        if (chunk.Type != SctpChunkType.HeartbeatAck) return false;
        if (!SctpTlv.TryRead(chunk.Value, out var info, out _) || info.Type != (ushort)SctpParameterType.HeartbeatInfo) return false;
        result = new HeartbeatAcknowledgement(info.Value);
        return true;
    }

    public int GetSerializedLength() => SctpChunk.HeaderSize + SctpTlv.GetSerializedLength(HeartbeatInfo.Length);

    public int WriteTo(Span<byte> destination)
    {
        int padded = SctpChunk.WriteHeader(destination, (byte)SctpChunkType.HeartbeatAck, 0, SctpChunk.HeaderSize + SctpTlv.HeaderSize + HeartbeatInfo.Length);
        SctpTlv.Write(destination[SctpChunk.HeaderSize..], (ushort)SctpParameterType.HeartbeatInfo, HeartbeatInfo);
        return padded;
    }
}
