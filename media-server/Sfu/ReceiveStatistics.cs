using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// Reception statistics of one incoming SSRC, as RFC 3550 §6.4.1 report blocks need them: sequence tracking per
/// Appendix A.1 (without probation: SRTP already authenticates the source), loss per A.3, interarrival jitter per
/// A.8, and LSR/DLSR from the last sender report. Sans-I/O, single-threaded, no allocation.
/// </summary>
public sealed class ReceiveStatistics
{
    private const int MaxDropout = 3000;   // A.1
    private const int MaxMisorder = 100;   // A.1
    private const int SeqMod = 1 << 16;

    private bool _started;
    private ushort _maxSeq;
    private uint _cycles;
    private uint _baseSeq;
    private uint _badSeq = SeqMod + 1;
    private uint _received;
    private uint _expectedPrior;
    private uint _receivedPrior;

    private bool _hasTransit;
    private int _transit;
    private uint _jitterQ4; // jitter × 16 (A.8 integer form)

    private bool _hasSenderReport;
    private uint _lastSenderReport;
    private TimeSpan _lastSenderReportArrival;

    public ReceiveStatistics(uint ssrc, uint clockRate)
    {
        if (clockRate == 0) throw new ArgumentOutOfRangeException(nameof(clockRate));
        Ssrc = ssrc;
        ClockRate = clockRate;
    }

    public uint Ssrc { get; }

    public uint ClockRate { get; }

    /// <summary>Packets counted as received (A.1 "received", duplicates included).</summary>
    public uint PacketsReceived => _received;

    /// <summary>Extended highest sequence number received (cycles × 65536 + max seq).</summary>
    public uint ExtendedHighestSequenceNumber => _cycles + _maxSeq;

    /// <summary>Cumulative number of packets lost (A.3; negative with duplicates).</summary>
    public long CumulativeLost => _started ? (long)ExtendedHighestSequenceNumber - _baseSeq + 1 - _received : 0;

    /// <summary>Interarrival jitter in timestamp units (A.8).</summary>
    public uint Jitter => _jitterQ4 >> 4;

    /// <summary>
    /// Records a received RTP packet. <paramref name="arrival"/> is the local receive time. Returns false if the
    /// packet was not counted (a large sequence jump, pending confirmation by the next packet as in A.1).
    /// </summary>
    public bool OnPacketReceived(ushort sequenceNumber, uint rtpTimestamp, TimeSpan arrival)
    {
        if (!UpdateSequence(sequenceNumber)) return false;

        // A.8: transit = arrival (in RTP units) - timestamp; J += (|D| - J) / 16, kept ×16 in integers.
        uint arrivalUnits = (uint)(ulong)((UInt128)(ulong)Math.Max(0, arrival.Ticks) * ClockRate / TimeSpan.TicksPerSecond);
        int transit = (int)(arrivalUnits - rtpTimestamp);
        if (_hasTransit)
        {
            int d = transit - _transit;
            if (d < 0) d = -d;
            _jitterQ4 = (uint)(_jitterQ4 + d - ((_jitterQ4 + 8) >> 4));
        }
        _transit = transit;
        _hasTransit = true;
        return true;
    }

    /// <summary>Records a sender report from this SSRC: LSR is the middle 32 bits of its NTP timestamp (§6.4.1).</summary>
    public void OnSenderReport(ulong ntpTimestamp, TimeSpan now)
    {
        _lastSenderReport = (uint)(ntpTimestamp >> 16);
        _lastSenderReportArrival = now;
        _hasSenderReport = true;
    }

    /// <summary>
    /// Builds the report block for this SSRC and starts a new reporting interval (fraction lost is per interval,
    /// A.3). DLSR is in units of 1/65536 s; LSR and DLSR are 0 before any SR.
    /// </summary>
    public ReportBlock CreateReportBlock(TimeSpan now)
    {
        uint extendedMax = ExtendedHighestSequenceNumber;
        long expected = _started ? (long)extendedMax - _baseSeq + 1 : 0;
        long lost = expected - _received;
        uint expectedInterval = (uint)expected - _expectedPrior;
        uint receivedInterval = _received - _receivedPrior;
        _expectedPrior = (uint)expected;
        _receivedPrior = _received;
        long lostInterval = (long)expectedInterval - receivedInterval;
        byte fraction = expectedInterval == 0 || lostInterval <= 0 ? (byte)0 : (byte)Math.Min(255, (lostInterval << 8) / expectedInterval);

        uint dlsr = 0;
        if (_hasSenderReport)
        {
            long ticks = Math.Max(0, (now - _lastSenderReportArrival).Ticks);
            dlsr = (uint)Math.Min(uint.MaxValue, ticks * 65536 / TimeSpan.TicksPerSecond);
        }
        int cumulative = (int)Math.Clamp(lost, ReportBlock.MinCumulativeLost, ReportBlock.MaxCumulativeLost);
        return new ReportBlock(Ssrc, fraction, cumulative, extendedMax, Jitter,
            _hasSenderReport ? _lastSenderReport : 0, dlsr);
    }

    // RFC 3550 Appendix A.1 update_seq, without the probation phase.
    private bool UpdateSequence(ushort seq)
    {
        if (!_started)
        {
            InitSequence(seq);
            _started = true;
            _received++;
            return true;
        }
        ushort udelta = (ushort)(seq - _maxSeq);
        if (udelta < MaxDropout)
        {
            if (seq < _maxSeq) _cycles += SeqMod; // wrapped
            _maxSeq = seq;
        }
        else if (udelta <= SeqMod - MaxMisorder)
        {
            // A very large jump: if two sequential packets arrive, assume the sender restarted.
            if (seq == _badSeq)
            {
                InitSequence(seq);
            }
            else
            {
                _badSeq = (uint)((seq + 1) & (SeqMod - 1));
                return false;
            }
        }
        // else: duplicate or reordered packet.
        _received++;
        return true;
    }

    private void InitSequence(ushort seq)
    {
        _baseSeq = seq;
        _maxSeq = seq;
        _badSeq = SeqMod + 1;
        _cycles = 0;
        _received = 0;
        _receivedPrior = 0;
        _expectedPrior = 0;
    }
}
