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
/// </summary>
public sealed class RtpStreamRewriter
{
    private const int SegmentCount = 8; // power of two

    private readonly Segment[] _segments = new Segment[SegmentCount];
    private int _segmentTotal;

    private SequenceNumberUnwrapper _sourceSeq;
    private long _sourceBaseExt;   // extended source seq of the first packet forwarded from the current source
    private long _outBaseExt;      // extended outgoing seq of that packet
    private ushort _seqOffset;
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

    /// <summary>Number of packets rejected (previous source, too old, malformed).</summary>
    public long DroppedCount { get; private set; }

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
        if (packet.Length < RtpPacketReader.FixedHeaderLength || packet[0] >> 6 != 2) return Drop();
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(8, 4));
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2, 2));
        uint ts = BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(4, 4));

        if (!_hasSource || ssrc != _currentSsrc)
        {
            if (!_hasSource) SwitchSource(ssrc);
            else if (!AutoSwitch || IsRetired(ssrc)) return Drop();
            else SwitchSource(ssrc);
        }

        long outExt;
        if (!_baseSet)
        {
            StartSegment(ssrc, seq, ts, now);
            outExt = _outBaseExt;
        }
        else
        {
            long srcExt = _sourceSeq.Unwrap(seq);
            if (srcExt < _sourceBaseExt) return Drop(); // older than the switch point: its outgoing seq is taken
            outExt = _outBaseExt + (srcExt - _sourceBaseExt);
        }

        outSeq = (ushort)(seq + _seqOffset);
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

    /// <summary>Maps an outgoing seq (e.g. from a subscriber's NACK) to the source SSRC and seq it was forwarded from.</summary>
    public bool TryMapToSource(ushort outSeq, out uint sourceSsrc, out ushort sourceSeq) =>
        TryMapToSource(outSeq, out sourceSsrc, out sourceSeq, out _);

    /// <summary>
    /// As <see cref="TryMapToSource(ushort, out uint, out ushort)"/>, also returning the timestamp offset
    /// (outgoing ts = source ts + offset) needed to rewrite a retransmitted packet. Keeps the last 8 source
    /// segments; false for seqs never reached, older than that history, or more than 32767 behind.
    /// </summary>
    public bool TryMapToSource(ushort outSeq, out uint sourceSsrc, out ushort sourceSeq, out uint timestampOffset)
    {
        sourceSsrc = 0;
        sourceSeq = 0;
        timestampOffset = 0;
        if (!_forwarded) return false;
        long ext = _highestOutExt + (short)(ushort)(outSeq - (ushort)_highestOutExt);
        if (ext > _highestOutExt) return false;
        int available = Math.Min(_segmentTotal, SegmentCount);
        for (int i = 1; i <= available; i++)
        {
            ref readonly Segment s = ref _segments[(_segmentTotal - i) & (SegmentCount - 1)];
            if (s.OutStartExt > ext) continue;
            sourceSsrc = s.Ssrc;
            sourceSeq = (ushort)(outSeq - s.SeqOffset);
            timestampOffset = s.TimestampOffset;
            return true;
        }
        return false;
    }

    private void StartSegment(uint ssrc, ushort seq, uint ts, TimeSpan now)
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
        _seqOffset = (ushort)((ushort)outExt - seq);
        _tsOffset = outTs - ts;
        _sourceSeq = default;
        _sourceBaseExt = _sourceSeq.Unwrap(seq);
        _outBaseExt = outExt;
        _baseSet = true;
        _segments[_segmentTotal & (SegmentCount - 1)] = new Segment(outExt, ssrc, _seqOffset, _tsOffset);
        _segmentTotal++;
    }

    /// <summary>True for the source switched away from and, with auto-switch, any earlier source still in the history.</summary>
    private bool IsRetired(uint ssrc)
    {
        if (_hasPrevious && ssrc == _previousSsrc) return true;
        int available = Math.Min(_segmentTotal, SegmentCount);
        for (int i = 1; i <= available; i++)
            if (_segments[(_segmentTotal - i) & (SegmentCount - 1)].Ssrc == ssrc) return true;
        return false;
    }

    private bool Drop()
    {
        DroppedCount++;
        return false;
    }

    private readonly record struct Segment(long OutStartExt, uint Ssrc, ushort SeqOffset, uint TimestampOffset);
}
