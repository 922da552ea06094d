using TeleRehab.Media.Net;
using System.Buffers;
using System.Collections.Concurrent;

namespace TeleRehab.Media.Hosting;

/// <summary>One single-threaded loop that owns a set of peers: their datagrams, timers and commands all run here,
/// so peer state needs no locks. Other threads talk to it only through <see cref="Post"/> and <see cref="PostDatagram"/>
/// (a lock-free queue). A fixed set of workers (one per core) serves every peer: no thread per peer.</summary>
public sealed class MediaWorker : IDisposable
{
    private static readonly TimeSpan MaxIdleWait = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How late a sleeping worker may wake for a peer's deadline, so that one wake-up serves every peer due within it:
    /// a hundred peers each with their own transport-wide feedback (every 50-100 ms), NACK, report, pacer and layer
    /// timers would otherwise wake the worker for each, and on a virtual machine a wake-up (a context switch through the
    /// hypervisor) costs more than the timer's work. A worker awake anyway (for datagrams) runs what is due at once.
    /// libwebrtc's pacer and RTCP modules run on a 5 ms tick for the same reason.
    /// </summary>
    public static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(4);

    private readonly ConcurrentQueue<WorkItem> _queue = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly HashSet<IMediaPeer> _peers = [];
    private readonly List<IMediaPeer> _due = [];
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly Action<IMediaPeer> _onPeerClosed;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private bool _sweepClosed;
    private TimeSpan _nextDeadline = TimeSpan.MaxValue;
    private int _peerCount;

    public MediaWorker(int index, TimeProvider time, long origin, Action<IMediaPeer> onPeerClosed)
    {
        Index = index;
        _time = time;
        _origin = origin;
        _onPeerClosed = onPeerClosed;
        _thread = new Thread(Run) { IsBackground = true, Name = $"media-worker-{index}" };
    }

    public int Index { get; }

    /// <summary>What this worker's peers did (metrics).</summary>
    public MediaCounters Counters { get; } = new();

    /// <summary>Peers this worker owns (read from any thread; exact on the worker).</summary>
    public int PeerCount => Volatile.Read(ref _peerCount);

    internal TimeSpan Now => _time.GetElapsedTime(_origin);

    public void Start() => _thread.Start();

    /// <summary>Runs <paramref name="command"/> on the worker thread (cold path: signalling, adding and closing peers).</summary>
    public void Post(Action command)
    {
        _queue.Enqueue(new WorkItem(null, null, 0, null, command, 0));
        Signal();
    }

    /// <summary>Runs <paramref name="command"/> on the worker thread for <paramref name="peer"/>, then retires the peer if
    /// the command closed it (the per-peer path: DTLS results, packets a client sends, closing one peer).</summary>
    public void PostFor(IMediaPeer peer, Action command)
    {
        _queue.Enqueue(new WorkItem(peer, null, 0, null, command, 0));
        Signal();
    }

    /// <summary>Hands a received datagram to <paramref name="peer"/>. The worker copies nothing: it takes ownership of
    /// <paramref name="pooledBuffer"/> (rented from <see cref="DatagramBuffers"/>) and returns it there after handling.</summary>
    public void PostDatagram(IMediaPeer peer, byte[] pooledBuffer, int length, IPacketPath path) =>
        PostDatagram(peer, pooledBuffer, length, path, _time.GetTimestamp());

    /// <summary>As <see cref="PostDatagram(IMediaPeer, byte[], int, IPacketPath)"/>, with the datagram's arrival time
    /// (a <see cref="TimeProvider.GetTimestamp"/> value of this worker's clock, e.g. the kernel's receive time).</summary>
    public void PostDatagram(IMediaPeer peer, byte[] pooledBuffer, int length, IPacketPath path, long receivedAt) =>
        PostDatagram(peer, pooledBuffer, length, path, receivedAt, wake: true);

    /// <summary>As <see cref="PostDatagram(IMediaPeer, byte[], int, IPacketPath, long)"/>; with <paramref name="wake"/>
    /// false the worker is not signalled (a receive loop that reads a burst wakes each worker once, with
    /// <see cref="Wake"/>, when the burst is read).</summary>
    public void PostDatagram(IMediaPeer peer, byte[] pooledBuffer, int length, IPacketPath path, long receivedAt, bool wake)
    {
        _queue.Enqueue(new WorkItem(peer, pooledBuffer, length, path, null, receivedAt));
        if (wake) Signal();
    }

    /// <summary>Wakes the worker if it sleeps (it then handles everything posted so far).</summary>
    public void Wake() => Signal();

    /// <summary>Adds a peer to this worker (call from any thread).</summary>
    public void Attach(IMediaPeer peer) => Post(() =>
    {
        if (_peers.Add(peer))
        {
            Interlocked.Increment(ref _peerCount);
            NoteDeadline(peer);
        }
    });

    private void Run()
    {
        // What the peers send while the worker handles a wake-up goes out in one system call before it sleeps again.
        using var batch = LinuxUdp.IsSupported ? new UdpSendBatch() : null;
        UdpSendBatch.Current = batch;
        while (!_stopping)
        {
            while (_queue.TryDequeue(out var item))
            {
                Process(item);
            }
            if (_sweepClosed) RetireClosedPeers();

            var now = Now;
            if (now >= _nextDeadline)
            {
                RunTimers(now);
            }
            batch?.Flush();

            // At most MaxIdleWait: a peer's handling may move another peer's deadline (a packet queued in a subscriber's
            // pacer) without the worker noting it. With no peers nothing is due: it sleeps until something is posted.
            // Woken up to TimerSlack after the first deadline, every peer due by then runs in the same wake-up.
            var wait = _nextDeadline == TimeSpan.MaxValue ? MaxIdleWait : _nextDeadline + TimerSlack - Now;
            if (wait > MaxIdleWait) wait = MaxIdleWait;
            if (_peers.Count == 0) wait = Timeout.InfiniteTimeSpan;
            if (wait <= TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan) continue;
            _sleeps++;
            // Dekker with the posting threads (both sides write, then read the other's): a post that saw the flag clear
            // did not signal, and this loop sees its item here; one that saw it set signals.
            Interlocked.Exchange(ref _sleeping, 1);
            if (_queue.IsEmpty) _wake.WaitOne(wait);
            Volatile.Write(ref _sleeping, 0);
        }

        foreach (var peer in _peers)
        {
            peer.Close("server shutting down");
            Retire(peer);
        }
        _peers.Clear();
        batch?.Flush();
        UdpSendBatch.Current = null;
    }

    /// <summary>1 while the worker waits (or is about to): only then does a post signal it. A busy worker is not woken
    /// per datagram; it finds the datagram in its queue before it sleeps.</summary>
    private int _sleeping;

    private void Signal()
    {
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Set();
    }

    private void Process(in WorkItem item)
    {
        if (item.Command is not null)
        {
            try
            {
                item.Command();
            }
            catch (Exception ex)
            {
                // A command's failure belongs to its caller (it completes a TaskCompletionSource itself); the loop goes on.
                System.Diagnostics.Debug.WriteLine($"media worker {Index}: command failed: {ex}");
            }
            if (item.Peer is { } owner)
            {
                if (_peers.Contains(owner)) AfterHandling(owner);
            }
            else
            {
                // A general command may have closed any peer: retire closed peers now rather than at their next timer.
                _sweepClosed = true;
            }
            return;
        }

        var peer = item.Peer!;
        try
        {
            if (_peers.Contains(peer) && !peer.IsClosed)
            {
                // The datagram's time is when it was received, not when the worker got to it (arrival times feed
                // jitter and forwarding-delay figures).
                peer.HandleDatagram(item.Buffer, item.Length, item.Path!, _time.GetElapsedTime(_origin, item.ReceivedAt));
            }
        }
        catch (Exception ex)
        {
            // Bad input must never stop the loop or disturb other peers: the faulty peer is closed.
            peer.Close($"internal error: {ex.GetType().Name}");
        }
        finally
        {
            DatagramBuffers.Return(item.Buffer!);
        }

        AfterHandling(peer);
    }

    private long _timerRuns;
    private long _sleeps;

    /// <summary>Times the worker went to sleep (each ends in a wake-up: a post, a deadline, or the idle bound).</summary>
    public long Sleeps => Volatile.Read(ref _sleeps);

    /// <summary>Peer timers this worker has run. A peer whose deadline stays in the past after its timer ran would be
    /// run again at once, in a busy loop that takes a core; this count shows it.</summary>
    public long TimerRuns => Volatile.Read(ref _timerRuns);

    private void RunTimers(TimeSpan now)
    {
        _due.Clear();
        var next = TimeSpan.MaxValue;
        foreach (var peer in _peers)
        {
            var deadline = peer.NextTimeout;
            if (peer.IsClosed || (deadline is { } d && d <= now))
            {
                _due.Add(peer);
            }
            else if (deadline is { } later && later < next)
            {
                next = later;
            }
        }
        _nextDeadline = next;

        foreach (var peer in _due)
        {
            try
            {
                if (!peer.IsClosed)
                {
                    _timerRuns++;
                    peer.HandleTimeout(now);
                }
            }
            catch (Exception ex)
            {
                peer.Close($"internal error: {ex.GetType().Name}");
            }
            if (!peer.IsClosed && peer.NextTimeout is { } again && again <= now)
            {
                // A deadline still due right after its timer ran is a peer bug (it would run again at once, a core in a
                // busy loop): it is counted and run again a millisecond later, not at once.
                _staleDeadlines++;
                var retry = now + StaleDeadlineRetry;
                if (retry < _nextDeadline) _nextDeadline = retry;
                continue;
            }
            AfterHandling(peer);
        }
    }

    /// <summary>How soon a peer whose deadline stayed in the past after its timer ran is run again.</summary>
    public static readonly TimeSpan StaleDeadlineRetry = TimeSpan.FromMilliseconds(1);

    private long _staleDeadlines;

    /// <summary>Timer runs after which the peer's deadline was still due (see <see cref="StaleDeadlineRetry"/>); 0 unless a
    /// peer has a bug.</summary>
    public long StaleDeadlines => Volatile.Read(ref _staleDeadlines);

    private void RetireClosedPeers()
    {
        _sweepClosed = false;
        _due.Clear();
        foreach (var peer in _peers)
        {
            if (peer.IsClosed) _due.Add(peer);
        }
        foreach (var peer in _due)
        {
            if (_peers.Remove(peer)) Retire(peer);
        }
    }

    private void AfterHandling(IMediaPeer peer)
    {
        if (peer.IsClosed)
        {
            if (_peers.Remove(peer)) Retire(peer);
            return;
        }
        NoteDeadline(peer);
    }

    private void Retire(IMediaPeer peer)
    {
        Interlocked.Decrement(ref _peerCount);
        try
        {
            _onPeerClosed(peer);
        }
        finally
        {
            peer.Dispose();
        }
    }

    private void NoteDeadline(IMediaPeer peer)
    {
        if (peer.NextTimeout is { } deadline && deadline < _nextDeadline) _nextDeadline = deadline;
    }

    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        if (_thread.IsAlive) _thread.Join(TimeSpan.FromSeconds(5));
        while (_queue.TryDequeue(out var item))
        {
            if (item.Buffer is not null) DatagramBuffers.Return(item.Buffer);
        }
        _wake.Dispose();
    }

    private readonly record struct WorkItem(IMediaPeer? Peer, byte[]? Buffer, int Length, IPacketPath? Path, Action? Command, long ReceivedAt);
}
