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

    internal void Count(uint ssrc, uint sequence, bool intact)
    {
        Interlocked.Increment(ref PacketsField);
        if (intact) Interlocked.Increment(ref IntactField);
        else Interlocked.Increment(ref DamagedField);
        Interlocked.Exchange(ref LastSequenceField, sequence);
        _ssrcs.TryAdd(ssrc, 0);
    }
}
