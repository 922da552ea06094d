namespace TeleRehab.Media.Bwe;

/// <summary>Rate controller state (draft-ietf-rmcat-gcc-02 §5.5).</summary>
public enum RateControlState : byte
{
    Hold = 0,
    Increase = 1,
    Decrease = 2,
}

/// <summary>
/// The delay-based rate controller (draft-ietf-rmcat-gcc-02 §5.5): a state machine driven by the detector's
/// signal. Increase is multiplicative (~8 %/s) while the bottleneck's level is unknown and additive (about one
/// packet per response time) near the level where congestion was last seen; on over-use the estimate drops to
/// β × the acknowledged throughput. The estimate is never raised above 1.5 × the acknowledged throughput plus
/// a margin, so an application-limited sender does not inflate it.
/// </summary>
public sealed class AimdRateControl
{
    private const double Beta = 0.85;
    private const double MultiplicativeRatePerSecond = 1.08;
    private const double MinIncreaseBps = 1000;
    private const double AcknowledgedHeadroom = 1.5;
    private const double HeadroomMarginBps = 10_000;
    private const double MinAdditiveRateBpsPerSecond = 4000;
    private const double FrameRate = 30;
    private const double MaxPacketBits = 1200 * 8;
    private static readonly TimeSpan DefaultRtt = TimeSpan.FromMilliseconds(200);

    private double _minBps, _maxBps;
    private double _estimateBps;
    private bool _initialised;
    private TimeSpan _lastChange;
    private TimeSpan _lastDecrease = TimeSpan.MinValue;
    private TimeSpan _rtt = DefaultRtt;

    // Average and normalised variance of the throughput at which over-use was detected (§5.5 "average max bitrate").
    private double _linkAverageBps = -1;
    private double _linkVariance = 0.4;

    public AimdRateControl(double minBps, double maxBps, double startBps)
    {
        SetBounds(minBps, maxBps);
        _estimateBps = Math.Clamp(startBps, _minBps, _maxBps);
    }

    public RateControlState State { get; private set; } = RateControlState.Hold;
    public double EstimateBps => _estimateBps;

    /// <summary>True when the estimate grows additively near a known congestion level.</summary>
    public bool NearLinkCapacity => _linkAverageBps > 0;

    /// <summary>The time of the last decrease, or <see cref="TimeSpan.MinValue"/>.</summary>
    public TimeSpan LastDecrease => _lastDecrease;

    public void SetBounds(double minBps, double maxBps)
    {
        _minBps = minBps;
        _maxBps = Math.Max(minBps, maxBps);
        _estimateBps = Math.Clamp(_estimateBps, _minBps, _maxBps);
    }

    public void SetRtt(TimeSpan rtt) => _rtt = rtt;

    /// <summary>Sets the estimate directly (start rate, or a probe result), keeping the state machine.</summary>
    public void SetEstimate(double bps, TimeSpan now)
    {
        _initialised = true;
        _estimateBps = Math.Clamp(bps, _minBps, _maxBps);
        _lastChange = now;
        // A probe showed the link can carry more than the remembered level: forget it.
        if (_linkAverageBps > 0 && _estimateBps > _linkAverageBps + 3 * StdDev()) _linkAverageBps = -1;
    }

    /// <summary>
    /// Applies one detector signal. <paramref name="acknowledgedBps"/> is the acknowledged throughput, or a
    /// negative value while unknown. Returns the new estimate.
    /// </summary>
    public double Update(BandwidthUsage usage, double acknowledgedBps, TimeSpan now)
    {
        if (!_initialised)
        {
            _initialised = true;
            _lastChange = now;
        }
        // State transitions (§5.5 table): over-use → Decrease; under-use → Hold; normal: Hold → Increase, Decrease → Hold.
        switch (usage)
        {
            case BandwidthUsage.Overusing:
                if (!CanReduceFurther(acknowledgedBps, now))
                    return _estimateBps; // one decrease per RTT, unless far above the throughput
                State = RateControlState.Decrease;
                break;
            case BandwidthUsage.Underusing:
                State = RateControlState.Hold;
                break;
            default:
                State = State == RateControlState.Hold || State == RateControlState.Increase
                    ? RateControlState.Increase
                    : RateControlState.Hold;
                break;
        }

        double next = _estimateBps;
        switch (State)
        {
            case RateControlState.Increase:
                if (acknowledgedBps > 0 && _linkAverageBps > 0 && acknowledgedBps > _linkAverageBps + 3 * StdDev())
                    _linkAverageBps = -1; // the congestion level moved up: back to multiplicative increase
                double dt = Math.Min((now - _lastChange).TotalSeconds, 1.0);
                if (dt < 0) dt = 0;
                next = _linkAverageBps > 0
                    ? _estimateBps + AdditiveRate() * dt
                    : _estimateBps + Math.Max(_estimateBps * (Math.Pow(MultiplicativeRatePerSecond, dt) - 1), MinIncreaseBps * dt);
                if (acknowledgedBps > 0)
                {
                    double limit = AcknowledgedHeadroom * acknowledgedBps + HeadroomMarginBps;
                    if (next > limit) next = Math.Max(_estimateBps, limit);
                }
                _lastChange = now;
                break;

            case RateControlState.Decrease:
                double basis = acknowledgedBps > 0 ? acknowledgedBps : _estimateBps;
                next = Math.Min(Beta * basis, _estimateBps);
                if (acknowledgedBps > 0) UpdateLinkCapacity(acknowledgedBps);
                _lastDecrease = now;
                _lastChange = now;
                State = RateControlState.Hold;
                break;

            default:
                _lastChange = now;
                break;
        }
        _estimateBps = Math.Clamp(next, _minBps, _maxBps);
        return _estimateBps;
    }

    private bool CanReduceFurther(double acknowledgedBps, TimeSpan now)
    {
        var interval = TimeSpan.FromTicks(Math.Clamp(_rtt.Ticks, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromMilliseconds(200).Ticks));
        if (BweTime.Elapsed(now, _lastDecrease) >= interval) return true;
        return acknowledgedBps > 0 && _estimateBps > 2 * acknowledgedBps;
    }

    private double AdditiveRate()
    {
        // About one packet per response time (RTT + 100 ms), with packets sized as a 30 fps stream at this rate.
        double bitsPerFrame = _estimateBps / FrameRate;
        double packetsPerFrame = Math.Ceiling(bitsPerFrame / MaxPacketBits);
        double packetBits = bitsPerFrame / packetsPerFrame;
        double responseSeconds = (_rtt + TimeSpan.FromMilliseconds(100)).TotalSeconds;
        return Math.Max(MinAdditiveRateBpsPerSecond, packetBits / responseSeconds);
    }

    // Variance is normalised by the average in kbit/s, so the deviation is in kbit/s too.
    private double StdDev() => 1000 * Math.Sqrt(_linkVariance * _linkAverageBps / 1000);

    private void UpdateLinkCapacity(double acknowledgedBps)
    {
        if (_linkAverageBps > 0 && acknowledgedBps < _linkAverageBps - 3 * StdDev()) _linkAverageBps = -1;
        if (_linkAverageBps <= 0)
        {
            _linkAverageBps = acknowledgedBps;
            return;
        }
        const double alpha = 0.05;
        _linkAverageBps = (1 - alpha) * _linkAverageBps + alpha * acknowledgedBps;
        double averageKbps = Math.Max(_linkAverageBps / 1000, 1);
        double errKbps = (_linkAverageBps - acknowledgedBps) / 1000;
        _linkVariance = Math.Clamp((1 - alpha) * _linkVariance + alpha * errKbps * errKbps / averageKbps, 0.4, 2.5);
    }
}
