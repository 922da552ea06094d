namespace TeleRehab.Media.Sfu;

/// <summary>
/// The standing queue on one incoming stream's path, from its RTP timestamps: a packet's transit (arrival minus the
/// timestamp, in RTP units, as in RFC 3550 §6.4.1 A.8) is the path's delay plus a constant; the smallest transit seen
/// over the last <see cref="Window"/> is the path without a queue, and the smallest transit of the latest interval above
/// it is the queue every packet of that interval waited in (jitter spikes of single packets do not count). Audio is the
/// stream to measure: its timestamps follow the capture clock packet by packet (DTX gaps included), and nothing paces
/// it. Sans-I/O, no allocation; single-threaded.
/// </summary>
public sealed class QueueDelayMeter
{
    /// <summary>How far back the path's floor is remembered (two buckets of half this): long enough to outlast a queue
    /// the meter must see, short enough to follow a new path (a route change, an ICE restart).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(20);

    private readonly uint _clockRate;
    private bool _started;
    private uint _reference;      // RTP-unit origin the transits are relative to (so they compare as signed numbers)
    private long _floorPrevious = long.MaxValue;
    private long _floorCurrent = long.MaxValue;
    private TimeSpan _bucketStart;
    private long _intervalMin = long.MaxValue;

    public QueueDelayMeter(uint clockRate)
    {
        if (clockRate == 0) throw new ArgumentOutOfRangeException(nameof(clockRate));
        _clockRate = clockRate;
    }

    /// <summary>Packets measured since the last <see cref="TakeStandingDelay"/>.</summary>
    public int PacketsInInterval { get; private set; }

    public void OnPacket(uint rtpTimestamp, TimeSpan arrival)
    {
        var arrivalUnits = (uint)(ulong)((UInt128)(ulong)Math.Max(0, arrival.Ticks) * _clockRate / TimeSpan.TicksPerSecond);
        var transitUnits = arrivalUnits - rtpTimestamp;
        if (!_started)
        {
            _started = true;
            _reference = transitUnits;
            _bucketStart = arrival;
        }
        long transit = (int)(transitUnits - _reference); // wraps like the 32-bit RTP clock
        if (arrival - _bucketStart >= Window / 2)
        {
            _floorPrevious = _floorCurrent;
            _floorCurrent = long.MaxValue;
            _bucketStart = arrival;
        }
        _floorCurrent = Math.Min(_floorCurrent, transit);
        _intervalMin = Math.Min(_intervalMin, transit);
        PacketsInInterval++;
    }

    /// <summary>The queue the packets since the last call all waited in (zero when none arrived), and a new interval.</summary>
    public TimeSpan TakeStandingDelay()
    {
        var floor = Math.Min(_floorPrevious, _floorCurrent);
        var standing = PacketsInInterval == 0 || floor == long.MaxValue ? 0 : Math.Max(0, _intervalMin - floor);
        _intervalMin = long.MaxValue;
        PacketsInInterval = 0;
        return TimeSpan.FromTicks(standing * TimeSpan.TicksPerSecond / _clockRate);
    }
}
