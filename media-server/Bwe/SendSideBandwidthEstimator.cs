using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Bwe;

/// <summary>
/// Send-side bandwidth estimate of one subscriber leg from transport-wide feedback (draft-ietf-rmcat-gcc-02 with
/// draft-holmer-rmcat-transport-wide-cc-extensions-01). Sans-I/O: time comes in as arguments, nothing is
/// scheduled inside; used from one worker loop (no locks). <see cref="OnPacketSent"/> and
/// <see cref="OnTransportFeedback"/> allocate nothing.
/// <para>
/// Target = clamp(min(delay-based, loss-based), min, max). The delay-based side is grouping
/// (<see cref="InterArrivalDelta"/>) → <see cref="TrendlineEstimator"/> → <see cref="AimdRateControl"/> with the
/// <see cref="AcknowledgedBitrateEstimator"/>'s throughput; the loss-based side is <see cref="LossBasedEstimator"/>.
/// A valid probe result raises the delay-based estimate at once.
/// </para>
/// </summary>
public sealed class SendSideBandwidthEstimator
{
    private static readonly TimeSpan AlrWindow = TimeSpan.FromMilliseconds(500);
    private const double AlrEnterRatio = 0.65, AlrLeaveRatio = 0.8;
    private static readonly TimeSpan CalmAfterDecrease = TimeSpan.FromSeconds(1);
    /// <summary>No feedback for this long while sending: the feedback path (or the leg) is in trouble.</summary>
    public static readonly TimeSpan FeedbackTimeout = TimeSpan.FromMilliseconds(1500);
    private const double FeedbackTimeoutFactor = 0.8;
    /// <summary>A large drop is not probed back when the feedback showed this share of packets lost or more.</summary>
    private const double DropProbeMaxLoss = 0.1;

    private readonly SendHistory _history;
    private readonly TransportFeedbackAdapter _adapter;
    private readonly InterArrivalDelta _interArrival = new();
    private readonly TrendlineEstimator _trendline = new();
    private readonly AcknowledgedBitrateEstimator _acknowledged = new();
    private readonly LossBasedEstimator _loss = new();
    private readonly ProbeBitrateEstimator _probeEstimator = new();
    private readonly ProbeController _probes;
    private readonly AimdRateControl _aimd;

    private double _minBps, _maxBps;
    private double _targetBps;
    private bool _haveFeedback;
    private TimeSpan _rtt = TimeSpan.FromMilliseconds(200);
    private TimeSpan _alrWindowStart = TimeSpan.MinValue;
    private TimeSpan _lastFeedback = BweTime.Never;
    private TimeSpan _lastSend = BweTime.Never;
    private TimeSpan _lastTimeoutCut = BweTime.Never;
    private long _alrBytes;
    private double _alrWindowTargetBps;
    private BandwidthUsage _lastUsage = BandwidthUsage.Normal;

    public SendSideBandwidthEstimator(long minBps = 30_000, long maxBps = 5_000_000, long startBps = 300_000, int historyCapacity = 8192)
    {
        _history = new SendHistory(historyCapacity);
        _adapter = new TransportFeedbackAdapter(_history);
        _minBps = minBps;
        _maxBps = Math.Max(minBps, maxBps);
        _targetBps = Math.Clamp(startBps, _minBps, _maxBps);
        _aimd = new AimdRateControl(_minBps, _maxBps, _targetBps);
        _probes = new ProbeController(_minBps, _maxBps, _targetBps);
    }

    /// <summary>The send rate the leg should use, in bit/s.</summary>
    public long TargetBitrate => (long)_targetBps;

    /// <summary>The delay-based detector's latest verdict.</summary>
    public BandwidthUsage State => _trendline.State;

    public long DelayBasedBitrate => (long)_aimd.EstimateBps;

    /// <summary>The loss-based bound, or <see cref="long.MaxValue"/> while loss imposes none.</summary>
    public long LossBasedBitrate => double.IsPositiveInfinity(_loss.LimitBps) ? long.MaxValue : (long)_loss.LimitBps;

    /// <summary>Acknowledged throughput in bit/s, or -1 while unknown.</summary>
    public long AcknowledgedBitrate => (long)_acknowledged.BitrateBps;

    public double LossFraction => _loss.LastLossFraction;
    public double InherentLossFraction => _loss.InherentLoss;
    public TimeSpan RoundTripTime => _rtt;
    public bool ApplicationLimited { get; private set; }

    public long FeedbacksReceived => _adapter.FeedbackCount;
    public long OveruseSignals { get; private set; }
    public long ProbesSent => _probes.ClustersCreated;
    public long ProbesSucceeded => _probes.ClustersSucceeded;
    /// <summary>Clusters sent to check a large drop made while application-limited (<see cref="ProbeController"/>).</summary>
    public long DropProbes => _probes.DropProbes;
    public long LastProbeResult { get; private set; }
    public long FeedbackTimeouts { get; private set; }

    /// <summary>The latest cut of the target by more than a third in one feedback (diagnostics): from, to, what caused
    /// it ('d' delay-based, 'l' loss-based), the acknowledged throughput then, whether application-limited, and when.</summary>
    public (long FromBps, long ToBps, char Cause, long AcknowledgedBps, bool ApplicationLimited, TimeSpan At) DeepCut { get; private set; }

    /// <summary>
    /// The shortest feedback round trip since the last <see cref="TakeFeedbackRoundTrip"/>: from the send of the newest
    /// packet a feedback acknowledges to that feedback's arrival. It is the path's round trip, queues included, plus
    /// the receiver's wait before it sent the feedback (at most its packet spacing for the newest packet), and comes
    /// with every feedback, where receiver reports come every second or, for audio alone, every five.
    /// </summary>
    public TimeSpan? TakeFeedbackRoundTrip()
    {
        var rtt = _feedbackRttMin;
        _feedbackRttMin = null;
        return rtt;
    }

    private TimeSpan? _feedbackRttMin;

    /// <summary>Sets the bounds; the start rate counts only before the first feedback.</summary>
    public void SetBounds(long minBps, long maxBps, long startBps)
    {
        _minBps = minBps;
        _maxBps = Math.Max(minBps, maxBps);
        _aimd.SetBounds(_minBps, _maxBps);
        _probes.SetBounds(_minBps, _maxBps, startBps);
        if (!_haveFeedback) _aimd.SetEstimate(startBps, TimeSpan.Zero);
        _targetBps = Math.Clamp(_haveFeedback ? _targetBps : startBps, _minBps, _maxBps);
    }

    /// <summary>What the leg's allocation would use if the link allowed it (drives probing).</summary>
    public void SetWantedBitrate(long bps, TimeSpan now) => _probes.SetWantedBitrate(bps, now);

    public void OnRoundTripTime(TimeSpan rtt)
    {
        if (rtt <= TimeSpan.Zero) return;
        _rtt = rtt;
        _aimd.SetRtt(rtt);
    }

    /// <summary>
    /// Every packet stamped with a transport-wide sequence number, as it leaves (after pacing).
    /// <paramref name="probeClusterId"/> is the id of the <see cref="ProbeCluster"/> it was sent for, or -1.
    /// </summary>
    public void OnPacketSent(ushort transportSequence, int size, int probeClusterId, TimeSpan now)
    {
        _history.Add(transportSequence, size, probeClusterId, now);
        _lastSend = now;
        if (probeClusterId < 0) _alrBytes += size;
        UpdateApplicationLimited(now);
    }

    /// <summary>A parsed transport-wide feedback from the leg's receiver.</summary>
    public void OnTransportFeedback(in TransportWideFeedback feedback, TimeSpan now)
    {
        var results = _adapter.OnFeedback(feedback, now);
        _lastFeedback = now;
        if (_adapter.ArrivalTimeBaseReset)
        {
            _interArrival.Reset();
            _trendline.Reset();
            _acknowledged.Reset();
        }
        if (results.IsEmpty) return;
        _haveFeedback = true;

        var newestSent = TimeSpan.MinValue;
        for (int i = 0; i < results.Length; i++)
        {
            ref readonly var r = ref results[i];
            if (r.Received && r.SendTime > newestSent) newestSent = r.SendTime;
            _loss.OnPacket(r.Received, r.WasReportedLost);
            if (r.IsProbe) _probeEstimator.OnPacketResult(in r);
            if (!r.Received) continue;
            _acknowledged.OnPacketReceived(r.ArrivalTime, r.Size);
            if (_interArrival.Add(r.SendTime, r.ArrivalTime, r.Size, out var sendDelta, out var arrivalDelta, out var groupArrival))
            {
                var before = _trendline.State;
                if (_trendline.Update(sendDelta, arrivalDelta, groupArrival) == BandwidthUsage.Overusing && before != BandwidthUsage.Overusing)
                    OveruseSignals++;
            }
        }
        if (newestSent != TimeSpan.MinValue && now >= newestSent && (_feedbackRttMin is not { } least || now - newestSent < least))
            _feedbackRttMin = now - newestSent;
        double acknowledged = _acknowledged.Update();

        double previousTarget = _targetBps;
        var usage = _trendline.State;
        if (_probeEstimator.TryGetResult(now, out int clusterId, out double probeBps))
        {
            LastProbeResult = (long)probeBps;
            _probes.OnProbeResult(clusterId, probeBps);
            if (usage != BandwidthUsage.Overusing && probeBps > _aimd.EstimateBps)
            {
                _aimd.SetEstimate(probeBps, now);
                _loss.OnProbeResult(probeBps);
            }
            else
            {
                _aimd.Update(usage, acknowledged, now);
            }
        }
        else
        {
            _aimd.Update(usage, acknowledged, now);
        }

        bool calm = usage != BandwidthUsage.Overusing
            && BweTime.Elapsed(now, _aimd.LastDecrease) >= CalmAfterDecrease;
        double lossLimit = _loss.Update(previousTarget, _aimd.EstimateBps, calm, _rtt, now);
        _targetBps = Math.Clamp(Math.Min(_aimd.EstimateBps, lossLimit), _minBps, _maxBps);
        if (_targetBps < previousTarget * 2 / 3)
            DeepCut = ((long)previousTarget, (long)_targetBps, lossLimit < _aimd.EstimateBps ? 'l' : 'd', (long)acknowledged, ApplicationLimited, now);
        _probes.OnEstimate(_targetBps, _targetBps < previousTarget, now, lossy: _loss.LastLossFraction >= DropProbeMaxLoss);
        if (_lastUsage == BandwidthUsage.Overusing && usage != BandwidthUsage.Overusing) _probes.OnOveruseEnded(now);
        _lastUsage = usage;
    }

    /// <summary>
    /// The pacer asks before each pacing step: a cluster to send now, if one is due. It sends the cluster's
    /// padding at <see cref="ProbeCluster.TargetBitrateBps"/> alongside media, tagging each packet with the id.
    /// </summary>
    public bool TryGetProbe(TimeSpan now, out ProbeCluster cluster)
    {
        UpdateApplicationLimited(now);
        CheckFeedbackTimeout(now);
        if (!_probes.TryGetProbe(now, out cluster)) return false;
        _probeEstimator.Register(cluster, now);
        return true;
    }

    /// <summary>When the estimator may next want attention (a probe due, or the feedback timeout), or null.</summary>
    public TimeSpan? NextTimeout
    {
        get
        {
            var probe = _probes.NextTimeout;
            if (_lastFeedback == BweTime.Never || _lastSend <= _lastFeedback) return probe;
            var deadline = _lastTimeoutCut > _lastFeedback ? _lastTimeoutCut + FeedbackTimeout : _lastFeedback + FeedbackTimeout;
            return probe is { } p && p < deadline ? p : deadline;
        }
    }

    /// <summary>
    /// Advances time-based state: the application-limited detector, and the feedback timeout (sending without any
    /// feedback for <see cref="FeedbackTimeout"/> cuts the target by 20 %, again every timeout while it lasts).
    /// Probes are then taken with <see cref="TryGetProbe"/>.
    /// </summary>
    public void HandleTimeout(TimeSpan now)
    {
        UpdateApplicationLimited(now);
        CheckFeedbackTimeout(now);
    }

    private void CheckFeedbackTimeout(TimeSpan now)
    {
        if (_lastFeedback == BweTime.Never || _lastSend <= _lastFeedback) return;
        if (now - _lastFeedback < FeedbackTimeout) return;
        if (_lastTimeoutCut > _lastFeedback && now - _lastTimeoutCut < FeedbackTimeout) return;
        _lastTimeoutCut = now;
        FeedbackTimeouts++;
        _aimd.SetEstimate(_aimd.EstimateBps * FeedbackTimeoutFactor, now);
        _targetBps = Math.Clamp(Math.Min(_aimd.EstimateBps, _loss.LimitBps), _minBps, _maxBps);
        _probes.OnEstimate(_targetBps, true, now);
    }

    private void UpdateApplicationLimited(TimeSpan now)
    {
        if (_alrWindowStart == TimeSpan.MinValue)
        {
            _alrWindowStart = now;
            _alrWindowTargetBps = _targetBps;
            return;
        }
        var elapsed = now - _alrWindowStart;
        if (elapsed < AlrWindow) return;
        double sentBps = _alrBytes * 8 / elapsed.TotalSeconds;
        // Compare with the lower of the targets at the window's start and end: a target raised just now (a probe
        // result) has not had time to be followed, which is not the application holding back.
        double target = Math.Min(_alrWindowTargetBps, _targetBps);
        if (!ApplicationLimited && sentBps < AlrEnterRatio * target) ApplicationLimited = true;
        else if (ApplicationLimited && sentBps > AlrLeaveRatio * target) ApplicationLimited = false;
        _probes.SetApplicationLimited(ApplicationLimited, now);
        _alrBytes = 0;
        _alrWindowStart = now;
        _alrWindowTargetBps = _targetBps;
    }
}
