using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// One SCTP association (RFC 9260) as WebRTC data channels use it over DTLS (RFC 8261), sans-I/O:
/// packets and time go in (<see cref="HandlePacket"/>, <see cref="HandleTimeout"/>), packets, events
/// and the next deadline come out (<see cref="TryPollTransmit"/>, <see cref="TryPollEvent"/>,
/// <see cref="NextTimeout"/>). Single-threaded: the owner calls it from one loop. Extensions: PR-SCTP
/// (RFC 3758) and stream reconfiguration (RFC 6525); one path, no multi-homing.
/// This file: handshake, packet dispatch, timers and packet assembly. Sender, receiver and
/// re-configuration live in the other SctpAssociation.*.cs files.
/// </summary>
public sealed partial class SctpAssociation
{
    private static readonly byte[] SupportedExtensionTypes = [(byte)SctpChunkType.ReConfig, (byte)SctpChunkType.ForwardTsn];
    private const int MaxReportedChunkLength = 1000;
    private const int MaxQueuedControlChunks = 256;
    private const int MaxQueuedRawPackets = 16;

    private readonly SctpAssociationOptions _options;
    private readonly Random _random;
    private readonly byte[] _cookieSecret = new byte[32];
    private readonly int _mtu;

    /// <summary>Whole packets with their own verification tag (INIT, INIT ACK, ABORT, SHUTDOWN COMPLETE, stale-cookie ERROR).</summary>
    private readonly Queue<byte[]> _rawPackets = new();

    /// <summary>Serialized control chunks sent with the peer's tag, ahead of SACK and DATA.</summary>
    private readonly Queue<byte[]> _controlChunks = new();

    private readonly Queue<SctpEvent> _events = new();

    private uint _localTag;
    private uint _peerTag;
    private uint _localInitialTsn;
    private bool _peerForwardTsn;
    private bool _peerReConfig;
    private ushort _outboundStreams;
    private ushort _inboundStreams;
    private byte[]? _cookieEcho;
    private bool _terminated;
    private TimeSpan _now;

    private TimeSpan? _t1;
    private TimeSpan? _t2;
    private TimeSpan? _t3;
    private TimeSpan? _delayedSackTimer;
    private TimeSpan? _heartbeatTimer;
    private TimeSpan? _reconfigTimer;
    private int _initRetransmits;
    private int _errorCount;
    private bool _heartbeatOutstanding;
    private ulong _heartbeatNonce;
    private TimeSpan _heartbeatSentAt;

    public SctpAssociation(SctpAssociationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Mtu < 256 || options.Mtu > 65535) throw new ArgumentOutOfRangeException(nameof(options), "Mtu must be 256..65535.");
        if (options.MaxMessageSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxMessageSize must be positive.");
        if (options.ReceiveWindow < options.MaxMessageSize)
            throw new ArgumentOutOfRangeException(nameof(options), "ReceiveWindow must hold a whole maximum-size message.");
        if (options.SendBufferSize < options.MaxMessageSize)
            throw new ArgumentOutOfRangeException(nameof(options), "SendBufferSize must hold a whole maximum-size message.");
        _options = options;
        _random = options.Random ?? Random.Shared;
        _random.NextBytes(_cookieSecret);
        _mtu = options.Mtu;
        // Common header 12 + DATA header 16; kept a multiple of 4 so fragments need no padding.
        _maxFragment = (_mtu - SctpPacket.CommonHeaderSize - PayloadData.FixedSize) & ~3;
        _rto = options.RtoInitial;
    }

    public SctpAssociationState State { get; private set; } = SctpAssociationState.Closed;

    public SctpCounters Counters { get; } = new();

    /// <summary>Largest message <see cref="Send"/> accepts (RFC 8841 max-message-size).</summary>
    public int MaxMessageSize => _options.MaxMessageSize;

    /// <summary>Negotiated outbound and inbound stream counts (0 before the handshake).</summary>
    public ushort OutboundStreams => _outboundStreams;
    public ushort InboundStreams => _inboundStreams;

    /// <summary>Whether the peer announced FORWARD TSN (RFC 3758) and RE-CONFIG (RFC 6525) support.</summary>
    public bool PeerSupportsForwardTsn => _peerForwardTsn;
    public bool PeerSupportsReConfig => _peerReConfig;

    /// <summary>Current retransmission timeout (RFC 9260 §6.3).</summary>
    public TimeSpan Rto => _rto;

    /// <summary>Congestion window and the peer's receive window as we track them (RFC 9260 §7.2, §6.2.1).</summary>
    public int CongestionWindow => _cwnd;
    public long PeerReceiveWindow => _peerRwnd;

    /// <summary>User bytes queued or not yet acknowledged (the send buffer).</summary>
    public int BufferedAmount => _queuedBytes;

    public TimeSpan? NextTimeout
    {
        get
        {
            TimeSpan? next = null;
            Min(ref next, _t1);
            Min(ref next, _t2);
            Min(ref next, _t3);
            Min(ref next, _delayedSackTimer);
            Min(ref next, _heartbeatTimer);
            Min(ref next, _reconfigTimer);
            return next;

            static void Min(ref TimeSpan? acc, TimeSpan? t)
            {
                if (t is { } v && (acc is null || v < acc.Value)) acc = v;
            }
        }
    }

    // ---------------------------------------------------------------- user calls

    /// <summary>
    /// Active open (RFC 9260 §5.1): sends INIT and starts T1-init. In WebRTC both sides call it; the
    /// INIT collision is resolved by §5.2.1 (answer the peer's INIT with our own tag) and §5.2.4.
    /// </summary>
    public void Connect(TimeSpan now)
    {
        _now = now;
        if (_terminated || State != SctpAssociationState.Closed) return;
        _localTag = NonZeroRandom();
        InitLocal(_options.InitialTsn ?? (uint)_random.NextInt64(0, 1L << 32));
        State = SctpAssociationState.CookieWait;
        _initRetransmits = 0;
        _rto = _options.RtoInitial;
        QueueInit();
        _t1 = now + _rto;
    }

    /// <summary>Graceful close (RFC 9260 §9.2): SHUTDOWN once all queued data is acknowledged.</summary>
    public void Shutdown(TimeSpan now)
    {
        _now = now;
        if (_terminated) return;
        switch (State)
        {
            case SctpAssociationState.Established:
                State = SctpAssociationState.ShutdownPending;
                ProgressShutdown(now);
                break;
            case SctpAssociationState.CookieWait:
            case SctpAssociationState.CookieEchoed:
                Terminate("shut down before the association was established", graceful: true);
                break;
        }
    }

    /// <summary>Ungraceful close (RFC 9260 §9.1): ABORT with a User-Initiated Abort cause, and Closed at once.</summary>
    public void Abort(string reason, TimeSpan now)
    {
        _now = now;
        if (_terminated) return;
        if (State == SctpAssociationState.Closed)
        {
            Terminate(reason, graceful: false);
            return;
        }
        if (_peerTag != 0)
        {
            var text = Encoding.UTF8.GetBytes(reason ?? "");
            var info = text.AsSpan(0, Math.Min(text.Length, 256));
            var causes = new byte[SctpTlv.GetSerializedLength(info.Length)];
            new SctpErrorCause(SctpErrorCauseCode.UserInitiatedAbort, info).WriteTo(causes);
            QueueRawPacket(_peerTag, new AbortAssociation(false, causes));
        }
        Terminate(reason ?? "aborted", graceful: false);
    }

    public bool TryPollEvent([MaybeNullWhen(false)] out SctpEvent ev) => _events.TryDequeue(out ev);

    // ---------------------------------------------------------------- input

    /// <summary>
    /// Processes one SCTP packet. Never throws on bad input: a packet with a bad checksum, wrong ports,
    /// a wrong verification tag (§8.5) or malformed chunks is dropped and counted.
    /// </summary>
    public void HandlePacket(ReadOnlySpan<byte> packet, TimeSpan now)
    {
        _now = now;
        Counters.PacketsReceived++;
        if (_terminated)
        {
            AnswerAfterClose(packet);
            return;
        }
        if (!SctpPacket.HasValidChecksum(packet) || !SctpPacket.TryParse(packet, out var parsed)
            || parsed.SourcePort != _options.RemotePort || parsed.DestinationPort != _options.LocalPort)
        {
            Counters.BadPacketsDropped++;
            return;
        }
        uint tag = parsed.VerificationTag;
        var reader = parsed.Chunks;
        reader.TryReadNext(out var first);
        if (first.Type == SctpChunkType.Init)
        {
            // §8.5.1 A: an INIT has tag 0 and is alone in its packet (§6.10).
            if (tag != 0 || !reader.IsAtEnd)
            {
                Counters.BadPacketsDropped++;
                return;
            }
            HandleInit(first, now);
            return;
        }

        _dataInPacket = false;
        _immediateSack = false;
        bool hadGaps = _receivedAbove.Count > 0;
        reader = parsed.Chunks;
        while (reader.TryReadNext(out var chunk) && !_terminated)
        {
            bool tagOk = State != SctpAssociationState.Closed && _localTag != 0 && tag == _localTag;
            switch (chunk.Type)
            {
                case SctpChunkType.CookieEcho:
                    if (!HandleCookieEcho(chunk, tag, now)) goto drop;
                    continue;
                case SctpChunkType.Abort:
                case SctpChunkType.ShutdownComplete:
                    // §8.5.1 B, C: our tag, or the peer's own tag reflected with the T bit set.
                    bool reflected = (chunk.Flags & 1) != 0;
                    if (!(reflected ? State != SctpAssociationState.Closed && _peerTag != 0 && tag == _peerTag : tagOk)) goto drop;
                    if (chunk.Type == SctpChunkType.Abort) HandleAbort(chunk);
                    else HandleShutdownComplete(chunk);
                    continue;
            }
            if (!tagOk) goto drop;
            switch (chunk.Type)
            {
                case SctpChunkType.Data: HandleData(chunk, now); break;
                case SctpChunkType.InitAck: HandleInitAck(chunk, now); break;
                case SctpChunkType.Sack: HandleSack(chunk, now); break;
                case SctpChunkType.Heartbeat: HandleHeartbeat(chunk); break;
                case SctpChunkType.HeartbeatAck: HandleHeartbeatAck(chunk, now); break;
                case SctpChunkType.Shutdown: HandleShutdown(chunk, now); break;
                case SctpChunkType.ShutdownAck: HandleShutdownAck(chunk); break;
                case SctpChunkType.Error: HandleError(chunk, now); break;
                case SctpChunkType.CookieAck: HandleCookieAck(chunk, now); break;
                case SctpChunkType.ReConfig: HandleReConfig(chunk, now); break;
                case SctpChunkType.ForwardTsn: HandleForwardTsn(chunk, now); break;
                case SctpChunkType.Init:
                    Counters.ChunksDropped++; // INIT must not be bundled (§6.10)
                    break;
                default:
                    if (!HandleUnrecognized(chunk)) goto done;
                    break;
            }
        }
        if (reader.IsMalformed) Counters.ChunksDropped++;
        goto done;
    drop:
        Counters.BadPacketsDropped++;
    done:
        if (_terminated) return;
        if (_dataInPacket) ScheduleSack(now, hadGaps);
        AfterInput(now);
    }

    /// <summary>Runs every timer that is due at <paramref name="now"/>.</summary>
    public void HandleTimeout(TimeSpan now)
    {
        _now = now;
        if (_terminated) return;
        if (_t1 is { } t1 && t1 <= now) OnT1(now);
        if (_terminated) return;
        if (_t2 is { } t2 && t2 <= now) OnT2(now);
        if (_terminated) return;
        if (_t3 is { } t3 && t3 <= now) OnT3(now);
        if (_terminated) return;
        if (_delayedSackTimer is { } ds && ds <= now)
        {
            _delayedSackTimer = null;
            _sackNeeded = true;
        }
        if (_heartbeatTimer is { } hb && hb <= now) OnHeartbeatTimer(now);
        if (_terminated) return;
        if (_reconfigTimer is { } rc && rc <= now) OnReconfigTimer(now);
        if (_terminated) return;
        AfterInput(now);
    }

    private void AfterInput(TimeSpan now)
    {
        ProgressShutdown(now);
        TryStartStreamReset(now);
    }

    // ---------------------------------------------------------------- output

    /// <summary>
    /// Writes the next outgoing packet (checksummed) into <paramref name="buffer"/>: queued control chunks,
    /// then SACK, FORWARD TSN, retransmissions and new DATA, bundled up to the path MTU. The buffer should
    /// be at least <see cref="SctpAssociationOptions.Mtu"/> bytes.
    /// </summary>
    public bool TryPollTransmit(Span<byte> buffer, out int length)
    {
        length = 0;
        while (_rawPackets.TryDequeue(out var raw))
        {
            if (raw.Length > buffer.Length) continue;
            raw.CopyTo(buffer);
            length = raw.Length;
            Counters.PacketsSent++;
            return true;
        }
        if (_terminated || _peerTag == 0 || State is SctpAssociationState.Closed or SctpAssociationState.CookieWait) return false;
        var space = buffer[..Math.Min(buffer.Length, _mtu)];
        if (space.Length < SctpPacket.CommonHeaderSize + 64) return false;

        ExpireQueuedMessages(_now);
        var writer = new SctpPacketWriter(space, _options.LocalPort, _options.RemotePort, _peerTag);
        while (_controlChunks.TryPeek(out var control))
        {
            if (control.Length > writer.Remaining)
            {
                if (writer.Length == SctpPacket.CommonHeaderSize) _controlChunks.Dequeue(); // can never fit
                break;
            }
            _controlChunks.Dequeue();
            writer.Append(new RawChunk(control));
        }
        if (_sackNeeded && State != SctpAssociationState.CookieEchoed) AppendSack(ref writer);
        if (_forwardTsnPending)
        {
            AdvancePeerAckPoint();
            if (_forwardTsnPending) AppendForwardTsn(ref writer);
        }
        if (State is SctpAssociationState.Established or SctpAssociationState.ShutdownPending or SctpAssociationState.ShutdownReceived)
            AppendData(ref writer, _now);
        if (writer.Length == SctpPacket.CommonHeaderSize) return false;
        length = writer.Finish();
        Counters.PacketsSent++;
        return true;
    }

    // ---------------------------------------------------------------- shutdown and abort (§9)

    private void ProgressShutdown(TimeSpan now)
    {
        bool allAcked = _sendQueue.Count == 0 && _outstanding.Count == 0;
        if (!allAcked) return;
        if (State == SctpAssociationState.ShutdownPending)
        {
            State = SctpAssociationState.ShutdownSent;
            QueueControl(new ShutdownAssociation((uint)_peerCumTsn));
            _errorCount = 0;
            _t2 = now + _rto;
            _t3 = null;
        }
        else if (State == SctpAssociationState.ShutdownReceived)
        {
            State = SctpAssociationState.ShutdownAckSent;
            QueueControl(new ShutdownAcknowledgement());
            _errorCount = 0;
            _t2 = now + _rto;
            _t3 = null;
        }
    }

    private void HandleShutdown(SctpChunk chunk, TimeSpan now)
    {
        if (!ShutdownAssociation.TryParse(chunk, out var shutdown))
        {
            Counters.ChunksDropped++;
            return;
        }
        switch (State)
        {
            case SctpAssociationState.Established:
            case SctpAssociationState.ShutdownPending:
                ProcessAcknowledgement(shutdown.CumulativeTsnAck, null, default, now);
                State = SctpAssociationState.ShutdownReceived;
                _heartbeatTimer = null;
                ProgressShutdown(now);
                break;
            case SctpAssociationState.ShutdownSent:
                // Both sides shut down at once (§9.2): answer with SHUTDOWN ACK.
                State = SctpAssociationState.ShutdownAckSent;
                QueueControl(new ShutdownAcknowledgement());
                _t2 = now + _rto;
                break;
            case SctpAssociationState.ShutdownReceived:
                ProcessAcknowledgement(shutdown.CumulativeTsnAck, null, default, now);
                break;
            default:
                Counters.ChunksDropped++;
                break;
        }
    }

    private void HandleShutdownAck(SctpChunk chunk)
    {
        if (!ShutdownAcknowledgement.TryParse(chunk, out _)
            || State is not (SctpAssociationState.ShutdownSent or SctpAssociationState.ShutdownAckSent))
        {
            Counters.ChunksDropped++;
            return;
        }
        QueueRawPacket(_peerTag, new ShutdownComplete(false));
        Terminate("shut down", graceful: true);
    }

    private void HandleShutdownComplete(SctpChunk chunk)
    {
        if (!ShutdownComplete.TryParse(chunk, out _) || State != SctpAssociationState.ShutdownAckSent)
        {
            Counters.ChunksDropped++;
            return;
        }
        Terminate("shut down", graceful: true);
    }

    private void OnT2(TimeSpan now)
    {
        _errorCount++;
        if (_errorCount > _options.MaxRetransmissions)
        {
            Terminate("shutdown not acknowledged", graceful: false);
            return;
        }
        _rto = Min(_rto * 2, _options.RtoMax);
        if (State == SctpAssociationState.ShutdownSent) QueueControl(new ShutdownAssociation((uint)_peerCumTsn));
        else if (State == SctpAssociationState.ShutdownAckSent) QueueControl(new ShutdownAcknowledgement());
        else
        {
            _t2 = null;
            return;
        }
        _t2 = now + _rto;
    }

    private void HandleAbort(SctpChunk chunk)
    {
        if (!AbortAssociation.TryParse(chunk, out var abort))
        {
            Counters.ChunksDropped++;
            return;
        }
        string reason = "aborted by peer";
        if (SctpErrorCause.TryRead(abort.ErrorCauses, out var cause, out _))
        {
            reason = cause.Code == SctpErrorCauseCode.UserInitiatedAbort && cause.Information.Length > 0
                ? "aborted by peer: " + Encoding.UTF8.GetString(cause.Information)
                : "aborted by peer: " + cause.Code;
        }
        Terminate(reason, graceful: false);
    }

    /// <summary>
    /// §8.4 item 5: a SHUTDOWN ACK after we closed means our SHUTDOWN COMPLETE was lost; answer with
    /// SHUTDOWN COMPLETE, T bit set, reflecting the packet's tag. Everything else is dropped.
    /// </summary>
    private void AnswerAfterClose(ReadOnlySpan<byte> packet)
    {
        Counters.BadPacketsDropped++;
        if (!SctpPacket.HasValidChecksum(packet) || !SctpPacket.TryParse(packet, out var parsed)
            || parsed.SourcePort != _options.RemotePort || parsed.DestinationPort != _options.LocalPort
            || parsed.VerificationTag == 0 || parsed.VerificationTag != _localTag) return;
        var reader = parsed.Chunks;
        if (reader.TryReadNext(out var chunk) && chunk.Type == SctpChunkType.ShutdownAck && _rawPackets.Count < 4)
            QueueRawPacket(parsed.VerificationTag, new ShutdownComplete(true));
    }

    private void HandleError(SctpChunk chunk, TimeSpan now)
    {
        if (!OperationError.TryParse(chunk, out var error))
        {
            Counters.ChunksDropped++;
            return;
        }
        // §5.2.6: our cookie went stale on the way; start again with a new INIT (without the optional
        // Cookie Preservative). Other reports do not change our state (§3.3.10).
        if (State == SctpAssociationState.CookieEchoed && SctpErrorCause.TryRead(error.ErrorCauses, out var cause, out _)
            && cause.Code == SctpErrorCauseCode.StaleCookie)
        {
            State = SctpAssociationState.CookieWait;
            _peerTag = 0;
            _cookieEcho = null;
            _controlChunks.Clear();
            QueueInit();
            _t1 = now + _rto;
        }
    }

    private void Terminate(string reason, bool graceful)
    {
        if (_terminated) return;
        _terminated = true;
        State = SctpAssociationState.Closed;
        _t1 = _t2 = _t3 = _delayedSackTimer = _heartbeatTimer = _reconfigTimer = null;
        _controlChunks.Clear();
        _sendQueue.Clear();
        _outstanding.Clear();
        _fragments.Clear();
        _queuedBytes = 0;
        _events.Enqueue(new SctpClosed(reason, graceful));
    }

    // ---------------------------------------------------------------- heartbeat (§8.3)

    private void HandleHeartbeat(SctpChunk chunk)
    {
        if (!HeartbeatRequest.TryParse(chunk, out var request) || request.HeartbeatInfo.Length > MaxReportedChunkLength)
        {
            Counters.ChunksDropped++;
            return;
        }
        QueueControl(new HeartbeatAcknowledgement(request.HeartbeatInfo));
    }

    private void HandleHeartbeatAck(SctpChunk chunk, TimeSpan now)
    {
        if (!HeartbeatAcknowledgement.TryParse(chunk, out var ack) || ack.HeartbeatInfo.Length != 8)
        {
            Counters.ChunksDropped++;
            return;
        }
        if (!_heartbeatOutstanding || BinaryPrimitives.ReadUInt64BigEndian(ack.HeartbeatInfo) != _heartbeatNonce) return;
        _heartbeatOutstanding = false;
        _errorCount = 0;
        UpdateRto(now - _heartbeatSentAt);
        if (State == SctpAssociationState.Established) _heartbeatTimer = now + _options.HeartbeatInterval + _rto;
    }

    private void OnHeartbeatTimer(TimeSpan now)
    {
        if (State != SctpAssociationState.Established)
        {
            _heartbeatTimer = null;
            return;
        }
        if (_t3 is not null && !_heartbeatOutstanding)
        {
            // Data is in flight: T3 watches the path, no heartbeat needed.
            _heartbeatTimer = now + _options.HeartbeatInterval + _rto;
            return;
        }
        if (_heartbeatOutstanding)
        {
            _errorCount++;
            if (_errorCount > _options.MaxRetransmissions)
            {
                Terminate("peer unreachable (heartbeats not acknowledged)", graceful: false);
                return;
            }
            _rto = Min(_rto * 2, _options.RtoMax);
        }
        _heartbeatNonce = (ulong)_random.NextInt64();
        Span<byte> info = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(info, _heartbeatNonce);
        QueueControl(new HeartbeatRequest(info));
        Counters.HeartbeatsSent++;
        _heartbeatOutstanding = true;
        _heartbeatSentAt = now;
        _heartbeatTimer = now + _rto;
    }

    // ---------------------------------------------------------------- unknown chunks (§3.2)

    /// <summary>Returns false when the rest of the packet is to be skipped.</summary>
    private bool HandleUnrecognized(SctpChunk chunk)
    {
        Counters.UnrecognizedChunks++;
        var action = SctpUnrecognized.ForChunk(chunk.TypeCode);
        if (action.Reports() && chunk.Length <= MaxReportedChunkLength && _peerTag != 0)
        {
            var cause = new byte[SctpTlv.GetSerializedLength(chunk.Length)];
            new SctpErrorCause(SctpErrorCauseCode.UnrecognizedChunkType, chunk.Bytes).WriteTo(cause);
            QueueControl(new OperationError(cause));
        }
        return action.Continues();
    }

    // ---------------------------------------------------------------- helpers

    private uint NonZeroRandom()
    {
        uint value;
        do value = (uint)_random.NextInt64(1, 1L << 32);
        while (value == 0);
        return value;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Serial-number unwrapping (RFC 1982 as RFC 9260 §1.6 uses it): the 64-bit value nearest to <paramref name="reference"/>.</summary>
    private static long Unwrap(uint value, long reference) => reference + (int)(value - (uint)reference);

    private void QueueControl<T>(T chunk) where T : ISctpChunkWriter, allows ref struct
    {
        if (_controlChunks.Count >= MaxQueuedControlChunks) return; // a peer flooding us with requests gets no more answers
        var bytes = new byte[chunk.GetSerializedLength()];
        chunk.WriteTo(bytes);
        _controlChunks.Enqueue(bytes);
    }

    private void QueueRawPacket<T>(uint verificationTag, T chunk) where T : ISctpChunkWriter, allows ref struct
    {
        if (_rawPackets.Count >= MaxQueuedRawPackets) return;
        var bytes = new byte[SctpPacket.CommonHeaderSize + chunk.GetSerializedLength()];
        var writer = new SctpPacketWriter(bytes, _options.LocalPort, _options.RemotePort, verificationTag);
        writer.Append(chunk);
        writer.Finish();
        _rawPackets.Enqueue(bytes);
    }

    /// <summary>An already serialized chunk.</summary>
    private readonly ref struct RawChunk(ReadOnlySpan<byte> bytes) : ISctpChunkWriter
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;

        public int GetSerializedLength() => _bytes.Length;

        public int WriteTo(Span<byte> destination)
        {
            _bytes.CopyTo(destination);
            return _bytes.Length;
        }
    }
}
