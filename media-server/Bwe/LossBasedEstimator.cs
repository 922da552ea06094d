namespace TeleRehab.Media.Bwe;

/// <summary>
/// Loss-based bound on the send rate (draft-ietf-rmcat-gcc-02 §6): loss below 2 % lets the bound grow, 2-10 %
/// holds it, above 10 % cuts it to rate × (1 - 0.5 × loss), at most once per 300 ms + RTT.
/// Made robust against random (radio) loss, which is common on the links we serve: loss that persists while the
/// delay-based detector sees no queue building is learnt as an inherent loss level (a slow average, capped at
/// <see cref="MaxInherentLoss"/>), and the rule is applied to the loss in excess of it. Deployed implementations
/// reach the same end with a loss model that separates inherent loss from loss caused by the send rate; this is
/// the simple form of that idea. Without a cut the bound is unlimited.
/// </summary>
public sealed class LossBasedEstimator
{
    public const double LowLoss = 0.02, HighLoss = 0.10;
    public const double MaxInherentLoss = 0.10;
    private const int MinPacketsPerInterval = 20;
    private static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(1);
    private const int MinPacketsPerLongInterval = 5;
    private static readonly TimeSpan DecreaseInterval = TimeSpan.FromMilliseconds(300);
    private const double InherentSmoothing = 0.1;
    private const double IncreasePerSecond = 1.08;

    private int _received, _lost;
    private TimeSpan _intervalStart = TimeSpan.MinValue;
    private TimeSpan _lastDecrease = TimeSpan.MinValue;
    private TimeSpan _lastIncrease = TimeSpan.MinValue;

    /// <summary>The bound in bit/s; <see cref="double.PositiveInfinity"/> while loss has not required one.</summary>
    public double LimitBps { get; private set; } = double.PositiveInfinity;

    /// <summary>Loss fraction of the last completed interval.</summary>
    public double LastLossFraction { get; private set; }

    /// <summary>The learnt inherent (random) loss level.</summary>
    public double InherentLoss { get; private set; }

    public void Reset()
    {
        _received = _lost = 0;
        _intervalStart = TimeSpan.MinValue;
        LimitBps = double.PositiveInfinity;
        InherentLoss = 0;
    }

    /// <summary>Counts one feedback's packets (a packet first reported lost then received counts as received).</summary>
    public void OnPacket(bool received, bool wasReportedLost)
    {
        if (received)
        {
            _received++;
            if (wasReportedLost && _lost > 0) _lost--;
        }
        else
        {
            _lost++;
        }
    }

    /// <summary>Lifts the bound to at least <paramref name="bps"/> (a successful probe).</summary>
    public void OnProbeResult(double bps)
    {
        if (!double.IsPositiveInfinity(LimitBps)) LimitBps = Math.Max(LimitBps, bps);
    }

    /// <summary>
    /// Evaluates the interval once it holds enough packets. <paramref name="delayCalm"/>: the delay-based side has seen
    /// no over-use and made no decrease recently. Returns the bound.
    /// </summary>
    public double Update(double currentTargetBps, double delayBasedBps, bool delayCalm, TimeSpan rtt, TimeSpan now)
    {
        if (_intervalStart == TimeSpan.MinValue) _intervalStart = now;
        int total = _received + _lost;
        bool complete = total >= MinPacketsPerInterval || (now - _intervalStart >= MaxInterval && total >= MinPacketsPerLongInterval);
        if (!complete) return LimitBps;

        double loss = Math.Max(0, (double)_lost / total);
        LastLossFraction = loss;
        _received = _lost = 0;
        _intervalStart = now;

        if (delayCalm)
            InherentLoss = Math.Min(MaxInherentLoss, (1 - InherentSmoothing) * InherentLoss + InherentSmoothing * loss);
        double excess = Math.Max(0, loss - InherentLoss);

        if (excess > HighLoss)
        {
            if (BweTime.Elapsed(now, _lastDecrease) >= DecreaseInterval + rtt)
            {
                double basis = Math.Min(LimitBps, currentTargetBps);
                LimitBps = basis * (1 - 0.5 * excess);
                _lastDecrease = now;
            }
        }
        else if (excess < LowLoss && !double.IsPositiveInfinity(LimitBps))
        {
            double dt = _lastIncrease == TimeSpan.MinValue ? 0.1 : Math.Min((now - _lastIncrease).TotalSeconds, 1.0);
            LimitBps = LimitBps * Math.Pow(IncreasePerSecond, dt) + 1000 * dt;
            if (LimitBps >= delayBasedBps) LimitBps = double.PositiveInfinity; // no longer the tighter bound
        }
        _lastIncrease = now;
        return LimitBps;
    }
}
