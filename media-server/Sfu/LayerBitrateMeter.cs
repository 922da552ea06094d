using System.Runtime.CompilerServices;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// Measured bitrates of a simulcast publication's layers, as <see cref="LayerSelector"/> reads them: for each
/// spatial layer (encoding 0..2, low to high) the cumulative rate of its temporal layers (T0, T0+T1, T0+T1+T2),
/// and whether the layer is active (received recently). A plain value, passed by reference.
/// </summary>
public struct LayerRates
{
    public const int MaxSpatialLayers = 3;
    public const int MaxTemporalLayers = 3;

    private RateBuffer _bps;
    private byte _activeMask;

    /// <summary>Cumulative bitrate (bps) of <paramref name="spatial"/> up to and including <paramref name="temporal"/>.</summary>
    public long this[int spatial, int temporal]
    {
        readonly get => _bps[Index(spatial, temporal)];
        set => _bps[Index(spatial, temporal)] = value;
    }

    /// <summary>Bit i set: spatial layer i is active at the publisher.</summary>
    public byte ActiveMask
    {
        readonly get => _activeMask;
        set => _activeMask = value;
    }

    public readonly bool IsActive(int spatial) => (uint)spatial < MaxSpatialLayers && (_activeMask & (1 << spatial)) != 0;

    public void SetActive(int spatial, bool active)
    {
        if ((uint)spatial >= MaxSpatialLayers) throw new ArgumentOutOfRangeException(nameof(spatial));
        _activeMask = (byte)(active ? _activeMask | (1 << spatial) : _activeMask & ~(1 << spatial));
    }

    /// <summary>
    /// Sets one spatial layer from the rates of its temporal layers on their own (not cumulative) and marks it
    /// active; a convenience for tests and configuration.
    /// </summary>
    public void SetLayer(int spatial, long t0Bps, long t1Bps = 0, long t2Bps = 0)
    {
        this[spatial, 0] = t0Bps;
        this[spatial, 1] = t0Bps + t1Bps;
        this[spatial, 2] = t0Bps + t1Bps + t2Bps;
        SetActive(spatial, true);
    }

    private static int Index(int spatial, int temporal)
    {
        if ((uint)spatial >= MaxSpatialLayers || (uint)temporal >= MaxTemporalLayers) ThrowOutOfRange();
        return spatial * MaxTemporalLayers + temporal;
    }

    private static void ThrowOutOfRange() => throw new ArgumentOutOfRangeException("layer");

    [InlineArray(MaxSpatialLayers * MaxTemporalLayers)]
    private struct RateBuffer
    {
        private long _element;
    }
}

/// <summary>
/// Bytes received per spatial × temporal layer of one publication over a sliding window (default 1 s, in 10
/// buckets), giving <see cref="LayerRates"/> for the layer selectors of its subscribers. A spatial layer with no
/// packet in the window is inactive. Sans-I/O (time passed in), single-threaded, no allocation after construction.
/// </summary>
public sealed class LayerBitrateMeter
{
    private const int Layers = LayerRates.MaxSpatialLayers * LayerRates.MaxTemporalLayers;

    private readonly long[] _bytes;    // [bucket * Layers + layer]
    private readonly int _bucketCount;
    private readonly long _bucketTicks;
    private long _currentBucket = long.MinValue; // absolute bucket number of the newest bucket
    private bool _started;
    private TimeSpan _firstPacket;

    public LayerBitrateMeter(TimeSpan? window = null, int buckets = 10)
    {
        Window = window ?? TimeSpan.FromSeconds(1);
        if (Window <= TimeSpan.Zero || buckets < 2 || Window.Ticks < buckets) throw new ArgumentOutOfRangeException(nameof(window));
        _bucketCount = buckets;
        _bucketTicks = Window.Ticks / buckets;
        _bytes = new long[buckets * Layers];
    }

    public TimeSpan Window { get; }

    /// <summary>
    /// Counts a received packet of <paramref name="bytes"/> bytes (the whole RTP packet, as the budget counts what
    /// goes on the wire) of the given layers. Out-of-range layers are clamped (a temporal id above 2 counts as 2).
    /// </summary>
    public void OnPacket(int spatial, int temporal, int bytes, TimeSpan now)
    {
        if ((uint)spatial >= LayerRates.MaxSpatialLayers || bytes <= 0) return;
        temporal = Math.Clamp(temporal, 0, LayerRates.MaxTemporalLayers - 1);
        if (!_started)
        {
            _started = true;
            _firstPacket = now;
        }
        Advance(now);
        int bucket = (int)(_currentBucket % _bucketCount);
        _bytes[bucket * Layers + spatial * LayerRates.MaxTemporalLayers + temporal] += bytes;
    }

    /// <summary>Writes the rates over the window ending at <paramref name="now"/> into <paramref name="rates"/>.</summary>
    public void GetRates(TimeSpan now, ref LayerRates rates)
    {
        rates = default;
        if (!_started) return;
        Advance(now);
        // The window spans the complete older buckets and the elapsed part of the newest, or less right after start.
        long elapsedInBucket = now.Ticks - _currentBucket * _bucketTicks;
        long spanTicks = (_bucketCount - 1) * _bucketTicks + Math.Max(elapsedInBucket, 1);
        spanTicks = Math.Min(spanTicks, Math.Max((now - _firstPacket).Ticks, _bucketTicks));
        Span<long> sums = stackalloc long[Layers];
        for (int b = 0; b < _bucketCount; b++)
            for (int l = 0; l < Layers; l++) sums[l] += _bytes[b * Layers + l];
        for (int s = 0; s < LayerRates.MaxSpatialLayers; s++)
        {
            long cumulative = 0;
            for (int t = 0; t < LayerRates.MaxTemporalLayers; t++)
            {
                cumulative += sums[s * LayerRates.MaxTemporalLayers + t];
                rates[s, t] = (long)((UInt128)(ulong)cumulative * 8 * TimeSpan.TicksPerSecond / (ulong)spanTicks);
            }
            if (cumulative > 0) rates.SetActive(s, true);
        }
    }

    private void Advance(TimeSpan now)
    {
        long bucket = Math.Max(now.Ticks, 0) / _bucketTicks;
        if (_currentBucket == long.MinValue)
        {
            _currentBucket = bucket;
            return;
        }
        if (bucket <= _currentBucket) return; // same bucket (or time going backwards: count it in the newest)
        long steps = Math.Min(bucket - _currentBucket, _bucketCount);
        for (long i = 1; i <= steps; i++)
            _bytes.AsSpan((int)((_currentBucket + i) % _bucketCount) * Layers, Layers).Clear();
        _currentBucket = bucket;
    }
}
