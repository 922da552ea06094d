namespace TeleRehab.Media.Sfu;

/// <summary>
/// A stream's bitrate over the last <see cref="Window"/>, in <see cref="Buckets"/> slices so that old bytes leave the
/// figure smoothly. <see cref="Add"/> is a few arithmetic operations and allocates nothing. Single-threaded.
/// </summary>
public sealed class BitrateMeter
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    public const int Buckets = 10;

    private static readonly long BucketTicks = Window.Ticks / Buckets;
    private readonly long[] _bytes = new long[Buckets];
    private long _currentBucket = long.MinValue; // absolute bucket number of the newest slice
    private long _total;

    public void Add(int bytes, TimeSpan now)
    {
        Advance(now);
        _bytes[(int)(_currentBucket % Buckets)] += bytes;
        _total += bytes;
    }

    /// <summary>Bits per second over the last window ending at <paramref name="now"/>.</summary>
    public long Bps(TimeSpan now)
    {
        Advance(now);
        return _total * 8 * TimeSpan.TicksPerSecond / Window.Ticks;
    }

    private void Advance(TimeSpan now)
    {
        var bucket = now.Ticks / BucketTicks;
        if (_currentBucket == long.MinValue)
        {
            _currentBucket = bucket;
            return;
        }
        if (bucket <= _currentBucket) return;
        if (bucket - _currentBucket >= Buckets)
        {
            Array.Clear(_bytes);
            _total = 0;
        }
        else
        {
            for (var b = _currentBucket + 1; b <= bucket; b++)
            {
                ref var slot = ref _bytes[(int)(b % Buckets)];
                _total -= slot;
                slot = 0;
            }
        }
        _currentBucket = bucket;
    }
}
