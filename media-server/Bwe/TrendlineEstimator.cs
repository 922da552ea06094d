namespace TeleRehab.Media.Bwe;

/// <summary>The delay-based detector's verdict (draft-ietf-rmcat-gcc-02 §5.4).</summary>
public enum BandwidthUsage : byte
{
    Normal = 0,
    Underusing = 1,
    Overusing = 2,
}

/// <summary>
/// Delay gradient estimate and over-use detector. The draft's Kalman filter (draft-ietf-rmcat-gcc-02 §5.3) is
/// replaced, as deployed implementations do, by the slope of a least-squares line through the last
/// <see cref="WindowSize"/> points (arrival time, smoothed accumulated delay variation). The slope, scaled by the
/// number of samples seen (capped) and a gain, is compared with an adaptive threshold (§5.4).
/// </summary>
public sealed class TrendlineEstimator
{
    public const int WindowSize = 20;
    private const double Smoothing = 0.9;
    private const double ThresholdGain = 4.0;
    private const int MaxSampleWeight = 60;
    private const double OverusingTimeThresholdMs = 10;
    private const double IncreasingGain = 0.0087;  // k_u (threshold moves toward |m| when above it)
    private const double DecreasingGain = 0.039;   // k_d
    private const double MaxAdaptOffsetMs = 15;
    private const double MinThreshold = 6, MaxThreshold = 600, InitialThreshold = 12.5;

    private readonly double[] _x = new double[WindowSize];
    private readonly double[] _y = new double[WindowSize];
    private int _count;
    private int _head;
    private double _firstArrivalMs = double.NaN;
    private double _accumulatedDelayMs;
    private double _smoothedDelayMs;
    private int _samples;

    private double _threshold = InitialThreshold;
    private double _lastThresholdUpdateMs = double.NaN;
    private double _previousTrend;
    private double _overusingTimeMs = -1;
    private int _overuseCount;

    public BandwidthUsage State { get; private set; }

    /// <summary>Latest slope of the regression line (ms of queueing delay per ms), 0 until the window is full.</summary>
    public double Slope { get; private set; }

    /// <summary>Latest modified trend compared with the threshold (slope × min(samples, 60) × gain).</summary>
    public double ModifiedTrend { get; private set; }

    /// <summary>The adaptive threshold γ in the trend's units.</summary>
    public double Threshold => _threshold;

    public void Reset()
    {
        _count = _head = 0;
        _firstArrivalMs = double.NaN;
        _accumulatedDelayMs = _smoothedDelayMs = 0;
        _samples = 0;
        _threshold = InitialThreshold;
        _lastThresholdUpdateMs = double.NaN;
        _previousTrend = 0;
        _overusingTimeMs = -1;
        _overuseCount = 0;
        Slope = ModifiedTrend = 0;
        State = BandwidthUsage.Normal;
    }

    /// <summary>Adds the deltas of one group (see <see cref="InterArrivalDelta"/>) and updates <see cref="State"/>.</summary>
    public BandwidthUsage Update(TimeSpan sendDelta, TimeSpan arrivalDelta, TimeSpan arrivalTime)
    {
        double arrivalMs = arrivalTime.TotalMilliseconds;
        if (double.IsNaN(_firstArrivalMs)) _firstArrivalMs = arrivalMs;
        _samples = Math.Min(_samples + 1, MaxSampleWeight);
        _accumulatedDelayMs += (arrivalDelta - sendDelta).TotalMilliseconds;
        _smoothedDelayMs = Smoothing * _smoothedDelayMs + (1 - Smoothing) * _accumulatedDelayMs;

        _x[_head] = arrivalMs - _firstArrivalMs;
        _y[_head] = _smoothedDelayMs;
        _head = (_head + 1) % WindowSize;
        if (_count < WindowSize) _count++;

        if (_count == WindowSize && TryFitSlope(out double slope)) Slope = slope;
        Detect(sendDelta.TotalMilliseconds, arrivalMs);
        return State;
    }

    private bool TryFitSlope(out double slope)
    {
        double sx = 0, sy = 0;
        for (int i = 0; i < _count; i++) { sx += _x[i]; sy += _y[i]; }
        double mx = sx / _count, my = sy / _count;
        double num = 0, den = 0;
        for (int i = 0; i < _count; i++)
        {
            double dx = _x[i] - mx;
            num += dx * (_y[i] - my);
            den += dx * dx;
        }
        slope = den > 0 ? num / den : 0;
        return den > 0;
    }

    private void Detect(double sendDeltaMs, double nowMs)
    {
        if (_samples < 2)
        {
            State = BandwidthUsage.Normal;
            return;
        }
        double trend = Math.Min(_samples, MaxSampleWeight) * Slope * ThresholdGain;
        ModifiedTrend = trend;
        if (trend > _threshold)
        {
            // Over-use must persist for a little while and not be shrinking before it is signalled (§5.4).
            _overusingTimeMs = _overusingTimeMs < 0 ? sendDeltaMs / 2 : _overusingTimeMs + sendDeltaMs;
            _overuseCount++;
            if (_overusingTimeMs > OverusingTimeThresholdMs && _overuseCount > 1 && trend >= _previousTrend)
            {
                _overusingTimeMs = 0;
                _overuseCount = 0;
                State = BandwidthUsage.Overusing;
            }
        }
        else if (trend < -_threshold)
        {
            _overusingTimeMs = -1;
            _overuseCount = 0;
            State = BandwidthUsage.Underusing;
        }
        else
        {
            _overusingTimeMs = -1;
            _overuseCount = 0;
            State = BandwidthUsage.Normal;
        }
        _previousTrend = trend;
        AdaptThreshold(trend, nowMs);
    }

    private void AdaptThreshold(double trend, double nowMs)
    {
        if (double.IsNaN(_lastThresholdUpdateMs)) _lastThresholdUpdateMs = nowMs;
        double magnitude = Math.Abs(trend);
        // Spikes far above the threshold (e.g. a route change) must not drag it along (§5.4).
        if (magnitude > _threshold + MaxAdaptOffsetMs)
        {
            _lastThresholdUpdateMs = nowMs;
            return;
        }
        double k = magnitude < _threshold ? DecreasingGain : IncreasingGain;
        double dt = Math.Min(nowMs - _lastThresholdUpdateMs, 100);
        _threshold = Math.Clamp(_threshold + k * (magnitude - _threshold) * dt, MinThreshold, MaxThreshold);
        _lastThresholdUpdateMs = nowMs;
    }
}
