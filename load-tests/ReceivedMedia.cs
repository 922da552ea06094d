using System.Collections.Concurrent;

namespace TeleRehab.LoadTests;

/// <summary>What a client received from one remote publisher's track of one kind (counted on the media worker,
/// read from any thread).</summary>
public sealed class ReceivedTrackStats(string participantId, string kind)
{
    internal long PacketsField;
    internal long IntactField;
    internal long DamagedField;
    internal long LastSequenceField = -1;
    private readonly ConcurrentDictionary<uint, byte> _ssrcs = new();

    public string ParticipantId { get; } = participantId;

    public string Kind { get; } = kind;

    /// <summary>Packets whose payload names this publisher and kind.</summary>
    public long Packets => Interlocked.Read(ref PacketsField);

    /// <summary>Of those, payloads whose every byte is as the publisher wrote it.</summary>
    public long Intact => Interlocked.Read(ref IntactField);

    /// <summary>Payloads that name this publisher but were altered.</summary>
    public long Damaged => Interlocked.Read(ref DamagedField);

    /// <summary>The publisher's sequence in the last packet received.</summary>
    public long LastSequence => Interlocked.Read(ref LastSequenceField);

    /// <summary>The RTP SSRCs these packets arrived with (the SFU's, one per subscription).</summary>
    public IReadOnlyCollection<uint> Ssrcs => _ssrcs.Keys.ToList();

    private long _first = -1;
    private long _highest = -1;
    private long _outOfOrder;
    private long _lastTransit = long.MinValue;
    private double _jitter;

    /// <summary>Publisher sequences from the first received to the highest: what should have arrived since (for loss).</summary>
    public long Expected => Interlocked.Read(ref _highest) < 0 ? 0 : Interlocked.Read(ref _highest) - Interlocked.Read(ref _first) + 1;

    /// <summary>Packets that arrived after a later one (reordered, or retransmitted after a loss).</summary>
    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    /// <summary>Interarrival jitter (RFC 3550 §6.4.1, from the send times payloads carry) in milliseconds.</summary>
    public double JitterMs => Volatile.Read(ref _jitter) / 1000;

    internal void Count(uint ssrc, uint sequence, bool intact) => Count(ssrc, sequence, intact, -1, 0);

    /// <summary>Counts one packet (on the media worker: one writer); <paramref name="sentAt"/> and
    /// <paramref name="receivedAt"/> in microseconds of <see cref="MediaClock"/>, sentAt negative when unknown.</summary>
    internal void Count(uint ssrc, uint sequence, bool intact, long sentAt, long receivedAt)
    {
        if (_first < 0) Volatile.Write(ref _first, sequence);
        if (sequence > _highest) Volatile.Write(ref _highest, sequence);
        else Interlocked.Increment(ref _outOfOrder);
        if (sentAt >= 0)
        {
            var transit = receivedAt - sentAt;
            if (_lastTransit != long.MinValue) Volatile.Write(ref _jitter, _jitter + (Math.Abs(transit - _lastTransit) - _jitter) / 16);
            _lastTransit = transit;
        }
        Interlocked.Increment(ref PacketsField);
        if (intact) Interlocked.Increment(ref IntactField);
        else Interlocked.Increment(ref DamagedField);
        Interlocked.Exchange(ref LastSequenceField, sequence);
        _ssrcs.TryAdd(ssrc, 0);
    }
}
