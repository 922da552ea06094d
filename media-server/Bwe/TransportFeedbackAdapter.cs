using System.Runtime.CompilerServices;
using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Bwe;

/// <summary>
/// Matches transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) to the
/// <see cref="SendHistory"/> and writes one <see cref="PacketResult"/> per newly reported packet into a buffer it
/// reuses. Arrival times are moved into the sender's clock: the first feedback's reference time maps to the local
/// time it was handled, later ones by the (24-bit, wrapping) reference time difference. A jump of the reference time
/// that the elapsed local time cannot explain is taken as a receiver clock reset and re-anchors the mapping.
/// Duplicate feedback reports nothing twice; a packet reported lost and later received (reordered feedback) is
/// reported again with <see cref="PacketResult.WasReportedLost"/>. Packets skipped between two consecutive
/// feedbacks (a receiver that starts its next message at the first packet it got) are reported lost.
/// </summary>
public sealed class TransportFeedbackAdapter
{
    private const long ReferenceUnitTicks = 64 * TimeSpan.TicksPerMillisecond;
    private const int ReferenceBits = 24;
    private static readonly TimeSpan ResetSlack = TimeSpan.FromSeconds(10);
    private const int MaxGapReportedLost = 1000;

    private readonly SendHistory _history;
    private readonly PacketResult[] _results;
    private bool _haveReference;
    private uint _lastReferenceRaw;
    private TimeSpan _arrivalBase;
    private TimeSpan _lastFeedbackTime;
    private long _highestReported = -1;

    public TransportFeedbackAdapter(SendHistory history, int maxResults = 4096)
    {
        _history = history;
        _results = new PacketResult[maxResults];
    }

    /// <summary>True when the last feedback re-anchored the arrival clock (delay history must restart).</summary>
    public bool ArrivalTimeBaseReset { get; private set; }

    /// <summary>Feedback messages handled, and those whose reference time jumped (receiver clock reset).</summary>
    public long FeedbackCount { get; private set; }
    public long ArrivalBaseResets { get; private set; }

    /// <summary>
    /// Processes one feedback message; returns the results (valid until the next call). Packets the history no
    /// longer holds (too old, or never sent) are skipped.
    /// </summary>
    public ReadOnlySpan<PacketResult> OnFeedback(in TransportWideFeedback feedback, TimeSpan now)
    {
        FeedbackCount++;
        UpdateArrivalBase(feedback.ReferenceTimeRaw & 0xFFFFFF, now);
        TimeSpan reference = feedback.ReferenceTime;
        int n = 0;

        long baseSeq = _history.Unwrap(feedback.BaseSequenceNumber);
        if (_highestReported >= 0 && baseSeq > _highestReported + 1 && baseSeq - _highestReported <= MaxGapReportedLost)
        {
            for (long s = _highestReported + 1; s < baseSeq && n < _results.Length; s++)
            {
                ref var p = ref _history.Find(s);
                if (Unsafe.IsNullRef(ref p) || p.State != FeedbackState.Unreported) continue;
                p.State = FeedbackState.ReportedLost;
                _results[n++] = new PacketResult(s, p.SendTime, default, p.Size, p.ProbeClusterId, false, false);
            }
        }

        foreach (var status in feedback)
        {
            if (n >= _results.Length) break;
            long ext = baseSeq + (ushort)(status.SequenceNumber - feedback.BaseSequenceNumber);
            ref var p = ref _history.Find(ext);
            if (Unsafe.IsNullRef(ref p)) continue;
            if (ext > _highestReported) _highestReported = ext;
            if (status.Received)
            {
                if (p.State == FeedbackState.Received) continue; // duplicate
                bool wasLost = p.State == FeedbackState.ReportedLost;
                p.State = FeedbackState.Received;
                var arrival = _arrivalBase + (status.ArrivalTime - reference);
                _results[n++] = new PacketResult(ext, p.SendTime, arrival, p.Size, p.ProbeClusterId, true, wasLost);
            }
            else if (p.State == FeedbackState.Unreported)
            {
                p.State = FeedbackState.ReportedLost;
                _results[n++] = new PacketResult(ext, p.SendTime, default, p.Size, p.ProbeClusterId, false, false);
            }
        }
        return _results.AsSpan(0, n);
    }

    private void UpdateArrivalBase(uint referenceRaw, TimeSpan now)
    {
        ArrivalTimeBaseReset = false;
        if (!_haveReference)
        {
            _haveReference = true;
            _arrivalBase = now;
        }
        else
        {
            // Signed difference of two 24-bit counters of 64 ms units: the reference time wraps every ~12.4 days.
            int diff = (int)((referenceRaw - _lastReferenceRaw) << (32 - ReferenceBits)) >> (32 - ReferenceBits);
            var step = TimeSpan.FromTicks(diff * ReferenceUnitTicks);
            var elapsed = now - _lastFeedbackTime;
            if (step > elapsed + ResetSlack || step < -(elapsed + ResetSlack))
            {
                _arrivalBase = now;
                ArrivalTimeBaseReset = true;
                ArrivalBaseResets++;
            }
            else
            {
                _arrivalBase += step;
            }
        }
        _lastReferenceRaw = referenceRaw;
        _lastFeedbackTime = now;
    }
}
