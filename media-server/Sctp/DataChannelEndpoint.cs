using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace TeleRehab.Media.Sctp;

/// <summary>Life of a data channel (RFC 8831 §6.5, §6.7).</summary>
public enum DataChannelState
{
    /// <summary>We sent DATA_CHANNEL_OPEN and wait for the ACK; messages may already be sent (ordered).</summary>
    Connecting,
    Open,
    /// <summary>A stream reset is under way in one or both directions.</summary>
    Closing,
    Closed,
}

/// <summary>How to open a channel; maps to a DCEP channel type (RFC 8832 §5.1). At most one of the two limits may be set.</summary>
public readonly record struct DataChannelOptions(
    bool Ordered = true,
    int? MaxRetransmits = null,
    TimeSpan? MaxPacketLifetime = null,
    ushort Priority = DataChannelOptions.NormalPriority,
    string Protocol = "")
{
    /// <summary>"normal" priority (RFC 8831 §6.4).</summary>
    public const ushort NormalPriority = 256;
}

/// <summary>A peer's DATA_CHANNEL_OPEN, given to the endpoint's policy to accept or refuse.</summary>
public sealed record DataChannelOpenRequest(ushort StreamId, string Label, string Protocol, DataChannelType ChannelType,
    uint ReliabilityParameter, ushort Priority);

/// <summary>One data channel: a pair of SCTP streams with the same id (RFC 8831 §6.5).</summary>
public sealed class DataChannel
{
    internal DataChannel(ushort streamId, string label, string protocol, DataChannelType channelType, uint reliabilityParameter,
        ushort priority, bool locallyOpened)
    {
        StreamId = streamId;
        Label = label;
        Protocol = protocol;
        ChannelType = channelType;
        ReliabilityParameter = reliabilityParameter;
        Priority = priority;
        IsLocallyOpened = locallyOpened;
        State = locallyOpened ? DataChannelState.Connecting : DataChannelState.Open;
    }

    public ushort StreamId { get; }
    public string Label { get; }
    public string Protocol { get; }
    public DataChannelType ChannelType { get; }
    /// <summary>Retransmissions (REXMIT types) or lifetime in milliseconds (TIMED types).</summary>
    public uint ReliabilityParameter { get; }
    public ushort Priority { get; }
    public bool IsLocallyOpened { get; }
    public DataChannelState State { get; internal set; }
    public bool Ordered => ((byte)ChannelType & 0x80) == 0;

    internal bool AckReceived;
    internal bool OutgoingResetRequested;
    internal bool OutgoingResetDone;
    internal bool IncomingResetDone;

    /// <summary>The SCTP send options for a user message on this channel (RFC 8831 §6.6).</summary>
    internal SctpSendOptions SendOptions
    {
        get
        {
            // RFC 8832 §6: until the ACK arrives, the opener sends ordered so the OPEN is delivered first.
            bool unordered = !Ordered && (!IsLocallyOpened || AckReceived);
            return ((byte)ChannelType & 0x7F) switch
            {
                0x01 => new SctpSendOptions(unordered, MaxRetransmits: (int)Math.Min(ReliabilityParameter, int.MaxValue)),
                0x02 => new SctpSendOptions(unordered, MaxPacketLifetime: TimeSpan.FromMilliseconds(ReliabilityParameter)),
                _ => new SctpSendOptions(unordered),
            };
        }
    }
}

/// <summary>What a <see cref="DataChannelEndpoint"/> reports.</summary>
public abstract record DataChannelEvent;

/// <summary>The SCTP association is established.</summary>
public sealed record AssociationConnected : DataChannelEvent;

/// <summary>The SCTP association closed; every channel is closed with it.</summary>
public sealed record AssociationClosed(string Reason, bool Graceful) : DataChannelEvent;

/// <summary>A channel opened: one the peer opened and the policy accepted, or ours once the peer acknowledged it.</summary>
public sealed record ChannelOpened(DataChannel Channel) : DataChannelEvent;

/// <summary>A user message (PPID 51/56 text, 53/57 binary; the empty PPIDs deliver an empty message).</summary>
public sealed record ChannelMessageReceived(DataChannel Channel, byte[] Data, bool IsText) : DataChannelEvent
{
    /// <summary>Decodes a text message (allocates).</summary>
    public string Text => Encoding.UTF8.GetString(Data);
}

/// <summary>A channel closed: both of its streams were reset (RFC 8831 §6.7), or the peer refused it.</summary>
public sealed record ChannelClosed(DataChannel Channel) : DataChannelEvent;

/// <summary>Counters of inputs the channel table dropped (none of them is fatal).</summary>
public sealed class DataChannelCounters
{
    public long MessagesDroppedNoChannel { get; internal set; }
    public long UnknownDcepMessages { get; internal set; }
    public long UnknownPayloadProtocols { get; internal set; }
    public long InvalidOpens { get; internal set; }
    public long ChannelsRefused { get; internal set; }
}

/// <summary>
/// The DCEP channel table (RFC 8832) over one <see cref="SctpAssociation"/>, sans-I/O like it. The host
/// feeds packets and time through this endpoint (not the association directly, whose events it consumes)
/// and polls packets and <see cref="DataChannelEvent"/>s. Stream ids follow the DTLS role (RFC 8832 §6):
/// the DTLS client opens channels on even streams, the server on odd ones.
/// </summary>
public sealed class DataChannelEndpoint
{
    private const ushort ReservedStream = 65535;
    private readonly Dictionary<ushort, DataChannel> _channels = new();
    private readonly Queue<DataChannelEvent> _events = new();
    private readonly Func<DataChannelOpenRequest, bool>? _acceptChannel;
    private readonly HashSet<ushort> _refused = new();

    /// <param name="association">The association to run on; this endpoint consumes its events.</param>
    /// <param name="isDtlsClient">Our DTLS role: the client uses even stream ids, the server odd ones.</param>
    /// <param name="acceptChannel">Decides whether to accept a channel the peer opens; null accepts all.</param>
    public DataChannelEndpoint(SctpAssociation association, bool isDtlsClient, Func<DataChannelOpenRequest, bool>? acceptChannel = null)
    {
        ArgumentNullException.ThrowIfNull(association);
        Association = association;
        IsDtlsClient = isDtlsClient;
        _acceptChannel = acceptChannel;
    }

    public SctpAssociation Association { get; }
    public bool IsDtlsClient { get; }
    public DataChannelCounters Counters { get; } = new();

    /// <summary>Channels not yet closed, by stream id.</summary>
    public IReadOnlyDictionary<ushort, DataChannel> Channels => _channels;

    // ---------------------------------------------------------------- I/O, delegated to the association

    public void Connect(TimeSpan now)
    {
        Association.Connect(now);
        ProcessAssociationEvents(now);
    }

    public void HandlePacket(ReadOnlySpan<byte> packet, TimeSpan now)
    {
        Association.HandlePacket(packet, now);
        ProcessAssociationEvents(now);
    }

    public void HandleTimeout(TimeSpan now)
    {
        Association.HandleTimeout(now);
        ProcessAssociationEvents(now);
    }

    public TimeSpan? NextTimeout => Association.NextTimeout;

    public bool TryPollTransmit(Span<byte> buffer, out int length) => Association.TryPollTransmit(buffer, out length);

    public bool TryPollEvent([MaybeNullWhen(false)] out DataChannelEvent ev) => _events.TryDequeue(out ev);

    public void Shutdown(TimeSpan now)
    {
        Association.Shutdown(now);
        ProcessAssociationEvents(now);
    }

    public void Abort(string reason, TimeSpan now)
    {
        Association.Abort(reason, now);
        ProcessAssociationEvents(now);
    }

    // ---------------------------------------------------------------- channels

    /// <summary>
    /// Opens a channel on the lowest free stream id of our parity by sending DATA_CHANNEL_OPEN (PPID 50,
    /// reliable and ordered). Returns null when no id is free or the association does not take data.
    /// Messages may be sent at once; <see cref="ChannelOpened"/> follows the peer's ACK.
    /// </summary>
    public DataChannel? OpenChannel(string label, DataChannelOptions options, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (options.MaxRetransmits is not null && options.MaxPacketLifetime is not null)
            throw new ArgumentException("Set MaxRetransmits or MaxPacketLifetime, not both.", nameof(options));
        if (options.MaxRetransmits is < 0 || options.MaxPacketLifetime < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options));
        int limit = Association.OutboundStreams != 0 ? Association.OutboundStreams : ReservedStream;
        int id = IsDtlsClient ? 0 : 1;
        while (id < limit && id != ReservedStream && (_channels.ContainsKey((ushort)id) || _refused.Contains((ushort)id))) id += 2;
        if (id >= limit || id == ReservedStream) return null;

        byte kind = options.MaxRetransmits is not null ? (byte)0x01 : options.MaxPacketLifetime is not null ? (byte)0x02 : (byte)0x00;
        var type = (DataChannelType)(kind | (options.Ordered ? 0 : 0x80));
        uint parameter = options.MaxRetransmits is { } r ? (uint)r
            : options.MaxPacketLifetime is { } life ? (uint)Math.Min(life.TotalMilliseconds, uint.MaxValue) : 0;
        var labelBytes = Encoding.UTF8.GetBytes(label);
        var protocolBytes = Encoding.UTF8.GetBytes(options.Protocol ?? "");
        var open = new DataChannelOpen(type, options.Priority, parameter, labelBytes, protocolBytes);
        var message = new byte[open.GetSerializedLength()];
        open.WriteTo(message);
        if (Association.Send((ushort)id, (uint)SctpPayloadProtocol.Dcep, message, SctpSendOptions.Reliable, now) != SctpSendResult.Ok)
            return null;
        var channel = new DataChannel((ushort)id, label, options.Protocol ?? "", type, parameter, options.Priority, locallyOpened: true);
        _channels[(ushort)id] = channel;
        return channel;
    }

    /// <summary>Sends a text message (PPID 51; an empty string goes as PPID 56 with one zero byte, RFC 8831 §6.6).</summary>
    public SctpSendResult SendText(ushort streamId, string text, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 0
            ? SendUser(streamId, SctpPayloadProtocol.WebRtcStringEmpty, [0], now)
            : SendUser(streamId, SctpPayloadProtocol.WebRtcString, Encoding.UTF8.GetBytes(text), now);
    }

    /// <summary>Sends a binary message (PPID 53; empty goes as PPID 57 with one zero byte).</summary>
    public SctpSendResult SendBinary(ushort streamId, ReadOnlySpan<byte> data, TimeSpan now) =>
        data.IsEmpty
            ? SendUser(streamId, SctpPayloadProtocol.WebRtcBinaryEmpty, [0], now)
            : SendUser(streamId, SctpPayloadProtocol.WebRtcBinary, data, now);

    /// <summary>Sends a user message as text (PPID 51) or binary (PPID 53); empty ones go as PPID 56 / 57 with one zero
    /// byte (RFC 8831 §6.6). The bytes are copied; the caller keeps <paramref name="data"/>.</summary>
    public SctpSendResult Send(ushort streamId, ReadOnlySpan<byte> data, bool isText, TimeSpan now) =>
        data.IsEmpty
            ? SendUser(streamId, isText ? SctpPayloadProtocol.WebRtcStringEmpty : SctpPayloadProtocol.WebRtcBinaryEmpty, [0], now)
            : SendUser(streamId, isText ? SctpPayloadProtocol.WebRtcString : SctpPayloadProtocol.WebRtcBinary, data, now);

    private SctpSendResult SendUser(ushort streamId, SctpPayloadProtocol ppid, ReadOnlySpan<byte> data, TimeSpan now)
    {
        if (!_channels.TryGetValue(streamId, out var channel) || channel.State is not (DataChannelState.Connecting or DataChannelState.Open))
            return SctpSendResult.NotEstablished;
        return Association.Send(streamId, (uint)ppid, data, channel.SendOptions, now);
    }

    /// <summary>Closes a channel by resetting our outgoing stream (RFC 8831 §6.7); the peer resets its own in turn.</summary>
    public void CloseChannel(ushort streamId, TimeSpan now)
    {
        if (!_channels.TryGetValue(streamId, out var channel) || channel.State == DataChannelState.Closed) return;
        channel.State = DataChannelState.Closing;
        RequestOutgoingReset(channel, now);
        ProcessAssociationEvents(now);
    }

    private void RequestOutgoingReset(DataChannel channel, TimeSpan now)
    {
        if (channel.OutgoingResetRequested) return;
        channel.OutgoingResetRequested = true;
        Association.ResetStreams([channel.StreamId], now);
    }

    // ---------------------------------------------------------------- association events

    private void ProcessAssociationEvents(TimeSpan now)
    {
        while (Association.TryPollEvent(out var ev))
        {
            switch (ev)
            {
                case SctpConnected:
                    _events.Enqueue(new AssociationConnected());
                    break;
                case SctpMessageReceived message:
                    OnMessage(message, now);
                    break;
                case SctpStreamsReset reset:
                    foreach (var id in reset.StreamIds) OnIncomingReset(id, now);
                    break;
                case SctpOutgoingStreamsReset reset:
                    foreach (var id in reset.StreamIds) OnOutgoingReset(id);
                    break;
                case SctpStreamResetFailed failed:
                    foreach (var id in failed.StreamIds) OnOutgoingReset(id); // the channel is gone either way
                    break;
                case SctpClosed closed:
                    foreach (var channel in _channels.Values)
                    {
                        channel.State = DataChannelState.Closed;
                        _events.Enqueue(new ChannelClosed(channel));
                    }
                    _channels.Clear();
                    _refused.Clear();
                    _events.Enqueue(new AssociationClosed(closed.Reason, closed.Graceful));
                    break;
            }
        }
    }

    private void OnMessage(SctpMessageReceived message, TimeSpan now)
    {
        switch ((SctpPayloadProtocol)message.PayloadProtocol)
        {
            case SctpPayloadProtocol.Dcep:
                if (DataChannelOpen.TryParse(message.Payload, out var open)) OnOpen(message.StreamId, open, now);
                else if (DataChannelAck.TryParse(message.Payload, out _)) OnAck(message.StreamId);
                else Counters.UnknownDcepMessages++;
                return;
            case SctpPayloadProtocol.WebRtcString:
            case SctpPayloadProtocol.WebRtcBinary:
            case SctpPayloadProtocol.WebRtcStringEmpty:
            case SctpPayloadProtocol.WebRtcBinaryEmpty:
                break;
            default:
                Counters.UnknownPayloadProtocols++; // includes the deprecated partial PPIDs 52 and 54
                return;
        }
        if (!_channels.TryGetValue(message.StreamId, out var channel) || channel.State == DataChannelState.Closed
            || channel.IncomingResetDone)
        {
            Counters.MessagesDroppedNoChannel++;
            return;
        }
        var ppid = (SctpPayloadProtocol)message.PayloadProtocol;
        bool empty = ppid is SctpPayloadProtocol.WebRtcStringEmpty or SctpPayloadProtocol.WebRtcBinaryEmpty;
        bool text = ppid is SctpPayloadProtocol.WebRtcString or SctpPayloadProtocol.WebRtcStringEmpty;
        // The peer has clearly seen our OPEN if it sends on the stream, but only an ACK opens the channel (RFC 8832 §6).
        _events.Enqueue(new ChannelMessageReceived(channel, empty ? [] : message.Payload, text));
    }

    private void OnOpen(ushort streamId, DataChannelOpen open, TimeSpan now)
    {
        // RFC 8832 §6: the peer opens on its own parity; an id in use or of our parity is an error.
        bool ourParity = (streamId % 2 == 0) == IsDtlsClient;
        if (_channels.ContainsKey(streamId) || ourParity || streamId == ReservedStream)
        {
            Counters.InvalidOpens++;
            return;
        }
        var type = open.ChannelType;
        bool knownType = ((byte)type & 0x7F) <= 0x02;
        var request = new DataChannelOpenRequest(streamId, open.GetLabelString(), open.GetProtocolString(), type,
            open.ReliabilityParameter, open.Priority);
        if (!knownType || (_acceptChannel is not null && !_acceptChannel(request)))
        {
            // Refused: close it at once by resetting our side of the stream; the peer resets its own.
            Counters.ChannelsRefused++;
            _refused.Add(streamId);
            Association.ResetStreams([streamId], now);
            return;
        }
        var channel = new DataChannel(streamId, request.Label, request.Protocol, type, request.ReliabilityParameter, request.Priority,
            locallyOpened: false);
        _channels[streamId] = channel;
        Span<byte> ack = stackalloc byte[DataChannelAck.Size];
        new DataChannelAck().WriteTo(ack);
        Association.Send(streamId, (uint)SctpPayloadProtocol.Dcep, ack, SctpSendOptions.Reliable, now);
        _events.Enqueue(new ChannelOpened(channel));
    }

    private void OnAck(ushort streamId)
    {
        if (!_channels.TryGetValue(streamId, out var channel) || !channel.IsLocallyOpened || channel.AckReceived)
        {
            Counters.UnknownDcepMessages++;
            return;
        }
        channel.AckReceived = true;
        if (channel.State == DataChannelState.Connecting)
        {
            channel.State = DataChannelState.Open;
            _events.Enqueue(new ChannelOpened(channel));
        }
    }

    private void OnIncomingReset(ushort streamId, TimeSpan now)
    {
        if (!_channels.TryGetValue(streamId, out var channel)) return;
        channel.IncomingResetDone = true;
        if (channel.State != DataChannelState.Closed) channel.State = DataChannelState.Closing;
        // RFC 8831 §6.7: when the peer resets its outgoing stream, reset ours too.
        RequestOutgoingReset(channel, now);
        TryFinishClose(channel);
    }

    private void OnOutgoingReset(ushort streamId)
    {
        if (_refused.Remove(streamId)) return;
        if (!_channels.TryGetValue(streamId, out var channel)) return;
        channel.OutgoingResetDone = true;
        TryFinishClose(channel);
    }

    private void TryFinishClose(DataChannel channel)
    {
        if (!channel.OutgoingResetDone || !channel.IncomingResetDone) return;
        channel.State = DataChannelState.Closed;
        _channels.Remove(channel.StreamId);
        _events.Enqueue(new ChannelClosed(channel));
    }
}
