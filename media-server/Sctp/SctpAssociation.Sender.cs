namespace TeleRehab.Media.Sctp;

/// <summary>
/// The sending half: fragmentation, TSN assignment, SACK processing, RTO (RFC 9260 §6.3), T3-rtx and
/// fast retransmit (§6.3.3, §7.2.4), congestion control (§7.2), the peer's window (§6.2.1) and
/// partial reliability (RFC 3758 §3.5).
/// </summary>
public sealed partial class SctpAssociation
{
    private readonly int _maxFragment;

    /// <summary>Messages not yet fully given TSNs, in send order. A partly sent message is at the head.</summary>
    private readonly Queue<OutgoingMessage> _sendQueue = new();

    /// <summary>Chunks with a TSN that the peer's cumulative ack has not passed: TSNs _cumAck+1, _cumAck+2, ... in order.</summary>
    private readonly List<SentChunk> _outstanding = new();

    private readonly Dictionary<ushort, ushort> _nextOutgoingSsn = new();
    private readonly Dictionary<ushort, ushort> _forwardSsnScratch = new();
    private ForwardTsnStream[] _forwardStreamsScratch = new ForwardTsnStream[16];

    private long _nextTsn;
    private long _cumAck;
    private long _advancedPeerAckPoint;
    private int _queuedBytes;
    private int _cwnd;
    private int _ssthresh;
    private int _partialBytesAcked;
    private long _peerRwnd;
    private bool _inFastRecovery;
    private long _fastRecoveryExit;
    private double _srtt = -1;
    private double _rttvar;
    private TimeSpan _rto;
    private bool _forwardTsnPending;

    private sealed class OutgoingMessage
    {
        public required ushort StreamId;
        public required uint PayloadProtocol;
        public required byte[] Data;
        public required bool Unordered;
        public int? MaxRetransmits;
        public TimeSpan? Expiry;
        public ushort Ssn;
        /// <summary>Bytes already given TSNs.</summary>
        public int AssignedBytes;
        public bool Abandoned;
    }

    private sealed class SentChunk
    {
        public required long Tsn;
        public required OutgoingMessage Message;
        public required int Offset;
        public required int Length;
        public required DataChunkFlags Flags;
        public TimeSpan SentAt;
        public int Transmissions;
        /// <summary>Reported in a gap ack block.</summary>
        public bool Acked;
        public bool NeedsRetransmit;
        public bool Abandoned;
        public bool FastRetransmitted;
        public int MissingReports;
    }

    /// <summary>
    /// Queues one user message. The payload is copied. Messages larger than one packet are fragmented
    /// (B/E flags, §6.9). Options make it unordered and/or partially reliable (RFC 3758).
    /// </summary>
    public SctpSendResult Send(ushort stream, uint ppid, ReadOnlySpan<byte> message, SctpSendOptions options, TimeSpan now)
    {
        _now = now;
        if (_terminated || State is not (SctpAssociationState.Established or SctpAssociationState.CookieWait or SctpAssociationState.CookieEchoed))
            return SctpSendResult.NotEstablished;
        if (message.IsEmpty || message.Length > _options.MaxMessageSize) return SctpSendResult.TooLarge;
        if (stream >= _options.OutboundStreams || (_outboundStreams != 0 && stream >= _outboundStreams)) return SctpSendResult.InvalidStream;
        if ((long)_queuedBytes + message.Length > _options.SendBufferSize) return SctpSendResult.BufferFull;
        _sendQueue.Enqueue(new OutgoingMessage
        {
            StreamId = stream,
            PayloadProtocol = ppid,
            Data = message.ToArray(),
            Unordered = options.Unordered,
            MaxRetransmits = options.MaxRetransmits is { } r ? Math.Max(0, r) : null,
            Expiry = options.MaxPacketLifetime is { } life ? now + life : null,
        });
        _queuedBytes += message.Length;
        Counters.MessagesSent++;
        return SctpSendResult.Ok;
    }

    private bool IsPartiallyReliable(OutgoingMessage m) => _peerForwardTsn && (m.MaxRetransmits is not null || m.Expiry is not null);

    private bool IsExpired(OutgoingMessage m, TimeSpan now) => _peerForwardTsn && m.Expiry is { } e && now >= e;

    private long FlightSize()
    {
        long flight = 0;
        foreach (var c in _outstanding)
        {
            if (!c.Acked && !c.Abandoned && !c.NeedsRetransmit && c.Transmissions > 0) flight += c.Length;
        }
        return flight;
    }

    private bool HasUnackedData()
    {
        foreach (var c in _outstanding)
        {
            if (!c.Acked && !c.Abandoned) return true;
        }
        return false;
    }

    /// <summary>Drops queued messages whose lifetime ran out before they were sent (RFC 8831 §6.6: the lifetime includes queueing).</summary>
    private void ExpireQueuedMessages(TimeSpan now)
    {
        while (_sendQueue.TryPeek(out var head) && head.AssignedBytes == 0 && IsExpired(head, now))
        {
            _sendQueue.Dequeue();
            head.Abandoned = true;
            _queuedBytes -= head.Data.Length;
            Counters.MessagesAbandoned++;
        }
    }

    private void AppendData(ref SctpPacketWriter writer, TimeSpan now)
    {
        long flight = FlightSize();
        bool sentAny = false;

        // Retransmissions first (§6.1 C, §7.2.4 and §6.3.3 E3): the first may exceed cwnd.
        foreach (var c in _outstanding)
        {
            if (!c.NeedsRetransmit || c.Abandoned) continue;
            if (IsExpired(c.Message, now))
            {
                AbandonMessage(c.Message);
                continue;
            }
            if (SctpChunk.PaddedLength(PayloadData.FixedSize + c.Length) > writer.Remaining) break;
            if (sentAny && flight >= _cwnd) break;
            WriteChunk(ref writer, c);
            c.NeedsRetransmit = false;
            c.Transmissions++;
            c.SentAt = now;
            flight += c.Length;
            sentAny = true;
            Counters.Retransmissions++;
        }

        // New data (§6.1 A and B): within cwnd and the peer's window; one chunk may probe a zero window when nothing is in flight.
        while (_sendQueue.TryPeek(out var m))
        {
            if (m.AssignedBytes == 0 && IsExpired(m, now))
            {
                ExpireQueuedMessages(now);
                continue;
            }
            if (_resetInFlight is not null && Array.IndexOf(_resetInFlight, m.StreamId) >= 0) break; // RFC 6525 §5.1.2: hold until the reset completes
            int length = Math.Min(m.Data.Length - m.AssignedBytes, _maxFragment);
            if (PayloadData.FixedSize + SctpChunk.PaddedLength(length) > writer.Remaining) break;
            if (flight >= _cwnd) break;
            if (_peerRwnd < length && flight > 0) break;
            var flags = DataChunkFlags.None;
            if (m.AssignedBytes == 0)
            {
                flags |= DataChunkFlags.Beginning;
                if (!m.Unordered)
                {
                    _nextOutgoingSsn.TryGetValue(m.StreamId, out var ssn);
                    m.Ssn = ssn;
                    _nextOutgoingSsn[m.StreamId] = (ushort)(ssn + 1);
                }
            }
            if (m.AssignedBytes + length == m.Data.Length) flags |= DataChunkFlags.End;
            if (m.Unordered) flags |= DataChunkFlags.Unordered;
            var chunk = new SentChunk { Tsn = _nextTsn++, Message = m, Offset = m.AssignedBytes, Length = length, Flags = flags };
            m.AssignedBytes += length;
            if (m.AssignedBytes == m.Data.Length) _sendQueue.Dequeue();
            _outstanding.Add(chunk);
            WriteChunk(ref writer, chunk);
            chunk.Transmissions = 1;
            chunk.SentAt = now;
            flight += length;
            _peerRwnd = Math.Max(0, _peerRwnd - length);
            sentAny = true;
            Counters.DataChunksSent++;
        }
        if (sentAny && _t3 is null) _t3 = now + _rto;
    }

    private void WriteChunk(ref SctpPacketWriter writer, SentChunk c)
    {
        var m = c.Message;
        writer.Append(new PayloadData(c.Flags, (uint)c.Tsn, m.StreamId, m.Unordered ? (ushort)0 : m.Ssn, m.PayloadProtocol,
            m.Data.AsSpan(c.Offset, c.Length)));
    }

    private void HandleSack(SctpChunk chunk, TimeSpan now)
    {
        if (!SelectiveAcknowledgement.TryParse(chunk, out var sack)
            || State is not (SctpAssociationState.Established or SctpAssociationState.ShutdownPending
                or SctpAssociationState.ShutdownSent or SctpAssociationState.ShutdownReceived))
        {
            Counters.ChunksDropped++;
            return;
        }
        Counters.SacksReceived++;
        ProcessAcknowledgement(sack.CumulativeTsnAck, sack.AdvertisedReceiverWindowCredit, sack.GapAckBlocks, now);
    }

    /// <summary>SACK processing (§6.2.1), also used for the cumulative ack of a SHUTDOWN (no window, no gaps).</summary>
    private void ProcessAcknowledgement(uint cumulativeTsnAck, uint? advertisedWindow, SctpItemList<GapAckBlock> gaps, TimeSpan now)
    {
        long cum = Unwrap(cumulativeTsnAck, _cumAck);
        if (cum < _cumAck) return; // an older SACK arriving late (§6.2.1 D i)
        if (cum >= _nextTsn)
        {
            Counters.ChunksDropped++; // acknowledges a TSN we never sent
            return;
        }
        bool cumAdvanced = cum > _cumAck;
        // §7.2.1, §7.2.2: cwnd only grows while it is being used (within one MTU of the flight size).
        bool cwndFullyUsed = FlightSize() + _mtu >= _cwnd;
        long newlyAckedBytes = 0;
        long highestNewlyAcked = -1;
        SentChunk? rttSample = null;

        int count = (int)(cum - _cumAck);
        for (int i = 0; i < count; i++)
        {
            var c = _outstanding[i];
            if (!c.Acked && !c.Abandoned)
            {
                newlyAckedBytes += c.Length;
                highestNewlyAcked = c.Tsn;
                if (c.Transmissions == 1) rttSample = c; // Karn's rule (§6.3.1 C5): never time a retransmitted chunk
            }
            if (!c.Abandoned) _queuedBytes -= c.Length;
        }
        _outstanding.RemoveRange(0, count);
        _cumAck = cum;
        if (_advancedPeerAckPoint < _cumAck) _advancedPeerAckPoint = _cumAck;

        foreach (var block in gaps)
        {
            if (block.Start == 0 || block.End < block.Start) continue;
            for (int offset = block.Start; offset <= block.End; offset++)
            {
                int index = offset - 1;
                if (index >= _outstanding.Count) break;
                var c = _outstanding[index];
                if (c.Acked) continue;
                c.Acked = true;
                c.NeedsRetransmit = false;
                if (c.Abandoned) continue;
                newlyAckedBytes += c.Length;
                if (c.Tsn > highestNewlyAcked) highestNewlyAcked = c.Tsn;
                if (c.Transmissions == 1 && (rttSample is null || c.Tsn > rttSample.Tsn)) rttSample = c;
            }
        }

        if (rttSample is not null) UpdateRto(now - rttSample.SentAt);
        // §8.1: acknowledged data clears the error count. A SACK that closes the window answers our
        // zero-window probe: the peer is alive, so probing must not fail the association (§6.1 A).
        if (newlyAckedBytes > 0 || advertisedWindow == 0) _errorCount = 0;

        if (_inFastRecovery && cum >= _fastRecoveryExit) _inFastRecovery = false;

        // Congestion control (§7.2.1, §7.2.2): grow on a cumulative ack advance, not during fast recovery.
        if (cumAdvanced && newlyAckedBytes > 0 && !_inFastRecovery)
        {
            if (_cwnd <= _ssthresh)
            {
                if (cwndFullyUsed) _cwnd += (int)Math.Min(newlyAckedBytes, _mtu);
            }
            else
            {
                _partialBytesAcked += (int)Math.Min(newlyAckedBytes, int.MaxValue / 2);
                if (_partialBytesAcked >= _cwnd && cwndFullyUsed)
                {
                    _partialBytesAcked -= _cwnd;
                    _cwnd += _mtu;
                }
            }
        }

        // Fast retransmit (§7.2.4): chunks below the highest newly acked TSN that are still missing get a
        // miss indication; the third one marks them for retransmission, once per chunk.
        if (highestNewlyAcked >= 0)
        {
            foreach (var c in _outstanding)
            {
                if (c.Tsn >= highestNewlyAcked) break;
                if (c.Acked || c.Abandoned || c.NeedsRetransmit || c.FastRetransmitted) continue;
                if (++c.MissingReports < 3) continue;
                if (!MayRetransmit(c, now))
                {
                    AbandonMessage(c.Message);
                    continue;
                }
                c.NeedsRetransmit = true;
                c.FastRetransmitted = true;
                Counters.FastRetransmissions++;
                if (!_inFastRecovery)
                {
                    _ssthresh = Math.Max(_cwnd / 2, 4 * _mtu);
                    _cwnd = _ssthresh;
                    _partialBytesAcked = 0;
                    _inFastRecovery = true;
                    _fastRecoveryExit = _nextTsn - 1;
                }
            }
        }

        if (advertisedWindow is { } window) _peerRwnd = Math.Max(0, window - FlightSize());

        AdvancePeerAckPoint();

        // T3-rtx (§6.3.2 R2, R3).
        if (!HasUnackedData() && _advancedPeerAckPoint <= _cumAck) _t3 = null;
        else if (cumAdvanced || _t3 is null) _t3 = now + _rto;
    }

    /// <summary>RTT measurement (§6.3.1 C2, C3), with RTO.Min/Max clamping.</summary>
    private void UpdateRto(TimeSpan rtt)
    {
        double r = Math.Max(0, rtt.TotalMilliseconds);
        if (_srtt < 0)
        {
            _srtt = r;
            _rttvar = r / 2;
        }
        else
        {
            _rttvar = 0.75 * _rttvar + 0.25 * Math.Abs(_srtt - r);
            _srtt = 0.875 * _srtt + 0.125 * r;
        }
        var rto = TimeSpan.FromMilliseconds(_srtt + Math.Max(4 * _rttvar, 1));
        _rto = rto < _options.RtoMin ? _options.RtoMin : rto > _options.RtoMax ? _options.RtoMax : rto;
    }

    /// <summary>T3-rtx expiry (§6.3.3): back off, collapse cwnd, mark everything outstanding for retransmission.</summary>
    private void OnT3(TimeSpan now)
    {
        _t3 = null;
        Counters.T3Expirations++;
        _errorCount++;
        if (_errorCount > _options.MaxRetransmissions)
        {
            Terminate("peer unreachable (too many retransmissions)", graceful: false);
            return;
        }
        _ssthresh = Math.Max(_cwnd / 2, 4 * _mtu);
        _cwnd = _mtu;
        _partialBytesAcked = 0;
        _inFastRecovery = false;
        _rto = Min(_rto * 2, _options.RtoMax);
        foreach (var c in _outstanding)
        {
            if (c.Acked || c.Abandoned || c.Transmissions == 0) continue;
            if (!MayRetransmit(c, now))
            {
                AbandonMessage(c.Message);
                continue;
            }
            c.NeedsRetransmit = true;
        }
        AdvancePeerAckPoint();
        if (_advancedPeerAckPoint > _cumAck) _forwardTsnPending = true;
        if (HasUnackedData() || _advancedPeerAckPoint > _cumAck) _t3 = now + _rto;
    }

    /// <summary>RFC 3758 §3.5 A1-A3 with the WebRTC limits (RFC 8831 §6.6): retransmission count and lifetime.</summary>
    private bool MayRetransmit(SentChunk c, TimeSpan now)
    {
        var m = c.Message;
        if (!IsPartiallyReliable(m)) return true;
        if (m.MaxRetransmits is { } max && c.Transmissions > max) return false;
        return !IsExpired(m, now);
    }

    /// <summary>Abandons every fragment of a message together, sent or not (RFC 3758 §3.5 A3).</summary>
    private void AbandonMessage(OutgoingMessage m)
    {
        if (m.Abandoned) return;
        m.Abandoned = true;
        Counters.MessagesAbandoned++;
        foreach (var c in _outstanding)
        {
            if (c.Message != m || c.Abandoned) continue;
            c.Abandoned = true;
            c.NeedsRetransmit = false;
            _queuedBytes -= c.Length;
        }
        int unsent = m.Data.Length - m.AssignedBytes;
        if (unsent > 0)
        {
            _queuedBytes -= unsent;
            m.AssignedBytes = m.Data.Length;
            if (_sendQueue.TryPeek(out var head) && head == m) _sendQueue.Dequeue();
        }
        _forwardTsnPending = true;
    }

    /// <summary>RFC 3758 §3.5 C1, C2: move Advanced.Peer.Ack.Point over abandoned chunks right after the cumulative ack.</summary>
    private void AdvancePeerAckPoint()
    {
        if (!_peerForwardTsn) return;
        int i = 0;
        while (i < _outstanding.Count && _outstanding[i].Abandoned) i++;
        _advancedPeerAckPoint = _cumAck + i;
        if (_advancedPeerAckPoint > _cumAck) _forwardTsnPending = true;
        else _forwardTsnPending = false;
    }

    /// <summary>RFC 3758 §3.5 C3: FORWARD TSN with the new cumulative TSN and, per ordered stream, the largest skipped SSN.</summary>
    private void AppendForwardTsn(ref SctpPacketWriter writer)
    {
        if (_advancedPeerAckPoint <= _cumAck)
        {
            _forwardTsnPending = false;
            return;
        }
        _forwardSsnScratch.Clear();
        int capacity = (writer.Remaining - ForwardTsn.FixedSize) / 4;
        if (capacity < 0) return;
        bool emptyPacket = writer.Length == SctpPacket.CommonHeaderSize;
        long newCumulative = _advancedPeerAckPoint;
        int skipped = (int)(_advancedPeerAckPoint - _cumAck);
        for (int i = 0; i < skipped && i < _outstanding.Count; i++)
        {
            var c = _outstanding[i];
            if (c.Message.Unordered) continue;
            ushort ssn = c.Message.Ssn;
            bool known = _forwardSsnScratch.TryGetValue(c.Message.StreamId, out var previous);
            if (!known && _forwardSsnScratch.Count == capacity)
            {
                // Too many streams for this packet. Wait for an emptier one, or, if even an empty packet is too
                // small, skip only up to here now; the peer's SACK brings the next FORWARD TSN for the rest.
                if (!emptyPacket) return;
                newCumulative = _cumAck + i;
                break;
            }
            if (!known || (short)(ssn - previous) > 0) _forwardSsnScratch[c.Message.StreamId] = ssn;
        }
        if (newCumulative <= _cumAck) return;
        int pairs = _forwardSsnScratch.Count;
        if (_forwardStreamsScratch.Length < pairs) _forwardStreamsScratch = new ForwardTsnStream[pairs];
        var streams = _forwardStreamsScratch;
        int n = 0;
        foreach (var (stream, ssn) in _forwardSsnScratch) streams[n++] = new ForwardTsnStream(stream, ssn);
        writer.Append(new ForwardTsn((uint)newCumulative, (ReadOnlySpan<ForwardTsnStream>)streams.AsSpan(0, pairs)));
        _forwardTsnPending = false;
        Counters.ForwardTsnsSent++;
        _t3 ??= _now + _rto; // keep a timer so a lost FORWARD TSN is sent again
    }
}
