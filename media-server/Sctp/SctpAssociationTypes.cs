namespace TeleRehab.Media.Sctp;

/// <summary>Association states (RFC 9260 §4).</summary>
public enum SctpAssociationState
{
    Closed,
    CookieWait,
    CookieEchoed,
    Established,
    ShutdownPending,
    ShutdownSent,
    ShutdownReceived,
    ShutdownAckSent,
}

/// <summary>Result of <see cref="SctpAssociation.Send"/>.</summary>
public enum SctpSendResult
{
    Ok,
    /// <summary>Longer than the maximum message size (RFC 8841 §6), or empty (SCTP has no empty messages; DCEP uses PPIDs 56/57).</summary>
    TooLarge,
    /// <summary>The association is closed or shutting down.</summary>
    NotEstablished,
    /// <summary>The send buffer cap would be exceeded; try again after the peer acknowledges data.</summary>
    BufferFull,
    /// <summary>The stream id is not below the negotiated number of outbound streams.</summary>
    InvalidStream,
}

/// <summary>
/// Per-message send options. <see cref="MaxRetransmits"/> and <see cref="MaxPacketLifetime"/> make the
/// message partially reliable (RFC 3758; RFC 8831 §6.6): once either limit is passed, every fragment
/// of the message is abandoned together and the peer is told to skip it with FORWARD TSN.
/// </summary>
public readonly record struct SctpSendOptions(bool Unordered = false, int? MaxRetransmits = null, TimeSpan? MaxPacketLifetime = null)
{
    public static SctpSendOptions Reliable => default;
}

/// <summary>
/// Options of one association. The defaults suit WebRTC data channels: port 5000 on both sides
/// (RFC 8841 §5), a 256 KiB maximum message size (RFC 8841 §6), a path MTU of 1200 bytes of SCTP packet.
/// </summary>
public sealed class SctpAssociationOptions
{
    public ushort LocalPort { get; init; } = 5000;
    public ushort RemotePort { get; init; } = 5000;

    /// <summary>Largest user message we send or accept (RFC 8841 a=max-message-size).</summary>
    public int MaxMessageSize { get; init; } = 262144;

    /// <summary>Our receive buffer, advertised as a_rwnd; must hold a whole maximum-size message for reassembly.</summary>
    public int ReceiveWindow { get; init; } = 1024 * 1024;

    /// <summary>Cap on user bytes queued or in flight; <see cref="SctpAssociation.Send"/> answers BufferFull beyond it.</summary>
    public int SendBufferSize { get; init; } = 1024 * 1024;

    /// <summary>Largest SCTP packet we send (common header and chunks), the payload of one DTLS record.</summary>
    public int Mtu { get; init; } = 1200;

    public ushort OutboundStreams { get; init; } = 65535;
    public ushort InboundStreams { get; init; } = 65535;

    /// <summary>
    /// RTO bounds (RFC 9260 §6.3, §16). RTO.Initial stays at the RFC's 1 s; RTO.Min is 200 ms rather than
    /// the RFC's 1 s, as WebRTC stacks do, because data channels run over links with RTTs of tens of
    /// milliseconds; RTO.Max is 10 s rather than 60 s so a vanished peer is noticed in about a minute.
    /// </summary>
    public TimeSpan RtoInitial { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RtoMin { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan RtoMax { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Association.Max.Retrans (RFC 9260 §8.1): consecutive timeouts before the association fails.</summary>
    public int MaxRetransmissions { get; init; } = 10;

    /// <summary>Max.Init.Retransmits (RFC 9260 §5.1).</summary>
    public int MaxInitRetransmits { get; init; } = 8;

    /// <summary>Valid.Cookie.Life (RFC 9260 §5.1.3, §16).</summary>
    public TimeSpan CookieLifetime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>HB.interval (RFC 9260 §8.3); a heartbeat goes out when the path has been idle this long plus an RTO.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Delayed SACK timer (RFC 9260 §6.2: at most 500 ms; 200 ms is the usual value).</summary>
    public TimeSpan DelayedAckTimeout { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Source of verification tags, initial TSNs and the cookie secret. Inject a seeded one in tests.</summary>
    public Random? Random { get; init; }

    /// <summary>Fixes our initial TSN (tests of the 2^32 wrap-around); random when null.</summary>
    internal uint? InitialTsn { get; init; }
}

/// <summary>Counters of one association, for metrics and tests.</summary>
public sealed class SctpCounters
{
    public long PacketsReceived { get; internal set; }
    public long PacketsSent { get; internal set; }
    /// <summary>Packets dropped whole: bad checksum, malformed, wrong ports or verification tag, out of the blue.</summary>
    public long BadPacketsDropped { get; internal set; }
    /// <summary>Chunks dropped: malformed, unexpected in the current state, or invalid.</summary>
    public long ChunksDropped { get; internal set; }
    public long DataChunksReceived { get; internal set; }
    public long DataChunksSent { get; internal set; }
    public long DuplicateTsnsReceived { get; internal set; }
    /// <summary>DATA chunks dropped because they did not fit our receive window.</summary>
    public long DataChunksDroppedNoWindow { get; internal set; }
    public long Retransmissions { get; internal set; }
    public long FastRetransmissions { get; internal set; }
    public long T3Expirations { get; internal set; }
    public long MessagesSent { get; internal set; }
    public long MessagesReceived { get; internal set; }
    public long MessagesAbandoned { get; internal set; }
    /// <summary>Inbound messages longer than <see cref="SctpAssociationOptions.MaxMessageSize"/>, dropped (their fragments too).</summary>
    public long MessagesDroppedTooLarge { get; internal set; }
    public long ForwardTsnsSent { get; internal set; }
    public long ForwardTsnsReceived { get; internal set; }
    public long SacksSent { get; internal set; }
    public long SacksReceived { get; internal set; }
    public long HeartbeatsSent { get; internal set; }
    public long InvalidCookies { get; internal set; }
    public long StaleCookies { get; internal set; }
    public long UnrecognizedChunks { get; internal set; }
}

/// <summary>Something the association reports; poll with <see cref="SctpAssociation.TryPollEvent"/>.</summary>
public abstract record SctpEvent;

/// <summary>The association reached ESTABLISHED.</summary>
public sealed record SctpConnected : SctpEvent;

/// <summary>A complete user message (reassembled, delivered in order for ordered streams). The payload is the caller's to keep.</summary>
public sealed record SctpMessageReceived(ushort StreamId, uint PayloadProtocol, byte[] Payload, bool Unordered) : SctpEvent;

/// <summary>The peer reset these incoming streams (RFC 6525 §5.2.2): their SSNs start again at 0.</summary>
public sealed record SctpStreamsReset(ushort[] StreamIds) : SctpEvent;

/// <summary>Our Outgoing SSN Reset Request for these streams was performed by the peer (RFC 6525 §5.2.7).</summary>
public sealed record SctpOutgoingStreamsReset(ushort[] StreamIds) : SctpEvent;

/// <summary>Our Outgoing SSN Reset Request was denied or failed; the streams are as before.</summary>
public sealed record SctpStreamResetFailed(ushort[] StreamIds, ReconfigurationResult Result) : SctpEvent;

/// <summary>The association is closed: shut down, aborted by either side, or failed.</summary>
public sealed record SctpClosed(string Reason, bool Graceful) : SctpEvent;
