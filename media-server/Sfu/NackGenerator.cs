using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// Receive-side loss tracker for one published stream: detects sequence gaps and decides when to NACK each
/// missing packet (RFC 4585 §6.2.1 Generic NACK; pack the result with <c>TransportLayerNack.BuildPairs</c>).
/// A missing packet is NACKed as soon as the gap is seen, then again every <see cref="Rtt"/> until it arrives
/// (late or via RTX), it has been NACKed <see cref="MaxRetries"/> times, or it is older than
/// <see cref="MaxAge"/>. At most <see cref="MaxMissing"/> packets are tracked; beyond that the oldest are given
/// up (counted in <see cref="GivenUpCount"/>; a caller may then want a keyframe), and a forward jump over
/// <see cref="MaxDropout"/> resets the tracker (<see cref="ResetCount"/>). Sans-I/O, single-threaded,
/// no allocation after construction.
/// </summary>
public sealed class NackGenerator
{
    /// <summary>A forward jump larger than this resets the tracker instead of NACKing (RFC 3550 A.1 MAX_DROPOUT).</summary>
    public const int MaxDropout = 3000;

    private readonly Entry[] _entries; // ascending extended seq, _count valid
    private int _count;
    private SequenceNumberUnwrapper _unwrapper;
    private TimeSpan _nextDue = TimeSpan.MaxValue; // no entry is due before this (may be early after a recovery)

    public NackGenerator(int maxMissing = 256, int maxRetries = 10, TimeSpan? maxAge = null)
    {
        if (maxMissing < 1) throw new ArgumentOutOfRangeException(nameof(maxMissing));
        if (maxRetries < 1) throw new ArgumentOutOfRangeException(nameof(maxRetries));
        MaxMissing = maxMissing;
        MaxRetries = maxRetries;
        MaxAge = maxAge ?? TimeSpan.FromSeconds(1);
        _entries = new Entry[maxMissing];
    }

    public int MaxMissing { get; }

    public int MaxRetries { get; }

    /// <summary>How long a missing packet is asked for (from when the gap was seen); set from the leg's round trip.</summary>
    public TimeSpan MaxAge { get; set; }

    /// <summary>Round-trip time to the publisher, the interval between NACKs of one packet (initially 100 ms).</summary>
    public TimeSpan Rtt { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The shortest wait before a NACK is repeated, whatever <see cref="Rtt"/> says: a round trip measured on
    /// loopback is 0 at RTCP's 1/65536 s resolution, and a 0 wait would make the entry due again at once.</summary>
    public static readonly TimeSpan MinRetryInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Packets currently missing and tracked.</summary>
    public int MissingCount => _count;

    /// <summary>Missing packets abandoned so far (retries exhausted, too old, or pushed out by the bound).</summary>
    public long GivenUpCount { get; private set; }

    /// <summary>Times a sequence jump over <see cref="MaxDropout"/> reset the tracker (each one means a keyframe is needed).</summary>
    public long ResetCount { get; private set; }

    /// <summary>Missing packets that arrived after all.</summary>
    public long RecoveredCount { get; private set; }

    /// <summary>
    /// Records a received packet (media or recovered via RTX, by its original seq). Returns true if the packet
    /// was one being tracked as missing.
    /// </summary>
    public bool OnPacketReceived(ushort sequenceNumber, TimeSpan now)
    {
        if (!_unwrapper.HasValue)
        {
            _unwrapper.Unwrap(sequenceNumber);
            return false;
        }
        long highest = _unwrapper.Highest;
        long ext = _unwrapper.Unwrap(sequenceNumber);
        if (ext > highest + MaxDropout)
        {
            // RFC 3550 A.1 MAX_DROPOUT: a jump this large is a restart or a long outage; NACKing is pointless
            // (the caller should ask for a keyframe).
            GivenUpCount += _count;
            Clear();
            ResetCount++;
            return false;
        }
        if (ext > highest)
        {
            long first = Math.Max(highest + 1, ext - MaxMissing);
            GivenUpCount += first - (highest + 1);
            for (long s = first; s < ext; s++) Append(s, now);
            return false;
        }
        if (ext == highest) return false;
        int index = Find(ext);
        if (index < 0) return false;
        RemoveAt(index);
        RecoveredCount++;
        return true;
    }

    /// <summary>
    /// Asks again for <paramref name="sequenceNumber"/>, a packet this side never received that someone downstream
    /// wants (a subscriber's NACK the SFU cannot answer from its buffer): tracked as missing from <paramref name="now"/>
    /// unless it is tracked already, was never reached, or is older than <see cref="MaxDropout"/>. True when added.
    /// </summary>
    public bool Request(ushort sequenceNumber, TimeSpan now)
    {
        if (!_unwrapper.HasValue) return false;
        long ext = _unwrapper.Peek(sequenceNumber);
        if (ext >= _unwrapper.Highest || ext < _unwrapper.Highest - MaxDropout) return false;
        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long s = _entries[mid].Sequence;
            if (s == ext) return false;
            if (s < ext) lo = mid + 1;
            else hi = mid - 1;
        }
        if (_count == _entries.Length)
        {
            if (lo == 0) return false; // older than everything tracked in a full tracker
            RemoveAt(0);
            GivenUpCount++;
            lo--;
        }
        Array.Copy(_entries, lo, _entries, lo + 1, _count - lo);
        _entries[lo] = new Entry { Sequence = ext, DetectedAt = now, NextSend = now };
        _count++;
        if (now < _nextDue) _nextDue = now;
        return true;
    }

    /// <summary>
    /// Writes into <paramref name="lost"/> (ascending) the seqs to NACK now and schedules their next retry; drops
    /// entries that are too old or out of retries. Returns the count; seqs that do not fit stay due.
    /// </summary>
    public int CollectNacks(TimeSpan now, Span<ushort> lost)
    {
        if (now < _nextDue) return 0; // the common per-packet case: nothing due
        int written = 0;
        int kept = 0;
        TimeSpan nextDue = TimeSpan.MaxValue;
        for (int i = 0; i < _count; i++)
        {
            ref Entry e = ref _entries[i];
            TimeSpan expiry = e.DetectedAt + MaxAge;
            if (now >= expiry || e.Retries >= MaxRetries) // at its expiry it is due no more (its timer fires exactly then)
            {
                GivenUpCount++;
                continue;
            }
            if (e.NextSend <= now && written < lost.Length)
            {
                lost[written++] = (ushort)e.Sequence;
                e.Retries++;
                e.NextSend = now + (Rtt > MinRetryInterval ? Rtt : MinRetryInterval);
            }
            // After its last retry an entry is dropped at NextSend; before that, whichever comes first.
            TimeSpan due = e.NextSend < expiry ? e.NextSend : expiry;
            if (due < nextDue) nextDue = due;
            _entries[kept++] = e;
        }
        _count = kept;
        _nextDue = nextDue;
        return written;
    }

    /// <summary>
    /// <see cref="CollectNacks"/> and pack the result as one Generic NACK (RFC 4585 §6.2.1) from
    /// <paramref name="senderSsrc"/> about <paramref name="mediaSsrc"/> into <paramref name="destination"/>.
    /// Takes no more seqs than fit (at most 256; the rest stay due). Returns the length, 0 when nothing is due.
    /// </summary>
    public int WriteNack(TimeSpan now, uint senderSsrc, uint mediaSsrc, Span<byte> destination)
    {
        const int MaxSeqs = 256;
        if (now < _nextDue || destination.Length < RtcpHeader.Size + 12) return 0;
        int room = Math.Min(MaxSeqs, (destination.Length - RtcpHeader.Size - 8) / 4); // each pair holds >= 1 seq
        Span<ushort> lost = stackalloc ushort[MaxSeqs];
        int n = CollectNacks(now, lost[..room]);
        if (n == 0) return 0;
        Span<NackPair> pairs = stackalloc NackPair[MaxSeqs];
        int count = TransportLayerNack.BuildPairs(lost[..n], pairs);
        return new TransportLayerNack(senderSsrc, mediaSsrc, pairs[..count]).WriteTo(destination);
    }

    /// <summary>
    /// When <see cref="CollectNacks"/> next has something to do (a retry or an expiry); null when idle. May be
    /// earlier than needed after packets were recovered (a harmless early wake-up).
    /// </summary>
    public TimeSpan? NextTimeout => _count == 0 ? null : _nextDue;

    /// <summary>Forgets every missing packet (e.g. after a keyframe made them useless).</summary>
    public void Clear()
    {
        _count = 0;
        _nextDue = TimeSpan.MaxValue;
    }

    private void Append(long ext, TimeSpan now)
    {
        if (_count == _entries.Length)
        {
            RemoveAt(0);
            GivenUpCount++;
        }
        _entries[_count++] = new Entry { Sequence = ext, DetectedAt = now, NextSend = now };
        if (now < _nextDue) _nextDue = now;
    }

    private int Find(long ext)
    {
        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long s = _entries[mid].Sequence;
            if (s == ext) return mid;
            if (s < ext) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }

    private void RemoveAt(int index)
    {
        Array.Copy(_entries, index + 1, _entries, index, _count - index - 1);
        _count--;
    }

    private struct Entry
    {
        public long Sequence;
        public TimeSpan DetectedAt;
        public TimeSpan NextSend;
        public int Retries;
    }
}
