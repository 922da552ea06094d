using TeleRehab.Media.Hosting;
using TeleRehab.Media.Net;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>The worker's timer loop against a peer whose deadline stays in the past (the kind of bug that once took a
/// core: a probe round the controller declined left its deadline behind).</summary>
public sealed class MediaWorkerTimerTests
{
    /// <summary>A peer that always says it is due, and one that asks for a timer every 20 ms like a healthy one.</summary>
    private sealed class TimerPeer(Func<TimeSpan, TimeSpan?> next) : IMediaPeer
    {
        private long _runs;
        private TimeSpan _last;

        public long Runs => Interlocked.Read(ref _runs);

        public string LocalUfrag => "timer";

        public bool IsAuthenticCheck(ReadOnlySpan<byte> request) => false;

        public void HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now)
        {
        }

        public void HandleTimeout(TimeSpan now)
        {
            Interlocked.Increment(ref _runs);
            _last = now;
        }

        public TimeSpan? NextTimeout => next(_last);

        public bool IsClosed { get; private set; }

        public void Close(string reason) => IsClosed = true;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task A_peer_whose_deadline_stays_due_is_run_about_once_a_millisecond_and_counted_and_others_keep_their_timers()
    {
        using var worker = new MediaWorker(0, TimeProvider.System, TimeProvider.System.GetTimestamp(), _ => { });
        worker.Start();
        var stuck = new TimerPeer(_ => TimeSpan.Zero);
        var healthy = new TimerPeer(last => last + TimeSpan.FromMilliseconds(20));
        worker.Attach(stuck);
        worker.Attach(healthy);

        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var runs = stuck.Runs;
        // In a busy loop this is millions; a retry a millisecond apart gives about 500 (a generous bound, not a timing test).
        Assert.InRange(runs, 10, 5_000);
        Assert.True(worker.StaleDeadlines >= runs - 1, $"{worker.StaleDeadlines} stale deadlines counted for {runs} runs");
        Assert.InRange(healthy.Runs, 5, 100); // ~25 at 20 ms
        Assert.Equal(worker.TimerRuns, stuck.Runs + healthy.Runs);
    }

    [Fact]
    public async Task Peers_due_within_the_timer_slack_share_one_wake_up_and_none_runs_much_later_than_the_slack()
    {
        using var worker = new MediaWorker(0, TimeProvider.System, TimeProvider.System.GetTimestamp(), _ => { });
        worker.Start();
        // 40 peers, each with a 20 ms timer, their phases 0.5 ms apart: without coalescing about 40 wake-ups per 20 ms.
        var peers = new List<LatenessPeer>();
        for (var i = 0; i < 40; i++)
        {
            var peer = new LatenessPeer(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(0.5 * i));
            peers.Add(peer);
            worker.Attach(peer);
        }
        await Task.Delay(TimeSpan.FromMilliseconds(100));
        var (sleeps, runs) = (worker.Sleeps, worker.TimerRuns);
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        (sleeps, runs) = (worker.Sleeps - sleeps, worker.TimerRuns - runs);

        Assert.True(runs >= 40 * 10, $"{runs} timer runs in 600 ms (40 peers every 20 ms: ~1,200)");
        // One wake-up per slack window at most, about 150 in 600 ms (generous: a shared machine oversleeps, never under).
        Assert.True(sleeps * 4 < runs, $"{sleeps} wake-ups for {runs} timer runs");
        // Late by the slack and the scheduler's delay, not more (a generous bound on a shared machine).
        var late = peers.SelectMany(peer => peer.Lateness).Order().ToArray();
        Assert.True(late[late.Length / 2] <= MediaWorker.TimerSlack + TimeSpan.FromMilliseconds(10), $"median lateness {late[late.Length / 2].TotalMilliseconds} ms");
    }

    /// <summary>A peer with a periodic timer that records how late each run came.</summary>
    private sealed class LatenessPeer(TimeSpan period, TimeSpan phase) : IMediaPeer
    {
        private readonly List<TimeSpan> _lateness = [];
        private TimeSpan _next = period + phase;

        public TimeSpan[] Lateness
        {
            get { lock (_lateness) return [.. _lateness]; }
        }

        public string LocalUfrag => "lateness";

        public bool IsAuthenticCheck(ReadOnlySpan<byte> request) => false;

        public void HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now)
        {
        }

        public void HandleTimeout(TimeSpan now)
        {
            if (now < _next) return;
            lock (_lateness) _lateness.Add(now - _next);
            while (_next <= now) _next += period;
        }

        public TimeSpan? NextTimeout => _next;

        public bool IsClosed { get; private set; }

        public void Close(string reason) => IsClosed = true;

        public void Dispose()
        {
        }
    }
}
