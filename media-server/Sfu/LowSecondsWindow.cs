namespace TeleRehab.Media.Sfu;

/// <summary>
/// How many of the last <see cref="Seconds"/> whole seconds held at least one low sample (a leg's estimate below a
/// threshold): one bit per second in a ring, so a single dip (the estimate's back-off in the moments after a link drops)
/// counts as what it is, a second or two, while a link that keeps falling low keeps counting. Sans-I/O, no allocation;
/// single-threaded.
/// </summary>
public struct LowSecondsWindow
{
    /// <summary>The seconds remembered.</summary>
    public const int Seconds = 30;

    private uint _bits;       // bit i: second (_second - i) had a low sample
    private long _second;     // the whole second the newest bit stands for
    private bool _started;

    /// <summary>A sample at <paramref name="now"/>; <paramref name="low"/> marks its second.</summary>
    public void Record(bool low, TimeSpan now)
    {
        Advance(now);
        if (low) _bits |= 1;
    }

    /// <summary>Seconds with a low sample among the last <see cref="Seconds"/> up to <paramref name="now"/>.</summary>
    public int LowSeconds(TimeSpan now)
    {
        Advance(now);
        return System.Numerics.BitOperations.PopCount(_bits & Mask);
    }

    private const uint Mask = (1u << Seconds) - 1;

    private void Advance(TimeSpan now)
    {
        var second = now.Ticks / TimeSpan.TicksPerSecond;
        if (!_started)
        {
            (_started, _second) = (true, second);
            return;
        }
        if (second <= _second) return;
        var shift = second - _second;
        _bits = shift >= 32 ? 0 : _bits << (int)shift;
        _second = second;
    }
}
