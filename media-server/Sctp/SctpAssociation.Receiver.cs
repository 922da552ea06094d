namespace TeleRehab.Media.Sctp;

/// <summary>
/// The receiving half: TSN tracking with gap and duplicate reports (RFC 9260 §6.2), the receive
/// window, reassembly (§6.9), ordered delivery per stream (§6.5), and FORWARD TSN (RFC 3758 §3.6).
/// TSNs are unwrapped to 64 bits against the cumulative TSN so comparisons survive the 2^32 wrap.
/// </summary>
public sealed partial class SctpAssociation
{
    /// <summary>A DATA chunk further than this above the cumulative TSN is dropped (a peer may not make us track unbounded gaps).</summary>
    private const int MaxTsnLead = 32768;
    private const int MaxGapBlocks = 64;
    private const int MaxDuplicatesReported = 32;

    private readonly SortedSet<long> _receivedAbove = new();
    private readonly Dictionary<long, Fragment> _fragments = new();
    /// <summary>Messages over MaxMessageSize being discarded: the TSN their next fragment must have, and a fragment of them.</summary>
    private readonly Dictionary<long, Fragment> _discardNext = new();
    /// <summary>Stands for a message dropped as too large where ordered delivery needs a placeholder (never delivered).</summary>
    private static readonly byte[] DroppedMessage = [];
    private readonly Dictionary<ushort, InboundStream> _inbound = new();
    private readonly List<uint> _duplicates = new();
    private readonly GapAckBlock[] _gapScratch = new GapAckBlock[MaxGapBlocks];
    private readonly DuplicateTsn[] _duplicateScratch = new DuplicateTsn[MaxDuplicatesReported];
    private long _peerCumTsn;
    private int _receiveBuffered;
    private bool _sackNeeded;
    private bool _dataInPacket;
    private bool _immediateSack;
    private int _packetsSinceSack;

    private sealed class Fragment
    {
        public required ushort StreamId;
        public required ushort Ssn;
        public required uint PayloadProtocol;
        public required DataChunkFlags Flags;
        public required byte[] Data;
        public bool IsUnordered => (Flags & DataChunkFlags.Unordered) != 0;
        public bool IsBeginning => (Flags & DataChunkFlags.Beginning) != 0;
        public bool IsEnd => (Flags & DataChunkFlags.End) != 0;
    }

    private sealed class InboundStream
    {
        public ushort NextSsn;
        /// <summary>Complete ordered messages waiting for an earlier SSN.</summary>
        public readonly Dictionary<ushort, (uint Ppid, byte[] Data)> Ready = new();
    }

    /// <summary>Bytes held for reassembly or ordered delivery (what a_rwnd is taken from).</summary>
    public int ReceiveBuffered => _receiveBuffered;

    private InboundStream GetInbound(ushort id)
    {
        if (!_inbound.TryGetValue(id, out var stream)) _inbound[id] = stream = new InboundStream();
        return stream;
    }

    private void HandleData(SctpChunk chunk, TimeSpan now)
    {
        if (!PayloadData.TryParse(chunk, out var data)
            || State is not (SctpAssociationState.Established or SctpAssociationState.ShutdownPending
                or SctpAssociationState.ShutdownSent or SctpAssociationState.ShutdownReceived))
        {
            Counters.ChunksDropped++;
            return;
        }
        if (data.UserData.IsEmpty)
        {
            // §6.2: the RFC answers DATA without user data with ABORT "No User Data"; we drop it and go on.
            Counters.ChunksDropped++;
            return;
        }
        _dataInPacket = true;
        if (data.IsImmediate) _immediateSack = true;
        Counters.DataChunksReceived++;
        long tsn = Unwrap(data.Tsn, _peerCumTsn);
        if (tsn <= _peerCumTsn || _receivedAbove.Contains(tsn))
        {
            Counters.DuplicateTsnsReceived++;
            if (_duplicates.Count < MaxDuplicatesReported) _duplicates.Add(data.Tsn);
            _immediateSack = true; // §6.2: report duplicates at once
            return;
        }
        int size = data.UserData.Length;
        bool next = tsn == _peerCumTsn + 1;
        // §6.2: drop DATA beyond our window. The next expected TSN is let in (up to twice the window) because
        // it is what lets buffered data drain; everything else must fit in the advertised window.
        if (tsn - _peerCumTsn > MaxTsnLead
            || (!next && _receiveBuffered + size > _options.ReceiveWindow)
            || _receiveBuffered + size > 2 * _options.ReceiveWindow)
        {
            Counters.DataChunksDroppedNoWindow++;
            _immediateSack = true;
            return;
        }
        if (next)
        {
            _peerCumTsn = tsn;
            while (_receivedAbove.Count > 0 && _receivedAbove.Min == _peerCumTsn + 1)
            {
                _receivedAbove.Remove(_peerCumTsn + 1);
                _peerCumTsn++;
            }
        }
        else
        {
            _receivedAbove.Add(tsn);
        }

        if (data.StreamId >= _inboundStreams)
        {
            // §6.5: the TSN is acknowledged, the data dropped, and an ERROR "Invalid Stream Identifier" sent.
            Counters.ChunksDropped++;
            Span<byte> info = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(info, data.StreamId);
            info[2] = info[3] = 0;
            Span<byte> cause = stackalloc byte[SctpTlv.GetSerializedLength(4)];
            new SctpErrorCause(SctpErrorCauseCode.InvalidStreamIdentifier, info).WriteTo(cause);
            QueueControl(new OperationError(cause));
        }
        else if (data.IsBeginning && data.IsEnd)
        {
            OnMessage(data.StreamId, data.StreamSequenceNumber, data.PayloadProtocol, data.IsUnordered, data.UserData.ToArray());
        }
        else
        {
            var fragment = new Fragment
            {
                StreamId = data.StreamId,
                Ssn = data.StreamSequenceNumber,
                PayloadProtocol = data.PayloadProtocol,
                Flags = data.Flags,
                Data = data.UserData.ToArray(),
            };
            if (!DiscardContinuation(tsn, fragment))
            {
                _fragments[tsn] = fragment;
                _receiveBuffered += size;
                TryReassemble(tsn, fragment);
            }
        }
        CheckDeferredReset(now);
    }

    private static bool SameMessage(Fragment a, Fragment b) =>
        a.StreamId == b.StreamId && a.IsUnordered == b.IsUnordered && (a.IsUnordered || a.Ssn == b.Ssn);

    /// <summary>Fragments of one message carry consecutive TSNs (§6.9): look for its B and E around the new one.</summary>
    private void TryReassemble(long tsn, Fragment fragment)
    {
        long first = tsn;
        var current = fragment;
        while (!current.IsBeginning)
        {
            if (!_fragments.TryGetValue(first - 1, out var previous) || previous.IsEnd || !SameMessage(previous, fragment)) return;
            first--;
            current = previous;
        }
        long last = tsn;
        current = fragment;
        while (!current.IsEnd)
        {
            if (!_fragments.TryGetValue(last + 1, out var following) || following.IsBeginning || !SameMessage(following, fragment))
            {
                // Incomplete: a message already longer than we accept is dropped now, and so are its later fragments
                // (RFC 8841 §6), so a peer cannot fill the window with a message that never fits.
                int partial = 0;
                for (long t = first; t <= last; t++) partial += _fragments[t].Data.Length;
                if (partial > _options.MaxMessageSize)
                {
                    Counters.MessagesDroppedTooLarge++;
                    RemoveFragments(first, last);
                    _discardNext[last + 1] = fragment;
                    DiscardContinuation(last + 1, null);
                }
                return;
            }
            last++;
            current = following;
        }
        int total = 0;
        for (long t = first; t <= last; t++) total += _fragments[t].Data.Length;
        if (total > _options.MaxMessageSize)
        {
            Counters.MessagesDroppedTooLarge++;
            RemoveFragments(first, last);
            OnMessage(fragment.StreamId, fragment.Ssn, 0, fragment.IsUnordered, DroppedMessage);
            return;
        }
        var message = new byte[total];
        int offset = 0;
        uint ppid = _fragments[first].PayloadProtocol;
        for (long t = first; t <= last; t++)
        {
            _fragments.Remove(t, out var f);
            f!.Data.CopyTo(message, offset);
            offset += f.Data.Length;
        }
        _receiveBuffered -= total;
        OnMessage(fragment.StreamId, fragment.Ssn, ppid, fragment.IsUnordered, message);
    }

    private void RemoveFragments(long first, long last)
    {
        for (long t = first; t <= last; t++)
        {
            if (_fragments.Remove(t, out var f)) _receiveBuffered -= f.Data.Length;
        }
    }

    /// <summary>Drops <paramref name="fragment"/> (or, when null, the one held at <paramref name="tsn"/>) if it continues a
    /// message being discarded as too large, and whatever held fragments follow it. True when it was dropped.</summary>
    private bool DiscardContinuation(long tsn, Fragment? fragment)
    {
        bool droppedArriving = false;
        while (_discardNext.Remove(tsn, out var message))
        {
            var next = fragment ?? _fragments.GetValueOrDefault(tsn);
            if (next is null || next.IsBeginning || !SameMessage(next, message))
            {
                if (next is null) _discardNext[tsn] = message; // not here yet: keep waiting for it
                return droppedArriving;
            }
            if (fragment is not null) droppedArriving = true;
            else RemoveFragments(tsn, tsn);
            fragment = null;
            if (next.IsEnd)
            {
                OnMessage(message.StreamId, message.Ssn, 0, message.IsUnordered, DroppedMessage);
                return droppedArriving;
            }
            _discardNext[++tsn] = message;
        }
        return droppedArriving;
    }

    private void OnMessage(ushort streamId, ushort ssn, uint ppid, bool unordered, byte[] message)
    {
        if (unordered)
        {
            Deliver(streamId, ppid, message, true);
            return;
        }
        var stream = GetInbound(streamId);
        short ahead = (short)(ssn - stream.NextSsn);
        if (ahead == 0)
        {
            Deliver(streamId, ppid, message, false);
            stream.NextSsn++;
            DrainReady(streamId, stream);
        }
        else if (ahead > 0)
        {
            if (stream.Ready.TryAdd(ssn, (ppid, message))) _receiveBuffered += message.Length;
        }
        else
        {
            Counters.ChunksDropped++; // an SSN already delivered or skipped
        }
    }

    private void DrainReady(ushort streamId, InboundStream stream)
    {
        while (stream.Ready.Remove(stream.NextSsn, out var ready))
        {
            _receiveBuffered -= ready.Data.Length;
            Deliver(streamId, ready.Ppid, ready.Data, false);
            stream.NextSsn++;
        }
    }

    private void Deliver(ushort streamId, uint ppid, byte[] message, bool unordered)
    {
        if (ReferenceEquals(message, DroppedMessage)) return; // too large: its SSN is used up, nothing is delivered
        Counters.MessagesReceived++;
        _events.Enqueue(new SctpMessageReceived(streamId, ppid, message, unordered));
    }

    /// <summary>
    /// SACK timing (§6.2): at least every second packet with DATA, within the delayed-ack time, and at
    /// once when there are gaps or duplicates, or a gap was just filled.
    /// </summary>
    private void ScheduleSack(TimeSpan now, bool hadGaps)
    {
        _packetsSinceSack++;
        if (_immediateSack || hadGaps || _receivedAbove.Count > 0 || _packetsSinceSack >= 2
            || State is SctpAssociationState.ShutdownSent or SctpAssociationState.ShutdownReceived)
        {
            _sackNeeded = true;
            _delayedSackTimer = null;
        }
        else
        {
            _delayedSackTimer ??= now + _options.DelayedAckTimeout;
        }
    }

    private void AppendSack(ref SctpPacketWriter writer)
    {
        int room = writer.Remaining - SelectiveAcknowledgement.FixedSize;
        if (room < 0) return;
        int duplicates = Math.Min(_duplicates.Count, room / 8);
        int maxBlocks = Math.Min(MaxGapBlocks, (room - 4 * duplicates) / 4);
        var blocks = _gapScratch;
        int blockCount = 0;
        long start = -1, end = -1;
        foreach (long t in _receivedAbove)
        {
            if (start >= 0 && t == end + 1)
            {
                end = t;
                continue;
            }
            if (start >= 0)
            {
                if (blockCount == maxBlocks) break;
                blocks[blockCount++] = new GapAckBlock((ushort)(start - _peerCumTsn), (ushort)(end - _peerCumTsn));
            }
            start = end = t;
        }
        if (start >= 0 && blockCount < maxBlocks)
            blocks[blockCount++] = new GapAckBlock((ushort)(start - _peerCumTsn), (ushort)(end - _peerCumTsn));
        var dups = _duplicateScratch;
        for (int i = 0; i < duplicates; i++) dups[i] = new DuplicateTsn(_duplicates[i]);
        uint window = (uint)Math.Max(0, _options.ReceiveWindow - _receiveBuffered);
        writer.Append(new SelectiveAcknowledgement((uint)_peerCumTsn, window,
            (ReadOnlySpan<GapAckBlock>)blocks.AsSpan(0, blockCount), (ReadOnlySpan<DuplicateTsn>)dups.AsSpan(0, duplicates)));
        _duplicates.Clear();
        _sackNeeded = false;
        _delayedSackTimer = null;
        _packetsSinceSack = 0;
        Counters.SacksSent++;
    }

    /// <summary>
    /// FORWARD TSN (RFC 3758 §3.6): treat every TSN up to the new cumulative TSN as received, drop the
    /// fragments of skipped messages, move each listed ordered stream past its skipped SSN and deliver
    /// what that unblocks, so a partially reliable channel never stalls.
    /// </summary>
    private void HandleForwardTsn(SctpChunk chunk, TimeSpan now)
    {
        if (!ForwardTsn.TryParse(chunk, out var forward)
            || State is not (SctpAssociationState.Established or SctpAssociationState.ShutdownPending
                or SctpAssociationState.ShutdownSent or SctpAssociationState.ShutdownReceived))
        {
            Counters.ChunksDropped++;
            return;
        }
        Counters.ForwardTsnsReceived++;
        _dataInPacket = true;
        _immediateSack = true;
        long newCum = Unwrap(forward.NewCumulativeTsn, _peerCumTsn);
        if (newCum - _peerCumTsn > MaxTsnLead)
        {
            Counters.ChunksDropped++;
            return;
        }
        if (newCum > _peerCumTsn)
        {
            _peerCumTsn = newCum;
            while (_receivedAbove.Count > 0 && _receivedAbove.Min <= _peerCumTsn) _receivedAbove.Remove(_receivedAbove.Min);
            while (_receivedAbove.Count > 0 && _receivedAbove.Min == _peerCumTsn + 1)
            {
                _receivedAbove.Remove(_peerCumTsn + 1);
                _peerCumTsn++;
            }
            if (_discardNext.Count > 0)
            {
                List<long>? gone = null;
                foreach (var key in _discardNext.Keys)
                {
                    if (key <= newCum) (gone ??= new()).Add(key);
                }
                if (gone is not null) foreach (var key in gone) _discardNext.Remove(key);
            }
            if (_fragments.Count > 0)
            {
                List<long>? stale = null;
                foreach (var key in _fragments.Keys)
                {
                    if (key <= newCum) (stale ??= new()).Add(key);
                }
                if (stale is not null)
                {
                    foreach (var key in stale)
                    {
                        _fragments.Remove(key, out var f);
                        _receiveBuffered -= f!.Data.Length;
                    }
                }
            }
        }
        foreach (var pair in forward.Streams)
        {
            if (pair.StreamId >= _inboundStreams) continue;
            var stream = GetInbound(pair.StreamId);
            if ((short)(pair.StreamSequenceNumber - stream.NextSsn) < 0) continue;
            // Deliver complete messages up to the skipped SSN, in order, then skip past it.
            if (stream.Ready.Count > 0)
            {
                var keys = new List<ushort>();
                foreach (var key in stream.Ready.Keys)
                {
                    if ((short)(pair.StreamSequenceNumber - key) >= 0) keys.Add(key);
                }
                ushort baseSsn = stream.NextSsn;
                keys.Sort((a, b) => ((ushort)(a - baseSsn)).CompareTo((ushort)(b - baseSsn)));
                foreach (var key in keys)
                {
                    stream.Ready.Remove(key, out var ready);
                    _receiveBuffered -= ready.Data.Length;
                    Deliver(pair.StreamId, ready.Ppid, ready.Data, false);
                }
            }
            stream.NextSsn = (ushort)(pair.StreamSequenceNumber + 1);
            DrainReady(pair.StreamId, stream);
        }
        CheckDeferredReset(now);
    }
}
