using Xunit.Abstractions;
using TeleRehab.LoadTests.Link;

namespace TeleRehab.Media.Tests.Link;

public class LinkDirectionTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool> RateLimitedDirections()
    {
        var data = new TheoryData<string, bool>();
        foreach (var profile in LinkProfile.Named.Where(p => p.Up.IsRateLimited))
        {
            data.Add(profile.Name, true);
            data.Add(profile.Name, false);
        }
        return data;
    }

    private static LinkDirectionProfile Direction(string name, bool up) =>
        up ? LinkProfile.Parse(name).Up : LinkProfile.Parse(name).Down;

    [Theory]
    [MemberData(nameof(RateLimitedDirections))]
    public void OverloadIsCutToTheRateWithTheQueueBoundedByItsDelay(string name, bool up)
    {
        var profile = Direction(name, up);
        var sim = new LinkSimulation(new LinkDirection(profile, seed: 7));

        sim.OfferConstantRate(size: 200, kbps: 2 * profile.RateKbps, TimeSpan.FromSeconds(20));

        // The queue is full after the first second; measure past the start-up burst of the token bucket.
        var delivered = sim.DeliveredKbps(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20));
        output.WriteLine($"{name} {(up ? "up" : "down")}: offered {2 * profile.RateKbps} kbit/s, delivered {delivered:0.0} kbit/s " +
                         $"(profile {profile.RateKbps}), max queue delay {sim.Deliveries.Max(d => d.QueueDelay).TotalMilliseconds:0} ms");
        Assert.InRange(delivered, 0.95 * profile.RateKbps, 1.05 * profile.RateKbps);

        var minDelay = sim.Deliveries.Min(d => d.OneWayDelay);
        Assert.InRange(minDelay, profile.Delay, profile.Delay + profile.Jitter);

        var maxQueue = sim.Deliveries.Max(d => d.QueueDelay);
        Assert.True(maxQueue <= profile.QueueLimit, $"queue delay {maxQueue} over the limit {profile.QueueLimit}");
        Assert.True(maxQueue >= 0.9 * profile.QueueLimit, $"queue delay {maxQueue} never neared the limit {profile.QueueLimit}");
        Assert.All(sim.Deliveries, d => Assert.True(d.OneWayDelay <= profile.QueueLimit + profile.Delay + profile.Jitter));

        var counters = sim.Link.Counters;
        Assert.True(counters.DroppedByQueue > counters.Offered / 3, $"{counters.DroppedByQueue} of {counters.Offered} dropped by the queue");
        Assert.Equal(counters.Offered, counters.Delivered + counters.DroppedByQueue + counters.DroppedByLoss);
        Assert.Equal(sim.Deliveries.Sum(d => (long)d.Size), counters.DeliveredBytes);
        AssertInOrder(sim.Deliveries);
    }

    [Theory]
    [MemberData(nameof(RateLimitedDirections))]
    public void BelowTheRateLossMatchesTheProfileAndDelayIsHalfTheRtt(string name, bool up)
    {
        var profile = Direction(name, up);
        var sim = new LinkSimulation(new LinkDirection(profile, seed: 11));
        const int size = 100;
        const int packets = 100_000;
        var kbps = profile.RateKbps / 2.0;
        var duration = TimeSpan.FromMilliseconds(packets * size * 8 / kbps);

        sim.OfferConstantRate(size, kbps, duration);

        var counters = sim.Link.Counters;
        Assert.Equal(0, counters.DroppedByQueue);
        Assert.Equal(counters.Offered, counters.Delivered + counters.DroppedByLoss);
        Assert.Equal(LinkProfile.Parse(name).Rtt / 2, profile.Delay);
        var minDelay = sim.Deliveries.Min(d => d.OneWayDelay);
        Assert.InRange(minDelay, profile.Delay, profile.Delay + TimeSpan.FromMilliseconds(1));
        Assert.All(sim.Deliveries, d => Assert.Equal(TimeSpan.Zero, d.QueueDelay));

        var loss = profile.Loss;
        var observed = (double)counters.DroppedByLoss / counters.Offered;
        if (loss.Kind == LinkLossKind.None)
        {
            Assert.Equal(0, counters.DroppedByLoss);
            return;
        }

        // Binomial spread, widened for the correlation of a two-state Markov chain (lag-1 correlation 1 - p - r).
        var rho = 1 - loss.GoodToBad - loss.BadToGood;
        var sigma = Math.Sqrt(loss.Average * (1 - loss.Average) * (1 + rho) / (1 - rho) / counters.Offered);
        Assert.InRange(observed, loss.Average - 5 * sigma, loss.Average + 5 * sigma);

        var meanBurst = sim.LossBursts().Average();
        output.WriteLine($"{name} {(up ? "up" : "down")}: loss {observed:P3} of {counters.Offered} (profile {loss.Average:P1}, " +
                         $"bound ±{5 * sigma:P2}), mean burst {meanBurst:0.00} packets");
        if (loss.Kind == LinkLossKind.Bursty)
            Assert.InRange(meanBurst, 0.8 * loss.MeanBurstPackets, 1.2 * loss.MeanBurstPackets);
        else
            Assert.InRange(meanBurst, 1.0, 1.1);
    }

    [Fact]
    public void BurstyLossParametersGiveTheAverageAndTheBurstLength()
    {
        var loss = LinkLoss.Bursty(0.05, meanBurstPackets: 3);
        var p = loss.GoodToBad;
        var r = loss.BadToGood;
        Assert.Equal(0.05, p / (p + r), 9);
        Assert.Equal(1 / 3.0, r, 9);
        Assert.True(LinkProfile.Gprs.Up.Loss.MeanBurstPackets > 1);
    }

    [Fact]
    public void CleanLinkPassesEverythingAtOnce()
    {
        var link = new LinkDirection(LinkProfile.Clean.Up, seed: 1);
        for (var i = 0; i < 1000; i++) Assert.True(link.Enqueue(1200, TimeSpan.FromMilliseconds(5)));
        Assert.Equal(TimeSpan.FromMilliseconds(5), link.NextDelivery);
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(link.TryDequeue(TimeSpan.FromMilliseconds(5), out var d));
            Assert.Equal(i, d.Sequence);
        }
        Assert.Null(link.NextDelivery);
        Assert.Equal(new LinkCounters(1000, 1_200_000, 1000, 1_200_000, 0, 0), link.Counters);
    }

    [Fact]
    public void TokenBucketLetsABoundedBurstThroughThenPacesAtTheRate()
    {
        // 80 kbit/s = 10 bytes/ms; a 3000-byte bucket; 1000-byte packets take 100 ms each at the rate.
        var profile = new LinkDirectionProfile(80, TimeSpan.FromMilliseconds(50), TimeSpan.Zero, LinkLoss.None, TimeSpan.FromSeconds(1));
        var link = new LinkDirection(profile, seed: 1);
        var sent = new List<TimeSpan>();
        for (var i = 0; i < 8; i++) Assert.True(link.Enqueue(1000, TimeSpan.Zero));
        while (link.NextDelivery is { } due)
        {
            Assert.True(link.TryDequeue(due, out var d));
            sent.Add(d.DepartedAt);
        }

        // Three leave at once (the bucket), then one every 100 ms.
        Assert.Equal([0, 0, 0, 100, 200, 300, 400, 500], sent.Select(t => t.TotalMilliseconds));
    }

    [Fact]
    public void APacketIsNotHandedOutBeforeItIsDue()
    {
        var link = new LinkDirection(LinkProfile.FourG.Up, seed: 1);
        Assert.True(link.Enqueue(100, TimeSpan.FromSeconds(1)));
        var due = TimeSpan.FromSeconds(1) + LinkProfile.FourG.Up.Delay;
        Assert.Equal(due, link.NextDelivery);
        Assert.False(link.TryDequeue(due - TimeSpan.FromTicks(1), out _));
        Assert.True(link.TryDequeue(due, out var d));
        Assert.Equal(TimeSpan.FromMilliseconds(20), d.OneWayDelay);
    }

    [Fact]
    public void JitterNeverReorders()
    {
        var profile = new LinkDirectionProfile(0, TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(25), LinkLoss.None, TimeSpan.Zero);
        var sim = new LinkSimulation(new LinkDirection(profile, seed: 3));
        sim.OfferConstantRate(100, 800, TimeSpan.FromSeconds(10)); // a packet a millisecond, jitter 25 ms
        Assert.Equal(10_000, sim.Deliveries.Count);
        AssertInOrder(sim.Deliveries);
        Assert.True(sim.Deliveries.Select(d => d.OneWayDelay).Distinct().Count() > 100, "jitter varies the delay");
        Assert.All(sim.Deliveries, d => Assert.InRange(d.OneWayDelay, profile.Delay, profile.Delay + profile.Jitter));
    }

    [Fact]
    public void SameSeedSameLosses()
    {
        static List<bool> Run(int seed)
        {
            var sim = new LinkSimulation(new LinkDirection(LinkProfile.Edge.Up, seed));
            sim.OfferConstantRate(100, 20, TimeSpan.FromSeconds(200));
            return sim.LostFlags;
        }
        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void ProfileChangeAppliesToNewPacketsWhileQueuedOnesKeepTheirTimes()
    {
        var slow = new LinkDirectionProfile(40, TimeSpan.FromMilliseconds(300), TimeSpan.Zero, LinkLoss.None, TimeSpan.FromSeconds(2));
        var fast = LinkProfile.FourG.Up;
        var switched = new LinkSimulation(new LinkDirection(slow, seed: 1));
        var reference = new LinkSimulation(new LinkDirection(slow, seed: 1));

        // Ten 500-byte packets at once on a 40 kbit/s link: 100 ms each past the bucket, a queue of ~700 ms.
        for (var i = 0; i < 10; i++)
        {
            Assert.True(switched.Offer(500));
            Assert.True(reference.Offer(500));
        }
        switched.Link.Profile = fast;
        Assert.False(switched.Offer(500)); // the slow backlog (~1 s) is over the new 200 ms limit
        Assert.Equal(LinkDrop.Queue, switched.Link.LastDrop);
        switched.AdvanceTo(TimeSpan.FromMilliseconds(850));
        switched.DrainDue();
        Assert.True(switched.Offer(500)); // now the backlog fits: queued behind the slow ones
        switched.AdvanceTo(TimeSpan.FromSeconds(5));
        Assert.True(switched.Offer(500)); // a fresh packet on the fast link
        switched.RunUntilEmpty();
        reference.RunUntilEmpty();

        Assert.Equal(reference.Deliveries, switched.Deliveries.Take(10));
        Assert.Equal(12, switched.Deliveries.Count);
        AssertInOrder(switched.Deliveries);
        var behind = switched.Deliveries[10];
        Assert.True(behind.DeliverAt >= switched.Deliveries[9].DeliverAt);
        Assert.True(behind.DepartedAt >= switched.Deliveries[9].DepartedAt, "a new packet does not overtake the queue");
        var fresh = switched.Deliveries[11];
        Assert.Equal(fast.Delay, fresh.OneWayDelay);
        Assert.Equal(fast, switched.Link.Profile);
    }

    [Fact]
    public void BadProfilesAreRefusedWithAClearMessage()
    {
        var bad = LinkProfile.Edge.Up with { RateKbps = -5 };
        var e = Assert.Throws<ArgumentException>(() => new LinkDirection(bad, seed: 1));
        Assert.Contains("rate", e.Message);
        var link = new LinkDirection(LinkProfile.Edge.Up, seed: 1);
        Assert.Throws<ArgumentException>(() => link.Profile = LinkProfile.Edge.Up with { QueueLimit = TimeSpan.FromSeconds(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => LinkLoss.Random(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinkLoss.Bursty(0.1, meanBurstPackets: 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => link.Enqueue(-1, TimeSpan.Zero));
    }

    private static void AssertInOrder(List<LinkDelivery> deliveries)
    {
        for (var i = 1; i < deliveries.Count; i++)
        {
            Assert.True(deliveries[i].Sequence == deliveries[i - 1].Sequence + 1);
            Assert.True(deliveries[i].DeliverAt >= deliveries[i - 1].DeliverAt);
        }
    }
}
