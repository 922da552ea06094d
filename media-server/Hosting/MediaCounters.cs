namespace TeleRehab.Media.Hosting;

/// <summary>What one worker's peers did: written only by that worker (plain increments, no locks or atomics on the
/// packet path), read from any thread by the metrics scrape (64-bit reads are atomic on the 64-bit runtimes we use).</summary>
public sealed class MediaCounters
{
    internal long AudioPacketsIn;
    internal long AudioBytesIn;
    internal long VideoPacketsIn;
    internal long VideoBytesIn;
    internal long AudioPacketsOut;
    internal long AudioBytesOut;
    internal long VideoPacketsOut;
    internal long VideoBytesOut;
    internal long NacksReceived;
    internal long NacksSent;
    internal long PlisReceived;
    internal long PlisSent;
    internal long Retransmissions;
    internal long TransportFeedbackSent;
    internal long NackedPackets;
    internal long NackedPacketsHeld;
    internal long IceFailures;
    internal long DtlsFailures;

    /// <summary>Pose frames of this worker's rooms, by outcome.</summary>
    public PoseFrameCounts PoseFrames { get; } = new();

    internal void CountIn(bool video, int bytes)
    {
        if (video) { VideoPacketsIn++; VideoBytesIn += bytes; }
        else { AudioPacketsIn++; AudioBytesIn += bytes; }
    }

    internal void CountOut(bool video, int bytes)
    {
        if (video) { VideoPacketsOut++; VideoBytesOut += bytes; }
        else { AudioPacketsOut++; AudioBytesOut += bytes; }
    }

    /// <summary>Adds this worker's counts to <paramref name="totals"/> (for the sum over all workers).</summary>
    public void AddTo(MediaTotals totals)
    {
        totals.AudioPacketsIn += Volatile.Read(ref AudioPacketsIn);
        totals.AudioBytesIn += Volatile.Read(ref AudioBytesIn);
        totals.VideoPacketsIn += Volatile.Read(ref VideoPacketsIn);
        totals.VideoBytesIn += Volatile.Read(ref VideoBytesIn);
        totals.AudioPacketsOut += Volatile.Read(ref AudioPacketsOut);
        totals.AudioBytesOut += Volatile.Read(ref AudioBytesOut);
        totals.VideoPacketsOut += Volatile.Read(ref VideoPacketsOut);
        totals.VideoBytesOut += Volatile.Read(ref VideoBytesOut);
        PoseFrames.AddTo(totals.PoseFrames);
        totals.NacksReceived += Volatile.Read(ref NacksReceived);
        totals.NacksSent += Volatile.Read(ref NacksSent);
        totals.PlisReceived += Volatile.Read(ref PlisReceived);
        totals.PlisSent += Volatile.Read(ref PlisSent);
        totals.Retransmissions += Volatile.Read(ref Retransmissions);
        totals.TransportFeedbackSent += Volatile.Read(ref TransportFeedbackSent);
        totals.NackedPackets += Volatile.Read(ref NackedPackets);
        totals.NackedPacketsHeld += Volatile.Read(ref NackedPacketsHeld);
        totals.IceFailures += Volatile.Read(ref IceFailures);
        totals.DtlsFailures += Volatile.Read(ref DtlsFailures);
    }
}

/// <summary>The sum of every worker's <see cref="MediaCounters"/> at one moment.</summary>
public sealed class MediaTotals
{
    public long AudioPacketsIn { get; set; }
    public long AudioBytesIn { get; set; }
    public long VideoPacketsIn { get; set; }
    public long VideoBytesIn { get; set; }
    public long AudioPacketsOut { get; set; }
    public long AudioBytesOut { get; set; }
    public long VideoPacketsOut { get; set; }
    public long VideoBytesOut { get; set; }
    public long NacksReceived { get; set; }
    public long NacksSent { get; set; }
    public long PlisReceived { get; set; }
    public long PlisSent { get; set; }
    public long Retransmissions { get; set; }
    public long TransportFeedbackSent { get; set; }

    /// <summary>Packets subscribers NACKed, and of those the ones the SFU had received (resent, or too old by then; a
    /// NACK repeated while its resend is on the way is not counted again).</summary>
    public long NackedPackets { get; set; }
    public long NackedPacketsHeld { get; set; }
    public long IceFailures { get; set; }
    public long DtlsFailures { get; set; }

    /// <summary>Pose frames by outcome (index: <see cref="PoseFrameOutcome"/>).</summary>
    public long[] PoseFrames { get; } = new long[PoseFrameCounts.Outcomes];
}

/// <summary>What became of pose frames: a room's forwarder counts each frame a sender sends once as Received and at
/// most once as a drop, and Forwarded once per receiver it reaches.</summary>
public enum PoseFrameOutcome
{
    Received,
    Forwarded,
    Flooded,
    Malformed,
    Undecodable,
    NotSender,
    Superseded,
    SendFailed,
}

/// <summary>Pose frame outcomes, written by one worker and read by the metrics scrape (as <see cref="MediaCounters"/>).</summary>
public sealed class PoseFrameCounts
{
    public static readonly int Outcomes = Enum.GetValues<PoseFrameOutcome>().Length;

    private readonly long[] _counts = new long[Outcomes];

    internal void Add(PoseFrameOutcome outcome) => _counts[(int)outcome]++;

    public long this[PoseFrameOutcome outcome] => Volatile.Read(ref _counts[(int)outcome]);

    public void AddTo(long[] totals)
    {
        for (var i = 0; i < _counts.Length; i++) totals[i] += Volatile.Read(ref _counts[i]);
    }
}
