using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.Tests.Dtls;

public class DtlsHandshakeSchedulerBurstTests
{
    [Fact]
    public void A_burst_arriving_while_one_worker_is_idle_runs_concurrently()
    {
        using var scheduler = new DtlsHandshakeScheduler(4);
        using var first = new ManualResetEventSlim();
        scheduler.Enqueue(first.Set);
        Assert.True(first.Wait(TimeSpan.FromSeconds(30)));
        SpinWait.SpinUntil(() => scheduler.ActiveHandshakes == 0, TimeSpan.FromSeconds(30));
        Assert.Equal(1, scheduler.WorkerThreads);

        // Each job waits for all three to be running: only possible when they do not share one thread.
        using var started = new CountdownEvent(3);
        int together = 0;
        for (int i = 0; i < 3; i++)
        {
            scheduler.Enqueue(() =>
            {
                started.Signal();
                if (started.Wait(TimeSpan.FromSeconds(30)))
                    Interlocked.Increment(ref together);
            });
        }
        SpinWait.SpinUntil(() => Volatile.Read(ref together) == 3 || scheduler.PeakConcurrentHandshakes >= 3 && started.IsSet,
            TimeSpan.FromSeconds(60));
        SpinWait.SpinUntil(() => scheduler.ActiveHandshakes == 0, TimeSpan.FromSeconds(60));

        Assert.Equal(3, Volatile.Read(ref together));
        Assert.InRange(scheduler.PeakConcurrentHandshakes, 3, 4);
    }
}
