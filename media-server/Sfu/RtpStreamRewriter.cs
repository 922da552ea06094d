using System.Buffers.Binary;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// Maps one forwarded source stream onto one outgoing SSRC with continuous sequence numbers and
/// timestamps, although the source may switch between SSRCs (a simulcast layer change, a publisher
/// reconnecting). Sans-I/O and single-threaded: call from the worker loop that owns the subscriber.
/// <para>
/// Within one source, outgoing seq = source seq + offset and outgoing ts = source ts + offset, so
/// reordered packets keep their relative position and duplicates (retransmissions) map to the same
/// outgoing seq. When a new source starts, its first packet gets the highest outgoing seq + 1 and a
/// timestamp that advances by the wall time elapsed since the last forwarded packet × the clock rate
/// (as mediasoup's SeqManager and timestamp offset on a layer switch). Packets of the previous source
/// after a switch, and packets of the new source older than its first forwarded packet, are dropped.
/// </para>
/// <para>
/// <see cref="Drop(ReadOnlySpan{byte})"/> tells the rewriter that the caller will not forward a packet of the current
/// source (a temporal layer above the chosen one), so later packets close the gap and the subscriber sees no loss
/// it would NACK (as mediasoup's SeqManager "dropped" set). Each run of consecutive drops starts a new
/// <em>run</em>: from its first packet on, outgoing seq = source seq + a smaller offset. A late packet inside a
/// dropped run is dropped too; a late packet between runs keeps the outgoing seq reserved for it. A drop of a packet
/// older than the highest one already handled cannot move numbers already sent: it is only counted, its outgoing seq
/// stays a gap (which <see cref="TryMapToSource(ushort, out uint, out ushort)"/> still maps, so a NACK for it resends it).
/// </para>
/// </summary>
public sealed class RtpStreamRewriter
{
    private const int RunCount = 128;    // power of two: source switches and drop runs kept for late packets and NACKs
    private const int RetiredCount = 8;  // power of two: SSRCs switched away from

    // Runs: constant-offset stretches of outgoing numbering, oldest first in a ring; _runTotal counts all ever started.
    private readonly Run[] _runs = new Run[RunCount];
    private long _runTotal;
    private long _sourceFirstRun;  // run number that started the current source (its first forwarded packet)
    private readonly uint[] _retired = new uint[RetiredCount];
    private int _retiredTotal;

    private SequenceNumberUnwrapper _sourceSeq;
    private long _sourceBaseExt;   // extended source seq of the first packet forwarded from the current source
    private long _highestSourceExt; // highest extended source seq forwarded or dropped since then
    private uint _tsOffset;

    private bool _hasSource;
    private bool _baseSet;
    private bool _hasPrevious;
    private uint _currentSsrc;
    private uint _previousSsrc;

    private bool _forwarded;
    private long _highestOutExt;
    private uint _highestOutTimestamp;
    private TimeSpan _highestOutTime;

    /// <param name="outgoingSsrc">SSRC the subscriber sees.</param>
    /// <param name="clockRate">RTP clock rate of the stream (90000 for video, 48000 for Opus).</param>
    /// <param name="initialSequenceNumber">Outgoing seq of the first forwarded packet (pick it at random, RFC 3550 §5.1).</param>
    /// <param name="initialTimestamp">Outgoing ts of the first forwarded packet (pick it at random, RFC 3550 §5.1).</param>
    /// <param name="autoSwitch">
    /// When true, a packet of a new SSRC makes it the new source (a publisher reconnecting); SSRCs forwarded before
    /// (the last 8) are not switched back to automatically and their packets are dropped. When false,
    /// only <see cref="SwitchSource"/> changes the source and packets of any other SSRC are dropped (simulcast).
    /// </param>
    public RtpStreamRewriter(uint outgoingSsrc, uint clockRate, ushort initialSequenceNumber = 0, uint initialTimestamp = 0,
        bool autoSwitch = true)
    {
        if (clockRate == 0) throw new ArgumentOutOfRangeException(nameof(clockRate));
        OutgoingSsrc = outgoingSsrc;
        ClockRate = clockRate;
        AutoSwitch = autoSwitch;
        _highestOutExt = initialSequenceNumber - 1L;
        _highestOutTimestamp = initialTimestamp;
    }

    public uint OutgoingSsrc { get; }

    public uint ClockRate { get; }

    public bool AutoSwitch { get; }

    /// <summary>SSRC currently forwarded (or about to be, after <see cref="SwitchSource"/>); null before any source.</summary>
    public uint? CurrentSourceSsrc => _hasSource ? _currentSsrc : null;

    /// <summary>Highest outgoing sequence number written so far (valid once a packet was forwarded).</summary>
    public ushort HighestOutgoingSequenceNumber => (ushort)_highestOutExt;

    /// <summary>Number of packets forwarded (counting duplicates).</summary>
    public long ForwardedCount { get; private set; }

    /// <summary>Number of packets rejected (previous source, too old, inside a dropped run, malformed).</summary>
    public long DroppedCount { get; private set; }

    /// <summary>Number of <see cref="Drop(ReadOnlySpan{byte})"/> calls whose gap later packets close.</summary>
    public long ClosedGapCount { get; private set; }

    /// <summary>
    /// Makes <paramref name="newSsrc"/> the source. From now on packets of the old source are dropped; the first
    /// packet of the new one continues the outgoing numbering (highest seq + 1, timestamp by elapsed time).
    /// Switching to the current source is a no-op.
    /// </summary>
    public void SwitchSource(uint newSsrc)
    {
        if (_hasSource && newSsrc == _currentSsrc) return;
        if (_hasSource)
        {
            _previousSsrc = _currentSsrc;
            _hasPrevious = true;
            _retired[_retiredTotal++ & (RetiredCount - 1)] = _currentSsrc;
        }
        _currentSsrc = newSsrc;
        _hasSource = true;
        _baseSet = false;
    }

    /// <summary>
    /// Rewrites SSRC, sequence number and timestamp of <paramref name="packet"/> (a plaintext RTP packet) in
    /// place. Returns false, leaving the packet untouched, if it must not be forwarded. Only the fixed header is
    /// read (version 2, at least 12 bytes); the caller's other per-packet steps validate the rest.
    /// </summary>
    public bool TryRewrite(Span<byte> packet, TimeSpan now, out ushort outSeq)
    {
        outSeq = 0;
        if (packet.Length < RtpPacketReader.FixedHeaderLength || packet[0] >> 6 != 2) return Reject();
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(8, 4));
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2, 2));
        uint ts = BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(4, 4));

        if (!_hasSource || ssrc != _currentSsrc)
        {
            if (!_hasSource) SwitchSource(ssrc);
            else if (!AutoSwitch || IsRetired(ssrc)) return Reject();
            else SwitchSource(ssrc);
        }

        long outExt;
        ushort seqOffset;
        if (!_baseSet)
        {
            StartSource(ssrc, seq, ts, now);
            ref readonly Run first = ref _runs[(_runTotal - 1) & (RunCount - 1)];
            outExt = first.OutStartExt;
            seqOffset = first.SeqOffset;
        }
        else
        {
            long srcExt = _sourceSeq.Unwrap(seq);
            if (srcExt < _sourceBaseExt) return Reject(); // older than the switch point: its outgoing seq is taken
            if (srcExt > _highestSourceExt)
            {
                // In order (the common case): the newest run applies.
                _highestSourceExt = srcExt;
                ref readonly Run last = ref _runs[(_runTotal - 1) & (RunCount - 1)];
                outExt = last.OutStartExt + (srcExt - last.SourceStartExt);
                seqOffset = last.SeqOffset;
            }
            else if (!TryFindRun(srcExt, out outExt, out seqOffset))
            {
                return Reject(); // inside a dropped run, or older than the run history
            }
        }

        outSeq = (ushort)(seq + seqOffset);
        uint outTs = ts + _tsOffset;
        if (!_forwarded || outExt > _highestOutExt)
        {
            _highestOutExt = outExt;
            _highestOutTimestamp = outTs;
            _highestOutTime = now;
            _forwarded = true;
        }
        RtpPacketRewriter.SetSsrc(packet, OutgoingSsrc);
        RtpPacketRewriter.SetSequenceNumber(packet, outSeq);
        RtpPacketRewriter.SetTimestamp(packet, outTs);
        ForwardedCount++;
        return true;
    }

    /// <summary>
    /// Tells the rewriter that <paramref name="packet"/> (a plaintext RTP packet of the forwarded stream) will not be
    /// forwarded to this subscriber, so later packets take its outgoing seq and the subscriber sees no gap. Only the
    /// fixed header is read; the packet is not changed. Ignored (nothing to close) for a malformed packet, another
    /// SSRC than the current source, before the current source's first forwarded packet, and for a packet not newer
    /// than the highest one already forwarded or dropped (its outgoing seq is already reserved).
    /// </summary>
    public void Drop(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < RtpPacketReader.FixedHeaderLength || packet[0] >> 6 != 2) return;
        Drop(BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(8, 4)), BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2, 2)));
    }

    /// <summary>As <see cref="Drop(ReadOnlySpan{byte})"/>, given the packet's SSRC and sequence number.</summary>
    public void Drop(uint sourceSsrc, ushort sourceSequenceNumber)
    {
        if (!_baseSet || sourceSsrc != _currentSsrc) return;
        long srcExt = _sourceSeq.Unwrap(sourceSequenceNumber);
        if (srcExt <= _highestSourceExt) return;

        ref Run last = ref _runs[(_runTotal - 1) & (RunCount - 1)];
        if (last.DroppedBefore > 0 && srcExt == last.SourceStartExt && _highestSourceExt == srcExt - 1)
        {
            // Extends the run of drops just before the newest run, which has forwarded nothing yet.
            last = last with { SourceStartExt = srcExt + 1, SeqOffset = (ushort)(last.SeqOffset - 1), DroppedBefore = last.DroppedBefore + 1 };
        }
        else
        {
            // The packets between the highest handled and this one keep their reserved outgoing seqs; from srcExt + 1 on
            // everything moves down by one: srcExt + 1 takes the outgoing seq srcExt would have had.
            long outStart = last.OutStartExt + (srcExt - last.SourceStartExt);
            AddRun(new Run(outStart, srcExt + 1, _currentSsrc, (ushort)(last.SeqOffset - 1), _tsOffset, 1));
        }
        _highestSourceExt = srcExt;
        ClosedGapCount++;
    }

    /// <summary>Maps an outgoing seq (e.g. from a subscriber's NACK) to the source SSRC and seq it was forwarded from.</summary>
    public bool TryMapToSource(ushort outSeq, out uint sourceSsrc, out ushort sourceSeq) =>
        TryMapToSource(outSeq, out sourceSsrc, out sourceSeq, out _);

    /// <summary>
    /// As <see cref="TryMapToSource(ushort, out uint, out ushort)"/>, also returning the timestamp offset
    /// (outgoing ts = source ts + offset) needed to rewrite a retransmitted packet. Keeps the last 128 runs (source
    /// switches and runs of drops); false for seqs never reached, older than that history, or more than 32767 behind.
    /// </summary>
    public bool TryMapToSource(ushort outSeq, out uint sourceSsrc, out ushort sourceSeq, out uint timestampOffset)
    {
        sourceSsrc = 0;
        sourceSeq = 0;
        timestampOffset = 0;
        if (!_forwarded) return false;
        long ext = _highestOutExt + (short)(ushort)(outSeq - (ushort)_highestOutExt);
        if (ext > _highestOutExt) return false;
        long oldest = Math.Max(0, _runTotal - RunCount);
        for (long i = _runTotal - 1; i >= oldest; i--)
        {
            ref readonly Run r = ref _runs[i & (RunCount - 1)];
            if (r.OutStartExt > ext) continue;
            sourceSsrc = r.Ssrc;
            sourceSeq = (ushort)(outSeq - r.SeqOffset);
            timestampOffset = r.TimestampOffset;
            return true;
        }
        return false;
    }

    private void StartSource(uint ssrc, ushort seq, uint ts, TimeSpan now)
    {
        long outExt = _highestOutExt + 1;
        uint outTs;
        if (!_forwarded)
        {
            outTs = _highestOutTimestamp; // the initial timestamp
        }
        else
        {
            // Advance by the elapsed wall time at the clock rate; at least one tick so the new source's
            // first packet is strictly later than anything already forwarded.
            long elapsedTicks = Math.Max(0, (now - _highestOutTime).Ticks);
            long advance = (long)((UInt128)(ulong)elapsedTicks * ClockRate / TimeSpan.TicksPerSecond);
            outTs = _highestOutTimestamp + (uint)Math.Clamp(advance, 1, int.MaxValue);
        }
        _tsOffset = outTs - ts;
        _sourceSeq = default;
        _sourceBaseExt = _sourceSeq.Unwrap(seq);
        _highestSourceExt = _sourceBaseExt;
        _baseSet = true;
        _sourceFirstRun = _runTotal;
        AddRun(new Run(outExt, _sourceBaseExt, ssrc, (ushort)((ushort)outExt - seq), _tsOffset, 0));
    }

    private void AddRun(in Run run)
    {
        _runs[_runTotal & (RunCount - 1)] = run;
        _runTotal++;
    }

    /// <summary>
    /// Outgoing numbering for a late packet of the current source (not newer than the highest handled): the newest
    /// run starting at or before it, unless it lies in the drops just before a run. False when dropped or too old.
    /// </summary>
    private bool TryFindRun(long srcExt, out long outExt, out ushort seqOffset)
    {
        long oldest = Math.Max(_sourceFirstRun, _runTotal - RunCount);
        for (long i = _runTotal - 1; i >= oldest; i--)
        {
            ref readonly Run r = ref _runs[i & (RunCount - 1)];
            if (srcExt >= r.SourceStartExt)
            {
                outExt = r.OutStartExt + (srcExt - r.SourceStartExt);
                seqOffset = r.SeqOffset;
                return true;
            }
            if (srcExt >= r.SourceStartExt - r.DroppedBefore) break; // in the dropped run before r
        }
        outExt = 0;
        seqOffset = 0;
        return false;
    }

    /// <summary>True for the source switched away from and, with auto-switch, any earlier source (the last 8).</summary>
    private bool IsRetired(uint ssrc)
    {
        if (_hasPrevious && ssrc == _previousSsrc) return true;
        int available = Math.Min(_retiredTotal, RetiredCount);
        for (int i = 1; i <= available; i++)
            if (_retired[(_retiredTotal - i) & (RetiredCount - 1)] == ssrc) return true;
        return false;
    }

    private bool Reject()
    {
        DroppedCount++;
        return false;
    }

    /// <summary>
    /// From source seq <c>SourceStartExt</c> (extended, of that source) on, outgoing seq = source seq + SeqOffset
    /// (mod 2^16), starting at <c>OutStartExt</c>; the <c>DroppedBefore</c> source seqs just before it were dropped.
    /// </summary>
    private readonly record struct Run(long OutStartExt, long SourceStartExt, uint Ssrc, ushort SeqOffset, uint TimestampOffset, int DroppedBefore);
}
