namespace TeleRehab.Media.Dtls;

/// <summary>
/// A small bounded pool that runs blocking BouncyCastle DTLS handshakes. At most
/// <see cref="MaxConcurrentHandshakes"/> handshakes run at once, each on one of at most that many dedicated
/// background threads; further handshakes wait in FIFO order for a free slot. Worker threads are created on
/// demand and exit after <see cref="IdleTimeout"/> without work, so an idle server holds no handshake thread.
/// Threads are used only while a handshake is in progress: established sessions hold none.
/// </summary>
public sealed class DtlsHandshakeScheduler : IDisposable
{
    private static readonly Lazy<DtlsHandshakeScheduler> s_shared = new(() => new DtlsHandshakeScheduler());

    private readonly object _lock = new();
    private readonly Queue<Action> _queue = new();
    private int _threads;
    private int _idleThreads;
    private int _active;
    private int _peak;
    private bool _disposed;

    /// <param name="maxConcurrentHandshakes">
    /// Upper bound of simultaneously running handshakes; default <c>clamp(2 * cores, 2, 16)</c>.
    /// </param>
    public DtlsHandshakeScheduler(int maxConcurrentHandshakes = 0)
    {
        if (maxConcurrentHandshakes < 0)
            throw new ArgumentOutOfRangeException(nameof(maxConcurrentHandshakes));
        MaxConcurrentHandshakes = maxConcurrentHandshakes > 0
            ? maxConcurrentHandshakes
            : Math.Clamp(2 * Environment.ProcessorCount, 2, 16);
    }

    /// <summary>A process-wide scheduler with the default bound.</summary>
    public static DtlsHandshakeScheduler Shared => s_shared.Value;

    public int MaxConcurrentHandshakes { get; }

    /// <summary>How long an idle worker thread lingers before exiting.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Handshakes running right now.</summary>
    public int ActiveHandshakes { get { lock (_lock) return _active; } }

    /// <summary>Handshakes waiting for a free slot.</summary>
    public int PendingHandshakes { get { lock (_lock) return _queue.Count; } }

    /// <summary>Highest number of simultaneously running handshakes observed.</summary>
    public int PeakConcurrentHandshakes { get { lock (_lock) return _peak; } }

    /// <summary>Worker threads currently alive (never more than <see cref="MaxConcurrentHandshakes"/>).</summary>
    public int WorkerThreads { get { lock (_lock) return _threads; } }

    /// <summary>Queues a blocking handshake job.</summary>
    internal void Enqueue(Action job)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _queue.Enqueue(job);
            if (_idleThreads > 0)
                Monitor.Pulse(_lock);
            // An idle thread counts as idle until it wakes up and takes a job: compare with the queue length, or a
            // burst arriving while one thread is idle would be run by that thread alone, one after another.
            if (_queue.Count > _idleThreads && _threads < MaxConcurrentHandshakes)
            {
                _threads++;
                var thread = new Thread(WorkerLoop) { IsBackground = true, Name = "dtls-handshake" };
                thread.Start();
            }
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            Action job;
            lock (_lock)
            {
                while (_queue.Count == 0)
                {
                    if (_disposed)
                    {
                        _threads--;
                        return;
                    }
                    _idleThreads++;
                    bool signalled = Monitor.Wait(_lock, IdleTimeout);
                    _idleThreads--;
                    if (!signalled && _queue.Count == 0)
                    {
                        _threads--;
                        return;
                    }
                }
                job = _queue.Dequeue();
                _active++;
                if (_active > _peak)
                    _peak = _active;
            }

            try
            {
                job();
            }
            catch
            {
                // Jobs report their own outcome; a bug in one must not kill the worker.
            }
            finally
            {
                lock (_lock)
                    _active--;
            }
        }
    }

    /// <summary>Stops accepting work; queued jobs still run, idle workers exit.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Monitor.PulseAll(_lock);
        }
    }
}
