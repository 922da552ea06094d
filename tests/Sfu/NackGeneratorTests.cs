using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class NackGeneratorTests
{
    private static ushort[] Collect(NackGenerator g, TimeSpan now)
    {
        var buffer = new ushort[512];
        int n = g.CollectNacks(now, buffer);
        return buffer[..n];
    }

    [Fact]
    public void GapIsNackedImmediatelyThenEveryRtt()
    {
        var g = new NackGenerator();
        g.OnPacketReceived(10, Ms(0));
        g.OnPacketReceived(13, Ms(10));
        Assert.Equal(2, g.MissingCount);
        Assert.Equal(Ms(10), g.NextTimeout);
        Assert.Equal(new ushort[] { 11, 12 }, Collect(g, Ms(10)));
        Assert.Empty(Collect(g, Ms(50)));
        Assert.Equal(Ms(110), g.NextTimeout);
        g.Rtt = Ms(40);
        Assert.Equal(new ushort[] { 11, 12 }, Collect(g, Ms(110)));
        Assert.Equal(Ms(150), g.NextTimeout);
    }

    [Fact]
    public void A_round_trip_of_zero_still_waits_before_asking_again()
    {
        // A loopback leg's RTT rounds to 0 at RTCP's resolution: the entry must not be due again at the same instant.
        var g = new NackGenerator { Rtt = TimeSpan.Zero };
        g.OnPacketReceived(10, Ms(0));
        g.OnPacketReceived(12, Ms(5));
        Assert.Equal(new ushort[] { 11 }, Collect(g, Ms(5)));
        Assert.Equal(Ms(5) + NackGenerator.MinRetryInterval, g.NextTimeout);
        Assert.Empty(Collect(g, Ms(5)));
    }

    [Fact]
    public void An_entry_is_given_up_at_the_instant_it_expires_which_is_when_its_timer_fires()
    {
        var g = new NackGenerator(maxAge: Ms(300)) { Rtt = Ms(1000) };
        g.OnPacketReceived(10, Ms(0));
        g.OnPacketReceived(12, Ms(0));
        Assert.Equal(new ushort[] { 11 }, Collect(g, Ms(0)));
        Assert.Equal(Ms(300), g.NextTimeout); // the expiry comes before the next retry
        Assert.Empty(Collect(g, Ms(300)));
        Assert.Null(g.NextTimeout);
        Assert.Equal(1, g.GivenUpCount);
    }

    [Fact]
    public void Many_due_at_once_are_collected_in_batches_until_none_is_due()
    {
        var g = new NackGenerator();
        g.OnPacketReceived(0, Ms(0));
        g.OnPacketReceived(151, Ms(1)); // 150 missing
        var buffer = new ushort[64];
        var total = 0;
        for (int n; (n = g.CollectNacks(Ms(1), buffer)) > 0;) total += n;
        Assert.Equal(150, total);
        Assert.True(g.NextTimeout > Ms(1));
    }

    [Fact]
    public void RequestAsksAgainForAPacketGivenUp()
    {
        var g = new NackGenerator(maxRetries: 2);
        g.OnPacketReceived(10, Ms(0));
        g.OnPacketReceived(12, Ms(1));
        Assert.Equal(new ushort[] { 11 }, Collect(g, Ms(1)));
        Assert.Equal(new ushort[] { 11 }, Collect(g, Ms(101)));
        Assert.Empty(Collect(g, Ms(201))); // retries exhausted: given up
        Assert.Equal(0, g.MissingCount);

        // A subscriber still wants it: asked for again, in order among the others.
        g.OnPacketReceived(15, Ms(250));
        Assert.True(g.Request(11, Ms(260)));
        Assert.False(g.Request(11, Ms(260)));      // tracked already
        Assert.False(g.Request(15, Ms(260)));      // the newest: not missing
        Assert.False(g.Request(20, Ms(260)));      // never reached
        Assert.Equal(new ushort[] { 11, 13, 14 }, Collect(g, Ms(260)));
    }

    [Fact]
    public void RecoveredPacketClearsItsEntry()
    {
        var g = new NackGenerator();
        g.OnPacketReceived(1, Ms(0));
        g.OnPacketReceived(5, Ms(1));
        Assert.True(g.OnPacketReceived(3, Ms(2)));
        Assert.False(g.OnPacketReceived(3, Ms(3))); // duplicate
        Assert.False(g.OnPacketReceived(5, Ms(3)));
        Assert.Equal(new ushort[] { 2, 4 }, Collect(g, Ms(3)));
        Assert.Equal(1, g.RecoveredCount);
    }

    [Fact]
    public void GivesUpAfterMaxRetries()
    {
        var g = new NackGenerator(maxRetries: 3, maxAge: TimeSpan.FromSeconds(10));
        g.OnPacketReceived(1, Ms(0));
        g.OnPacketReceived(3, Ms(0));
        for (int i = 0; i < 3; i++) Assert.Equal(new ushort[] { 2 }, Collect(g, Ms(100 * i)));
        Assert.Empty(Collect(g, Ms(300)));
        Assert.Equal(0, g.MissingCount);
        Assert.Null(g.NextTimeout);
        Assert.Equal(1, g.GivenUpCount);
    }

    [Fact]
    public void GivesUpOnPacketsOlderThanMaxAge()
    {
        var g = new NackGenerator(maxAge: Ms(250));
        g.OnPacketReceived(1, Ms(0));
        g.OnPacketReceived(3, Ms(0));
        Assert.Equal(new ushort[] { 2 }, Collect(g, Ms(0)));
        Assert.Equal(new ushort[] { 2 }, Collect(g, Ms(100)));
        Assert.Equal(new ushort[] { 2 }, Collect(g, Ms(200)));
        Assert.Equal(Ms(250), g.NextTimeout); // expiry comes before the retry at 300 ms
        Assert.Empty(Collect(g, Ms(251)));
        Assert.Equal(0, g.MissingCount);
    }

    [Fact]
    public void TracksAtMostMaxMissing()
    {
        var g = new NackGenerator(maxMissing: 4);
        g.OnPacketReceived(0, Ms(0));
        g.OnPacketReceived(10, Ms(1)); // 9 missing, only the newest 4 tracked
        Assert.Equal(new ushort[] { 6, 7, 8, 9 }, Collect(g, Ms(1)));
        g.OnPacketReceived(12, Ms(2)); // 11 missing: pushes 6 out
        Assert.Equal(new ushort[] { 11 }, Collect(g, Ms(2)));
        Assert.Equal(4, g.MissingCount);
        Assert.Equal(6, g.GivenUpCount);
    }

    [Fact]
    public void HandlesWrapAndOldPackets()
    {
        var g = new NackGenerator();
        g.OnPacketReceived(65534, Ms(0));
        g.OnPacketReceived(1, Ms(1));
        Assert.Equal(new ushort[] { 65535, 0 }, Collect(g, Ms(1)));
        Assert.False(g.OnPacketReceived(60000, Ms(2))); // very old, not tracked
        Assert.True(g.OnPacketReceived(0, Ms(3)));
        Assert.Equal(1, g.MissingCount);
    }

    [Fact]
    public void SmallDestinationLeavesTheRestDue()
    {
        var g = new NackGenerator();
        g.OnPacketReceived(0, Ms(0));
        g.OnPacketReceived(5, Ms(0));
        var two = new ushort[2];
        Assert.Equal(2, g.CollectNacks(Ms(0), two));
        Assert.Equal(new ushort[] { 1, 2 }, two);
        Assert.Equal(new ushort[] { 3, 4 }, Collect(g, Ms(0)));
    }

    [Fact]
    public void HugeJumpResetsInsteadOfNacking()
    {
        var g = new NackGenerator();
        g.OnPacketReceived(100, Ms(0));
        g.OnPacketReceived(103, Ms(1));
        g.OnPacketReceived((ushort)(103 + NackGenerator.MaxDropout + 1), Ms(2));
        Assert.Equal(0, g.MissingCount);
        Assert.Equal(1, g.ResetCount);
        Assert.Equal(2, g.GivenUpCount);
        Assert.Empty(Collect(g, Ms(2)));
        g.OnPacketReceived((ushort)(103 + NackGenerator.MaxDropout + 3), Ms(3)); // tracking goes on from the new point
        Assert.Equal(new ushort[] { (ushort)(103 + NackGenerator.MaxDropout + 2) }, Collect(g, Ms(3)));
    }

    [Fact]
    public void WritesDueSeqsAsOneGenericNack()
    {
        var g = new NackGenerator();
        g.OnPacketReceived(65530, Ms(0));
        g.OnPacketReceived(4, Ms(0));     // 65531..3 missing: PID 65531 + BLP bits 0..7
        g.OnPacketReceived(30, Ms(0));    // 5..29 missing
        var dest = new byte[200];
        int n = g.WriteNack(Ms(0), 0xAAAA, 0xBBBB, dest);
        Assert.True(TransportLayerNack.TryParse(dest.AsSpan(0, n), out var nack));
        Assert.Equal((0xAAAAu, 0xBBBBu), (nack.SenderSsrc, nack.MediaSsrc));
        var seqs = new List<ushort>();
        foreach (ushort s in nack.LostSequenceNumbers) seqs.Add(s);
        var expected = Enumerable.Range(65531, 5).Concat(Enumerable.Range(0, 4)).Concat(Enumerable.Range(5, 25)).Select(i => (ushort)i);
        Assert.Equal(expected, seqs);
        Assert.Equal(0, g.WriteNack(Ms(1), 0xAAAA, 0xBBBB, dest)); // nothing due until the RTT passed
    }

    [Fact]
    public void WriteNackTakesOnlyWhatFits()
    {
        var g = new NackGenerator();
        g.OnPacketReceived(0, Ms(0));
        g.OnPacketReceived(100, Ms(0));
        var dest = new byte[12 + 4 * 3];
        int n = g.WriteNack(Ms(0), 1, 2, dest);
        Assert.True(TransportLayerNack.TryParse(dest.AsSpan(0, n), out var nack));
        Assert.Equal(new[] { 1, 2, 3 }, ToList(nack));
        Assert.True(g.WriteNack(Ms(0), 1, 2, new byte[200]) > 0); // the rest is still due
    }

    private static List<int> ToList(TransportLayerNack nack)
    {
        var list = new List<int>();
        foreach (ushort s in nack.LostSequenceNumbers) list.Add(s);
        return list;
    }
}
