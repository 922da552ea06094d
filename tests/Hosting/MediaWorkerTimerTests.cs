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
}
