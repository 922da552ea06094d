namespace TeleRehab.Media.Bwe;

/// <summary>
/// Throughput of acknowledged (received) packets: bytes that arrived in the last <see cref="Window"/> of arrival
/// time, per second. Unknown (-1) until packets spanning <see cref="MinSpan"/> have been seen. A fixed ring of
/// (arrival, size) records; when it is full the oldest record is dropped.
/// </summary>
public sealed class AcknowledgedBitrateEstimator
{
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan MinSpan = TimeSpan.FromMilliseconds(150);

    private readonly long[] _arrivalTicks;
    private readonly int[] _sizes;
    private int _head, _count;
    private long _bytes;
    private long _latestTicks = long.MinValue;
    private long _firstTicks = long.MinValue;

    public AcknowledgedBitrateEstimator(int capacity = 4096)
    {
        _arrivalTicks = new long[capacity];
        _sizes = new int[capacity];
    }

    /// <summary>Acknowledged throughput in bit/s, or -1 while unknown.</summary>
    public double BitrateBps { get; private set; } = -1;

    public void Reset()
    {
        _head = _count = 0;
        _bytes = 0;
        _latestTicks = _firstTicks = long.MinValue;
        BitrateBps = -1;
    }

    public void OnPacketReceived(TimeSpan arrival, int size)
    {
        long t = arrival.Ticks;
        if (_firstTicks == long.MinValue) _firstTicks = t;
        if (t > _latestTicks) _latestTicks = t;
        if (_count == _arrivalTicks.Length) Evict();
        int slot = (_head + _count) % _arrivalTicks.Length;
        _arrivalTicks[slot] = t;
        _sizes[slot] = size;
        _count++;
        _bytes += size;
    }

    /// <summary>Recomputes <see cref="BitrateBps"/> after a batch of packets (once per feedback).</summary>
    public double Update()
    {
        if (_count == 0) return BitrateBps;
        long windowStart = _latestTicks - Window.Ticks;
        while (_count > 0 && _arrivalTicks[_head] <= windowStart) Evict();
        long span = _latestTicks - _firstTicks;
        if (span < MinSpan.Ticks) return BitrateBps;
        double seconds = Math.Min(span, Window.Ticks) / (double)TimeSpan.TicksPerSecond;
        BitrateBps = _bytes * 8 / seconds;
        return BitrateBps;
    }

    private void Evict()
    {
        _bytes -= _sizes[_head];
        _head = (_head + 1) % _arrivalTicks.Length;
        _count--;
    }
}
