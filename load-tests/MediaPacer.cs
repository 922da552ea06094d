namespace TeleRehab.LoadTests;

/// <summary>Something the pacer drives every <see cref="MediaPacer.Interval"/>.</summary>
public interface IPacedSource
{
    /// <summary>Called once per tick (tick 0, 1, 2, ...) on the pacer's loop; must not block.</summary>
    void Tick(long tick);
}

/// <summary>One shared 20 ms clock for every synthetic sender: a single timer loop (no thread per client) ticks each
/// registered source in turn. Ticks a loaded machine misses are skipped, not bunched.</summary>
public sealed class MediaPacer : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly PeriodicTimer _timer = new(Interval);
    private readonly Lock _lock = new();
    private readonly Task _loop;
    private IPacedSource[] _sources = [];
    private long _ticks;

    public MediaPacer()
    {
        _loop = Task.Run(RunAsync);
    }

    public long Ticks => Interlocked.Read(ref _ticks);

    public int SourceCount => Volatile.Read(ref _sources).Length;

    public void Add(IPacedSource source)
    {
        lock (_lock) _sources = [.. _sources, source];
    }

    public void Remove(IPacedSource source)
    {
        lock (_lock) _sources = _sources.Where(s => !ReferenceEquals(s, source)).ToArray();
    }

    private async Task RunAsync()
    {
        try
        {
            while (await _timer.WaitForNextTickAsync().ConfigureAwait(false))
            {
                var tick = Interlocked.Increment(ref _ticks) - 1;
                foreach (var source in Volatile.Read(ref _sources))
                {
                    try
                    {
                        source.Tick(tick);
                    }
                    catch (Exception)
                    {
                        // One broken source never stops the others.
                    }
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        await _loop.ConfigureAwait(false);
    }
}
