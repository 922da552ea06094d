using TeleRehab.Media.Sctp;
using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.WebRtc;

/// <summary>What the SDP agreed for a peer's data channel section (RFC 8841).</summary>
/// <param name="Mid">The section's mid.</param>
/// <param name="LocalPort">Our a=sctp-port: the destination port of SCTP packets we accept.</param>
/// <param name="RemotePort">The peer's a=sctp-port: the source port of SCTP packets we accept.</param>
/// <param name="LocalMaxMessageSize">The largest message we accept (0: no limit).</param>
/// <param name="RemoteMaxMessageSize">The largest message the peer accepts (0: no limit; 65536 when it said nothing).</param>
public sealed record DataChannelParameters(string Mid, ushort LocalPort, ushort RemotePort, long LocalMaxMessageSize, long RemoteMaxMessageSize)
{
    /// <summary>The parameters of the session's accepted data channel section, or null when it has none.</summary>
    public static DataChannelParameters? FromSession(NegotiatedSession session)
    {
        if (session.DataChannel is not { } media) return null;
        return new DataChannelParameters(media.Mid,
            (ushort)(media.LocalSctpPort ?? SdpDataChannel.DefaultSctpPort),
            (ushort)(media.SctpPort ?? SdpDataChannel.DefaultSctpPort),
            media.LocalMaxMessageSize ?? SdpLocalParameters.DefaultMaxMessageSize,
            media.MaxMessageSize ?? SdpDataChannel.DefaultMaxMessageSize);
    }
}

/// <summary>Why an inbound DTLS application record was not taken as an SCTP packet.</summary>
public enum DataChannelDrop
{
    None,
    /// <summary>Not an SCTP packet: shorter than a common header and one chunk, or chunks that do not parse (RFC 9260 §3).</summary>
    Malformed,
    /// <summary>The CRC32c checksum is wrong (RFC 9260 §6.8: discarded silently).</summary>
    BadChecksum,
    /// <summary>Source or destination port is not the one the SDP negotiated (RFC 8841 §5).</summary>
    WrongPort,
}

/// <summary>What <see cref="DataChannelTransport.Send"/> did with a message.</summary>
public enum DataChannelSendResult
{
    /// <summary>Queued in the association (it goes out as the congestion window allows).</summary>
    Sent,
    /// <summary>No open channel has this stream id (never opened, refused, or closed).</summary>
    NoSuchChannel,
    /// <summary>The association is not up (not yet established, or closed).</summary>
    NotConnected,
    /// <summary>Larger than the peer's a=max-message-size (RFC 8841 §6); dropped and counted.</summary>
    TooLarge,
    /// <summary>The association's send buffer is full; dropped and counted. A forwarder checks
    /// <see cref="DataChannelTransport.BufferedAmount"/> first and drops stale data itself.</summary>
    BufferFull,
}

/// <summary>What happens on a peer's data channels, raised on the peer's worker (never concurrently for one peer).
/// The <c>data</c> span is valid only during the call.</summary>
public interface IDataChannelHandler
{
    /// <summary>The SCTP association is up: <see cref="DataChannelTransport.OpenChannel"/> and sends work from now on.</summary>
    void OnConnected(DataChannelTransport transport) { }

    /// <summary>A channel opened: one the peer opened and the policy accepted, or ours once the peer acknowledged it.</summary>
    void OnChannelOpened(DataChannelTransport transport, DataChannel channel);

    /// <summary>A user message on an open channel (text is UTF-8).</summary>
    void OnMessage(DataChannelTransport transport, DataChannel channel, ReadOnlySpan<byte> data, bool isText);

    /// <summary>A channel closed (both streams reset, RFC 8831 §6.7, or the association went away).</summary>
    void OnChannelClosed(DataChannelTransport transport, DataChannel channel);
}

/// <summary>Server-wide data channel counters (one per media server, shared by all its peers; thread-safe).</summary>
public sealed class DataChannelStats
{
    internal long MessagesReceived;
    internal long MessagesSent;
    internal long DroppedTooLarge;
    internal long DroppedSendTooLarge;
    internal long DroppedBufferFull;
    internal long DroppedBadPacket;
    internal long DroppedProtocol;
    internal long ChannelsOpened;
    internal long ChannelsRefused;

    /// <summary>User messages delivered to the server from peers.</summary>
    public long MessagesReceivedTotal => Interlocked.Read(ref MessagesReceived);
    /// <summary>User messages the server queued to peers.</summary>
    public long MessagesSentTotal => Interlocked.Read(ref MessagesSent);
    /// <summary>Inbound messages over our a=max-message-size.</summary>
    public long DroppedTooLargeTotal => Interlocked.Read(ref DroppedTooLarge);
    /// <summary>Outbound messages over the peer's a=max-message-size.</summary>
    public long DroppedSendTooLargeTotal => Interlocked.Read(ref DroppedSendTooLarge);
    /// <summary>Outbound messages refused because the association's send buffer was full.</summary>
    public long DroppedBufferFullTotal => Interlocked.Read(ref DroppedBufferFull);
    /// <summary>DTLS application records that were not valid SCTP packets of the association.</summary>
    public long DroppedBadPacketTotal => Interlocked.Read(ref DroppedBadPacket);
    /// <summary>DCEP and user messages the channel table dropped (unknown DCEP type or PPID, no channel, invalid OPEN).</summary>
    public long DroppedProtocolTotal => Interlocked.Read(ref DroppedProtocol);
    public long ChannelsOpenedTotal => Interlocked.Read(ref ChannelsOpened);
    /// <summary>Channels a peer opened that the policy refused (closed by stream reset).</summary>
    public long ChannelsRefusedTotal => Interlocked.Read(ref ChannelsRefused);
}

/// <summary>
/// The SCTP side of one peer's data channels (SCTP over DTLS, RFC 8261): every DTLS application record of the peer
/// comes here, and every SCTP packet for the peer leaves from here as one DTLS application record. It runs the
/// sans-I/O <see cref="SctpAssociation"/> and the DCEP <see cref="DataChannelEndpoint"/> over it.
/// <para>Threading: the owning <see cref="PeerConnection"/> calls every member on its loop (the peer's media worker),
/// and so must the rest of the server (<see cref="Send"/>, <see cref="OpenChannel"/>, <see cref="CloseChannel"/>);
/// <see cref="IDataChannelHandler"/> is called there too. Counters may be read from any thread.</para>
/// <para>Flow:</para>
/// <list type="bullet">
/// <item>Inbound: <see cref="PeerConnection"/> → <see cref="HandlePacket"/> with each decrypted DTLS application record
/// (one record is one SCTP packet, RFC 8261 §5). Records are checked (common header, chunk layout, CRC32c, negotiated
/// ports), bad ones counted and dropped, good ones given to the association.</item>
/// <item>Outbound: after every input the association's packets are drained into <see cref="SendPacket"/> → the DTLS
/// session's <c>Send</c>, and its events into the handler.</item>
/// <item>Timers: <see cref="NextTimeout"/> is part of the peer's <c>NextTimeout</c>.</item>
/// </list>
/// <para>Limits: a message from the peer larger than our a=max-message-size is dropped and counted; we send nothing
/// larger than the peer's (<see cref="DataChannelSendResult.TooLarge"/>). Stream ids follow our DTLS role
/// (RFC 8832 §6). The association lives as long as the DTLS connection: a renegotiation keeps it, closing the peer
/// aborts it.</para>
/// </summary>
public sealed class DataChannelTransport
{
    /// <summary>How many first-chunk types <see cref="RecentChunkTypes"/> keeps.</summary>
    public const int RecentCapacity = 16;

    /// <summary>Send limit used when the peer says it has none (a=max-message-size:0).</summary>
    public const int UnlimitedSendSize = 1024 * 1024;

    /// <summary>The smallest DTLS record size the association runs on.</summary>
    public const int MinPacketSize = 256;

    private readonly byte[] _recentChunkTypes = new byte[RecentCapacity];
    private readonly bool _isDtlsClient;
    private readonly DataChannelStats? _stats;
    private Func<ReadOnlySpan<byte>, bool>? _send;
    private DataChannelEndpoint? _endpoint;
    private byte[] _transmitBuffer = [];
    private bool _flushing;
    private bool _connected;
    private TimeSpan _now;
    private Func<DataChannelOpenRequest, bool>? _policy;
    private long _packetsReceived;
    private long _packetsDropped;
    private long _malformed;
    private long _badChecksum;
    private long _wrongPort;
    private long _packetsSent;
    private long _recentCount;
    private long _messagesReceived;
    private long _messagesSent;
    private long _droppedTooLarge;
    private long _droppedSendTooLarge;
    private long _droppedBufferFull;
    private long _channelsRefused;
    private long _protocolDrops;
    private int _lastDrop;

    public DataChannelTransport(DataChannelParameters parameters) : this(parameters, isDtlsClient: false, stats: null) { }

    /// <param name="parameters">What the SDP agreed.</param>
    /// <param name="isDtlsClient">Our DTLS role: the client opens channels on even stream ids, the server on odd ones.</param>
    /// <param name="stats">The server's shared counters, or null.</param>
    public DataChannelTransport(DataChannelParameters parameters, bool isDtlsClient, DataChannelStats? stats)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        _isDtlsClient = isDtlsClient;
        _stats = stats;
    }

    public DataChannelParameters Parameters { get; }

    /// <summary>Receives channel events and messages on the worker. Set it before the peer connects (or at least on
    /// the worker); events raised while it is null are dropped.</summary>
    public IDataChannelHandler? Handler { get; set; }

    /// <summary>Decides which channels the peer may open (label, protocol, reliability); null accepts every channel.
    /// A refused channel is closed at once by resetting its stream (RFC 8831 §6.7) and counted in
    /// <see cref="ChannelsRefused"/>. Called on the worker.</summary>
    public Func<DataChannelOpenRequest, bool>? Policy
    {
        get => _policy;
        set => _policy = value;
    }

    /// <summary>True once DTLS is up and <see cref="SendPacket"/> can send.</summary>
    public bool IsStarted => _send is not null;

    /// <summary>True while the SCTP association is established.</summary>
    public bool IsConnected => _connected;

    /// <summary>The largest SCTP packet that fits one DTLS record on this path (0 before <see cref="Start"/>).</summary>
    public int MaxPacketSize { get; private set; }

    /// <summary>The largest message <see cref="Send"/> takes: the peer's a=max-message-size.</summary>
    public int MaxSendMessageSize => !EnforcePeerMaxMessageSize ? UnlimitedSendSize
        : Parameters.RemoteMaxMessageSize is > 0 and < UnlimitedSendSize ? (int)Parameters.RemoteMaxMessageSize : UnlimitedSendSize;

    /// <summary>Tests turn this off to send a peer more than it accepts (up to <see cref="UnlimitedSendSize"/>).</summary>
    internal bool EnforcePeerMaxMessageSize { get; set; } = true;

    /// <summary>The worker time of the latest input (what <see cref="Send"/> stamps messages with).</summary>
    public TimeSpan Now => _now;

    /// <summary>The association, once started (for diagnostics and tests).</summary>
    public SctpAssociation? Association => _endpoint?.Association;

    /// <summary>Open (or opening) channels by stream id; empty before the association is up.</summary>
    public IReadOnlyDictionary<ushort, DataChannel> Channels =>
        _endpoint?.Channels ?? (IReadOnlyDictionary<ushort, DataChannel>)new Dictionary<ushort, DataChannel>();

    /// <summary>User bytes queued or in flight to the peer, for all channels of this peer (the association's send
    /// buffer is shared). A forwarder of live data drops a message rather than queue behind this.</summary>
    public int BufferedAmount => _endpoint?.Association.BufferedAmount ?? 0;

    /// <summary>Valid SCTP packets received (right layout, checksum and ports).</summary>
    public long PacketsReceived => Interlocked.Read(ref _packetsReceived);

    /// <summary>Application records dropped as not a valid SCTP packet for this association (sum of the three below).</summary>
    public long PacketsDropped => Interlocked.Read(ref _packetsDropped);

    public long MalformedPackets => Interlocked.Read(ref _malformed);

    public long BadChecksumPackets => Interlocked.Read(ref _badChecksum);

    public long WrongPortPackets => Interlocked.Read(ref _wrongPort);

    /// <summary>SCTP packets handed to DTLS.</summary>
    public long PacketsSent => Interlocked.Read(ref _packetsSent);

    /// <summary>User messages delivered to the handler.</summary>
    public long MessagesReceived => Interlocked.Read(ref _messagesReceived);

    /// <summary>User messages queued by <see cref="Send"/>.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>Messages from the peer over our a=max-message-size, dropped.</summary>
    public long MessagesDroppedTooLarge => Interlocked.Read(ref _droppedTooLarge);

    /// <summary>Messages <see cref="Send"/> refused as over the peer's a=max-message-size.</summary>
    public long SendsDroppedTooLarge => Interlocked.Read(ref _droppedSendTooLarge);

    /// <summary>Messages <see cref="Send"/> refused because the send buffer was full.</summary>
    public long SendsDroppedBufferFull => Interlocked.Read(ref _droppedBufferFull);

    /// <summary>Channels the peer opened that <see cref="Policy"/> refused (or of an unknown type).</summary>
    public long ChannelsRefused => Interlocked.Read(ref _channelsRefused);

    /// <summary>Messages the DCEP layer dropped: unknown DCEP message types or PPIDs, messages on no channel, invalid OPENs.</summary>
    public long ProtocolDrops => Interlocked.Read(ref _protocolDrops);

    /// <summary>Why the latest dropped record was dropped.</summary>
    public DataChannelDrop LastDrop => (DataChannelDrop)Volatile.Read(ref _lastDrop);

    /// <summary>The type of the first chunk of each of the latest valid packets received (at most
    /// <see cref="RecentCapacity"/>, oldest first; 1 is INIT, RFC 9260 §3.2). A snapshot for tests and diagnostics:
    /// exact on the worker, possibly mid-update elsewhere.</summary>
    public byte[] RecentChunkTypes()
    {
        var count = Interlocked.Read(ref _recentCount);
        var n = (int)Math.Min(count, RecentCapacity);
        var result = new byte[n];
        for (var i = 0; i < n; i++) result[i] = _recentChunkTypes[(int)((count - n + i) % RecentCapacity)];
        return result;
    }

    /// <summary>When <see cref="HandleTimeout"/> must next run; null without a timer.</summary>
    public TimeSpan? NextTimeout => _endpoint?.NextTimeout;

    /// <summary>DTLS is up: <paramref name="send"/> sends one SCTP packet as one DTLS application record (false when it
    /// could not), and <paramref name="maxPacketSize"/> is the largest record DTLS takes. Called once, on the worker:
    /// makes the association and starts its handshake (both WebRTC peers send INIT; RFC 9260 §5.2.1 resolves it).</summary>
    public void Start(Func<ReadOnlySpan<byte>, bool> send, int maxPacketSize, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(send);
        if (_send is not null) return;
        MaxPacketSize = maxPacketSize;
        _send = send;
        _now = now;
        // SCTP needs room for its headers and a useful chunk (RFC 9260 §8.4 asks for far more); a path whose DTLS
        // records are smaller than this gets no association (packets are still checked and counted).
        if (maxPacketSize < MinPacketSize) return;
        // The association's own cap is the largest we ever send; Send checks the peer's a=max-message-size.
        const int sendLimit = UnlimitedSendSize;
        int receiveLimit = Parameters.LocalMaxMessageSize is > 0 and <= int.MaxValue ? (int)Parameters.LocalMaxMessageSize : 0;
        var association = new SctpAssociation(new SctpAssociationOptions
        {
            LocalPort = Parameters.LocalPort,
            RemotePort = Parameters.RemotePort,
            Mtu = Math.Min(maxPacketSize, 65535),
            MaxMessageSize = sendLimit,
            SendBufferSize = sendLimit,
            ReceiveWindow = Math.Max(1024 * 1024, receiveLimit),
        });
        _transmitBuffer = new byte[maxPacketSize];
        _endpoint = new DataChannelEndpoint(association, _isDtlsClient, Accept);
        _endpoint.Connect(now);
        Flush();
    }

    /// <summary>One decrypted DTLS application record of the peer (RFC 8261 §5: one SCTP packet). Checked, counted, and
    /// dropped when it is not a valid packet of this association; otherwise run through the association. Never throws.</summary>
    public void HandlePacket(ReadOnlySpan<byte> record, TimeSpan now)
    {
        var drop = Check(record, Parameters);
        if (drop != DataChannelDrop.None)
        {
            Count(drop);
            return;
        }
        Interlocked.Increment(ref _packetsReceived);
        _recentChunkTypes[(int)(_recentCount % RecentCapacity)] = record[SctpPacket.CommonHeaderSize];
        Interlocked.Increment(ref _recentCount);
        if (_endpoint is not { } endpoint) return;
        if (now > _now) _now = now;
        endpoint.HandlePacket(record, _now);
        Flush();
    }

    /// <summary>The peer's timer is due (see <see cref="NextTimeout"/>).</summary>
    public void HandleTimeout(TimeSpan now)
    {
        if (_endpoint is not { } endpoint) return;
        if (now > _now) _now = now;
        endpoint.HandleTimeout(_now);
        Flush();
    }

    /// <summary>Sends one message on an open channel: text (UTF-8) or binary, as the channel's reliability says. The
    /// bytes are copied. Never blocks: a full send buffer answers <see cref="DataChannelSendResult.BufferFull"/>.</summary>
    public DataChannelSendResult Send(ushort streamId, ReadOnlySpan<byte> data, bool isText)
    {
        if (_endpoint is not { } endpoint || !_connected) return DataChannelSendResult.NotConnected;
        if (!endpoint.Channels.TryGetValue(streamId, out var channel)
            || channel.State is not (DataChannelState.Connecting or DataChannelState.Open))
            return DataChannelSendResult.NoSuchChannel;
        if (data.Length > MaxSendMessageSize)
        {
            Interlocked.Increment(ref _droppedSendTooLarge);
            if (_stats is { } s) Interlocked.Increment(ref s.DroppedSendTooLarge);
            return DataChannelSendResult.TooLarge;
        }
        switch (endpoint.Send(streamId, data, isText, _now))
        {
            case SctpSendResult.Ok:
                Interlocked.Increment(ref _messagesSent);
                if (_stats is { } s) Interlocked.Increment(ref s.MessagesSent);
                Flush();
                return DataChannelSendResult.Sent;
            case SctpSendResult.BufferFull:
                Interlocked.Increment(ref _droppedBufferFull);
                if (_stats is { } b) Interlocked.Increment(ref b.DroppedBufferFull);
                return DataChannelSendResult.BufferFull;
            case SctpSendResult.TooLarge:
                Interlocked.Increment(ref _droppedSendTooLarge);
                if (_stats is { } t) Interlocked.Increment(ref t.DroppedSendTooLarge);
                return DataChannelSendResult.TooLarge;
            case SctpSendResult.InvalidStream:
                return DataChannelSendResult.NoSuchChannel;
            default:
                return DataChannelSendResult.NotConnected;
        }
    }

    /// <summary>Opens a channel from the server side (DATA_CHANNEL_OPEN on the next free id of our parity). Returns
    /// null when the association is not up or no id is free. Messages may be sent at once;
    /// <see cref="IDataChannelHandler.OnChannelOpened"/> follows the peer's ACK.</summary>
    public DataChannel? OpenChannel(string label, DataChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (_endpoint is not { } endpoint || !_connected) return null;
        var channel = endpoint.OpenChannel(label, options ?? new DataChannelOptions(Ordered: true), _now);
        Flush();
        return channel;
    }

    /// <summary>Closes a channel (resets our outgoing stream; RFC 8831 §6.7). The handler hears
    /// <see cref="IDataChannelHandler.OnChannelClosed"/> once the peer reset its side.</summary>
    public void CloseChannel(ushort streamId)
    {
        if (_endpoint is not { } endpoint) return;
        endpoint.CloseChannel(streamId, _now);
        Flush();
    }

    /// <summary>The peer connection is going away: aborts the association (one ABORT goes out if DTLS still can send)
    /// and closes every channel (the handler hears each). Idempotent.</summary>
    public void Abort(string reason, TimeSpan now)
    {
        if (_endpoint is not { } endpoint || endpoint.Association.State == SctpAssociationState.Closed) return;
        if (now > _now) _now = now;
        endpoint.Abort(reason, _now);
        Flush();
    }

    /// <summary>Sends one SCTP packet to the peer as one DTLS application record. False before <see cref="Start"/>,
    /// when it is larger than <see cref="MaxPacketSize"/>, or when DTLS could not send it.</summary>
    public bool SendPacket(ReadOnlySpan<byte> packet)
    {
        if (_send is not { } send || packet.Length > MaxPacketSize || !send(packet)) return false;
        Interlocked.Increment(ref _packetsSent);
        return true;
    }

    /// <summary>Whether <paramref name="record"/> is an SCTP packet this association accepts: a common header and
    /// well-formed chunks (RFC 9260 §3), a right CRC32c (§6.8) and the negotiated ports (RFC 8841 §5).</summary>
    public static DataChannelDrop Check(ReadOnlySpan<byte> record, DataChannelParameters parameters)
    {
        if (!SctpPacket.TryParse(record, out var packet)) return DataChannelDrop.Malformed;
        if (!SctpPacket.HasValidChecksum(record)) return DataChannelDrop.BadChecksum;
        if (packet.DestinationPort != parameters.LocalPort || packet.SourcePort != parameters.RemotePort) return DataChannelDrop.WrongPort;
        return DataChannelDrop.None;
    }

    private bool Accept(DataChannelOpenRequest request) => _policy is not { } policy || policy(request);

    /// <summary>Drains the association: packets to DTLS, events to the handler, until both are empty. A handler that
    /// sends from its callback only queues; the outer loop sends.</summary>
    private void Flush()
    {
        if (_flushing || _endpoint is not { } endpoint) return;
        _flushing = true;
        try
        {
            bool progress = true;
            while (progress)
            {
                progress = false;
                while (endpoint.TryPollTransmit(_transmitBuffer, out int length))
                {
                    SendPacket(_transmitBuffer.AsSpan(0, length));
                    progress = true;
                }
                while (endpoint.TryPollEvent(out var ev))
                {
                    Dispatch(ev);
                    progress = true;
                }
            }
            SyncCounters(endpoint.Counters);
        }
        finally
        {
            _flushing = false;
        }
    }

    private void Dispatch(DataChannelEvent ev)
    {
        var handler = Handler;
        switch (ev)
        {
            case AssociationConnected:
                _connected = true;
                handler?.OnConnected(this);
                break;
            case AssociationClosed:
                _connected = false;
                break;
            case ChannelOpened opened:
                if (_stats is { } s) Interlocked.Increment(ref s.ChannelsOpened);
                handler?.OnChannelOpened(this, opened.Channel);
                break;
            case ChannelClosed closed:
                handler?.OnChannelClosed(this, closed.Channel);
                break;
            case ChannelMessageReceived message:
                long limit = Parameters.LocalMaxMessageSize;
                if (limit > 0 && message.Data.Length > limit)
                {
                    Interlocked.Increment(ref _droppedTooLarge);
                    if (_stats is { } t) Interlocked.Increment(ref t.DroppedTooLarge);
                    break;
                }
                Interlocked.Increment(ref _messagesReceived);
                if (_stats is { } r) Interlocked.Increment(ref r.MessagesReceived);
                handler?.OnMessage(this, message.Channel, message.Data, message.IsText);
                break;
        }
    }

    /// <summary>Mirrors the channel table's counters (plain fields on the worker) into thread-safe ones.</summary>
    private void SyncCounters(DataChannelCounters counters)
    {
        long refused = counters.ChannelsRefused;
        long protocol = counters.MessagesDroppedNoChannel + counters.UnknownDcepMessages + counters.UnknownPayloadProtocols
            + counters.InvalidOpens;
        long newRefused = refused - Interlocked.Exchange(ref _channelsRefused, refused);
        long newProtocol = protocol - Interlocked.Exchange(ref _protocolDrops, protocol);
        if (_stats is { } s)
        {
            if (newRefused != 0) Interlocked.Add(ref s.ChannelsRefused, newRefused);
            if (newProtocol != 0) Interlocked.Add(ref s.DroppedProtocol, newProtocol);
        }
    }

    private void Count(DataChannelDrop drop)
    {
        Interlocked.Increment(ref _packetsDropped);
        if (_stats is { } s) Interlocked.Increment(ref s.DroppedBadPacket);
        switch (drop)
        {
            case DataChannelDrop.Malformed: Interlocked.Increment(ref _malformed); break;
            case DataChannelDrop.BadChecksum: Interlocked.Increment(ref _badChecksum); break;
            default: Interlocked.Increment(ref _wrongPort); break;
        }
        Volatile.Write(ref _lastDrop, (int)drop);
    }
}
