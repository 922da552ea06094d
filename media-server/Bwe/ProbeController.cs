namespace TeleRehab.Media.Bwe;

/// <summary>
/// Decides when to probe and at what rate; the pacer fetches clusters with <see cref="TryGetProbe"/>.
/// <list type="bullet">
/// <item>At start: two clusters at 3× and 6× the start rate.</item>
/// <item>Exponential continuation: a result of at least 70 % of the highest rate probed so far asks for a
/// cluster at twice the result, until the cap (max bitrate, and the wanted bitrate when one is set).</item>
/// <item>The application wants more than the estimate (wanted above 1.2 × estimate), the estimate has not been
/// cut for <see cref="StableTime"/>: a cluster at 2 × estimate every <see cref="WantMoreInterval"/>, and one at
/// once when the wanted rate is raised.</item>
/// <item>Application-limited (ALR): a cluster at 2 × estimate every <see cref="AlrInterval"/>, so the estimate
/// is still right when the application needs it.</item>
/// <item>A large drop (below 2/3 of the estimate in one step) while application-limited, or within
/// <see cref="AlrEndedRecently"/> of it: when the over-use behind it ends, one cluster at 0.85 × the estimate before
/// the drop, if that is within <see cref="DropProbeWindow"/> and no such cluster went in the last
/// <see cref="AlrInterval"/>. An application-limited leg's acknowledged throughput is what it sent, not what the
/// link carries, so the cut an over-use makes from it (another flow's burst, a probe's own queue) can go far below
/// the link; if the drop was real the cluster finds nothing.</item>
/// </list>
/// A round waits for its result (or <see cref="ResultTimeout"/>) before the next periodic one.
/// </summary>
public sealed class ProbeController
{
    public static readonly TimeSpan WantMoreInterval = TimeSpan.FromMilliseconds(2500);
    public static readonly TimeSpan AlrInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan StableTime = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan ResultTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DropProbeWindow = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan AlrEndedRecently = TimeSpan.FromSeconds(3);
    private const double LargeDropRatio = 2.0 / 3;
    private const double AfterDropFraction = 0.85;
    private const double FurtherProbeFraction = 0.7;
    private const double WantMoreRatio = 1.2;
    private const int QueueSize = 4;

    private readonly ProbeCluster[] _queue = new ProbeCluster[QueueSize];
    private int _queued, _queueHead;
    private int _nextId;
    private double _minBps, _maxBps, _startBps;
    private double _wantedBps;
    private double _estimateBps;
    private bool _started;
    private bool _exponential;
    private double _highestProbedBps;
    private int _highestClusterId = -1;
    private TimeSpan _lastProbe = TimeSpan.MinValue;
    private TimeSpan _awaitingUntil = TimeSpan.MinValue;
    private TimeSpan _lastDecrease = TimeSpan.MinValue;
    private bool _alr;
    private TimeSpan _alrEndedAt = TimeSpan.MinValue;
    private double _beforeDropBps;
    private TimeSpan _dropAt = TimeSpan.MinValue;
    private TimeSpan _lastDropProbe = TimeSpan.MinValue;

    public ProbeController(double minBps, double maxBps, double startBps)
    {
        SetBounds(minBps, maxBps, startBps);
    }

    public long ClustersCreated { get; private set; }
    public long ClustersSucceeded { get; private set; }

    /// <summary>Clusters sent to check a large drop while application-limited.</summary>
    public long DropProbes { get; private set; }

    public void SetBounds(double minBps, double maxBps, double startBps)
    {
        _minBps = minBps;
        _maxBps = Math.Max(minBps, maxBps);
        _startBps = Math.Clamp(startBps, _minBps, _maxBps);
        if (_estimateBps <= 0) _estimateBps = _startBps;
    }

    /// <summary>The rate the application would send if it could (sum of wanted layers); 0 = no preference.</summary>
    public void SetWantedBitrate(double bps, TimeSpan now)
    {
        double previous = _wantedBps;
        _wantedBps = bps;
        if (_started && bps > previous && bps > WantMoreRatio * _estimateBps && IsStable(now) && !Awaiting(now))
            StartRound(Math.Min(2 * _estimateBps, Cap()));
    }

    public void SetApplicationLimited(bool alr, TimeSpan now)
    {
        if (_alr && !alr) _alrEndedAt = now;
        _alr = alr;
    }

    /// <summary>The current target; a cut (<paramref name="decreased"/>) delays stable-state probing, and a large one
    /// while application-limited is remembered for <see cref="OnOveruseEnded"/> unless <paramref name="lossy"/> (the
    /// link was dropping packets: congested beyond doubt, and a cluster into it would queue ahead of the voices).</summary>
    public void OnEstimate(double bps, bool decreased, TimeSpan now, bool lossy = false)
    {
        if (decreased && !lossy && bps < LargeDropRatio * _estimateBps && (_alr || BweTime.Elapsed(now, _alrEndedAt) < AlrEndedRecently))
        {
            _beforeDropBps = _estimateBps;
            _dropAt = now;
        }
        _estimateBps = bps;
        if (decreased) _lastDecrease = now;
    }

    /// <summary>The delay-based detector left over-use: a large drop it made while application-limited is probed
    /// back (see the class remarks).</summary>
    public void OnOveruseEnded(TimeSpan now)
    {
        if (_dropAt == TimeSpan.MinValue || BweTime.Elapsed(now, _dropAt) >= DropProbeWindow) return;
        if (BweTime.Elapsed(now, _lastDropProbe) < AlrInterval || _queued > 0 || Awaiting(now)) return;
        double bps = AfterDropFraction * _beforeDropBps;
        if (bps <= _estimateBps * 1.1) return;
        _dropAt = TimeSpan.MinValue;
        _lastDropProbe = now;
        // One cluster, not a round that goes on doubling: it checks the drop, the periodic rounds look further.
        _exponential = false;
        _highestProbedBps = 0;
        Enqueue(bps);
        DropProbes++;
    }

    /// <summary>A cluster's valid result. Only the round's highest cluster decides whether to go on.</summary>
    public void OnProbeResult(int clusterId, double bps)
    {
        ClustersSucceeded++;
        if (clusterId != _highestClusterId && _highestProbedBps > 0) return;
        _awaitingUntil = TimeSpan.MinValue;
        if (!_exponential) return;
        double cap = Cap();
        if (bps >= FurtherProbeFraction * _highestProbedBps && 2 * bps > _highestProbedBps && _highestProbedBps < cap)
        {
            double next = Math.Min(2 * bps, cap);
            if (next > _highestProbedBps * 1.05) { Enqueue(next); return; }
        }
        _exponential = false;
    }

    /// <summary>When <see cref="TryGetProbe"/> may next have something to give without other input.</summary>
    public TimeSpan? NextTimeout
    {
        get
        {
            if (_queued > 0 || !_started) return TimeSpan.Zero;
            if (_awaitingUntil != TimeSpan.MinValue) return _awaitingUntil;
            if (_lastProbe == TimeSpan.MinValue) return null;
            if (_alr) return _lastProbe + AlrInterval;
            if (WantsMore)
            {
                // TryGetProbe waits for both the interval and a stable estimate: a deadline before both would be
                // polled in a busy loop.
                var due = _lastProbe + WantMoreInterval;
                var stable = _lastDecrease == TimeSpan.MinValue ? due : _lastDecrease + StableTime;
                return due > stable ? due : stable;
            }
            return null;
        }
    }

    /// <summary>Returns the next cluster to send, if one is due.</summary>
    public bool TryGetProbe(TimeSpan now, out ProbeCluster cluster)
    {
        if (!_started)
        {
            _started = true;
            _exponential = true;
            Enqueue(3 * _startBps);
            Enqueue(6 * _startBps);
        }
        else if (_queued == 0 && !Awaiting(now))
        {
            if (_awaitingUntil != TimeSpan.MinValue) { _awaitingUntil = TimeSpan.MinValue; _exponential = false; }
            // A periodic round is due: probe, or (when the estimate is already within 10 % of the cap, so there is
            // nothing to look for) count the round as done, so that the next one is an interval away and the timer
            // does not fire again at once.
            if (_alr)
            {
                if (BweTime.Elapsed(now, _lastProbe) >= AlrInterval && !StartRound(Math.Min(2 * _estimateBps, _maxBps))) _lastProbe = now;
            }
            else if (WantsMore && IsStable(now) && BweTime.Elapsed(now, _lastProbe) >= WantMoreInterval)
            {
                if (!StartRound(Math.Min(2 * _estimateBps, Cap()))) _lastProbe = now;
            }
        }
        if (_queued == 0)
        {
            cluster = default;
            return false;
        }
        cluster = _queue[_queueHead];
        _queueHead = (_queueHead + 1) % QueueSize;
        _queued--;
        _lastProbe = now;
        _awaitingUntil = now + ResultTimeout;
        return true;
    }

    private bool WantsMore => _wantedBps > WantMoreRatio * _estimateBps && _estimateBps < _maxBps;

    private bool IsStable(TimeSpan now) => BweTime.Elapsed(now, _lastDecrease) >= StableTime;

    private bool Awaiting(TimeSpan now) => _awaitingUntil != TimeSpan.MinValue && now < _awaitingUntil;

    private double Cap() => _wantedBps > 0 ? Math.Min(_maxBps, Math.Max(_wantedBps, _estimateBps)) : _maxBps;

    /// <summary>Queues a round at <paramref name="bps"/>; false when that is too close to the estimate to tell anything.</summary>
    private bool StartRound(double bps)
    {
        if (bps <= _estimateBps * 1.1) return false;
        _exponential = true;
        _highestProbedBps = 0;
        Enqueue(bps);
        return true;
    }

    private void Enqueue(double bps)
    {
        bps = Math.Clamp(bps, _minBps, _maxBps);
        if (_queued == QueueSize) return;
        int minBytes = (int)Math.Ceiling(bps * ProbeCluster.Duration.TotalSeconds / 8);
        var cluster = new ProbeCluster(_nextId++, (long)bps, ProbeCluster.DefaultMinPackets, minBytes);
        if (_nextId == int.MaxValue) _nextId = 0;
        _queue[(_queueHead + _queued) % QueueSize] = cluster;
        _queued++;
        if (bps > _highestProbedBps) { _highestProbedBps = bps; _highestClusterId = cluster.Id; }
        ClustersCreated++;
    }
}
