using TeleRehab.Media.Sctp;
using static TeleRehab.Media.Tests.Sctp.SctpAssociationRobustnessTests;
using static TeleRehab.Media.Tests.Sctp.SctpAssociationTests;

namespace TeleRehab.Media.Tests.Sctp;

/// <summary>SACK generation (RFC 9260 §6.2) seen on the wire, and the sender's congestion window (§7.2).</summary>
public class SctpSackAndCongestionTests
{
    private sealed record SackSeen(uint Cumulative, uint Window, List<GapAckBlock> Gaps, List<uint> Duplicates);

    private static List<SackSeen> SacksFrom(SctpAssociation association)
    {
        var sacks = new List<SackSeen>();
        var buffer = new byte[1500];
        while (association.TryPollTransmit(buffer, out int n))
        {
            Assert.True(SctpPacket.TryParse(buffer.AsSpan(0, n), out var parsed));
            foreach (var chunk in parsed.Chunks)
            {
                if (!SelectiveAcknowledgement.TryParse(chunk, out var sack)) continue;
                var gaps = new List<GapAckBlock>();
                foreach (var g in sack.GapAckBlocks) gaps.Add(g);
                var dups = new List<uint>();
                foreach (var d in sack.DuplicateTsns) dups.Add(d.Tsn);
                sacks.Add(new SackSeen(sack.CumulativeTsnAck, sack.AdvertisedReceiverWindowCredit, gaps, dups));
            }
        }
        return sacks;
    }

    private static (SctpTestNetwork Net, uint Tag, uint Tsn) Quiet()
    {
        var (net, tag, tsn) = Established();
        net.RunFor(TimeSpan.FromSeconds(1)); // let the delayed SACK for the first message go
        return (net, tag, tsn);
    }

    private static byte[] Data(SctpTestNetwork net, uint tag, uint tsn, DataChunkFlags flags = DataChunkFlags.Complete, int size = 100) =>
        PacketToB(net, tag, Chunk(new PayloadData(flags, tsn, 0, 0, 53, new byte[size])));

    [Fact]
    public void A_single_packet_is_acknowledged_after_the_delayed_ack_time()
    {
        var (net, tag, tsn) = Quiet();
        var now = net.Now;
        net.B.HandlePacket(Data(net, tag, tsn + 1, DataChunkFlags.Unordered | DataChunkFlags.Complete), now);
        Assert.Empty(SacksFrom(net.B));
        Assert.Equal(now + TimeSpan.FromMilliseconds(200), net.B.NextTimeout);
        net.B.HandleTimeout(now + TimeSpan.FromMilliseconds(200));
        var sack = Assert.Single(SacksFrom(net.B));
        Assert.Equal(tsn + 1, sack.Cumulative);
        Assert.Empty(sack.Gaps);
    }

    [Fact]
    public void Every_second_packet_is_acknowledged_at_once()
    {
        var (net, tag, tsn) = Quiet();
        net.B.HandlePacket(Data(net, tag, tsn + 1, DataChunkFlags.Unordered | DataChunkFlags.Complete), net.Now);
        net.B.HandlePacket(Data(net, tag, tsn + 2, DataChunkFlags.Unordered | DataChunkFlags.Complete), net.Now);
        var sack = Assert.Single(SacksFrom(net.B));
        Assert.Equal(tsn + 2, sack.Cumulative);
    }

    [Fact]
    public void Gaps_and_duplicates_are_reported_at_once_with_the_window_left()
    {
        var (net, tag, tsn) = Quiet();
        // Beginning fragments only, so they stay buffered and a_rwnd shrinks.
        foreach (uint offset in new uint[] { 1, 3, 4, 6 })
            net.B.HandlePacket(Data(net, tag, tsn + offset, DataChunkFlags.Beginning | DataChunkFlags.Unordered, 1000), net.Now);
        var last = SacksFrom(net.B).Last();
        Assert.Equal(tsn + 1, last.Cumulative);
        Assert.Equal([new GapAckBlock(2, 3), new GapAckBlock(5, 5)], last.Gaps);
        Assert.Equal((uint)(1024 * 1024 - 4000), last.Window);

        net.B.HandlePacket(Data(net, tag, tsn + 3, DataChunkFlags.Beginning | DataChunkFlags.Unordered, 1000), net.Now);
        var duplicate = Assert.Single(SacksFrom(net.B));
        Assert.Equal([tsn + 3], duplicate.Duplicates);
        Assert.Equal(1, net.B.Counters.DuplicateTsnsReceived);

        // Filling the holes moves the cumulative TSN past the blocks.
        net.B.HandlePacket(Data(net, tag, tsn + 2, DataChunkFlags.Beginning | DataChunkFlags.Unordered, 1000), net.Now);
        net.B.HandlePacket(Data(net, tag, tsn + 5, DataChunkFlags.Beginning | DataChunkFlags.Unordered, 1000), net.Now);
        var filled = SacksFrom(net.B).Last();
        Assert.Equal(tsn + 6, filled.Cumulative);
        Assert.Empty(filled.Gaps);
    }

    [Fact]
    public void Congestion_window_starts_small_grows_in_slow_start_and_collapses_on_t3()
    {
        var net = new SctpTestNetwork(41);
        Assert.True(net.Connect());
        Assert.Equal(4380, net.A.CongestionWindow); // min(4*MTU, max(2*MTU, 4380)), §7.2.1
        for (int i = 0; i < 40; i++) net.A.Send(0, 53, Pattern(4000, i), default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 40, TimeSpan.FromSeconds(30)));
        int grown = net.A.CongestionWindow;
        Assert.True(grown > 12_000, $"cwnd {grown}");

        net.LossRate = 1.0;
        net.A.Send(0, 53, Pattern(4000, 99), default, net.Now);
        Assert.True(net.RunUntil(() => net.A.Counters.T3Expirations == 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(1200, net.A.CongestionWindow); // §7.2.3: cwnd = 1 MTU after T3-rtx
        net.LossRate = 0;
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 41, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Application_limited_sender_does_not_grow_the_congestion_window()
    {
        var net = new SctpTestNetwork(44);
        Assert.True(net.Connect());
        for (int i = 0; i < 50; i++)
        {
            net.A.Send(0, 51, Pattern(100, i), default, net.Now);
            net.RunFor(TimeSpan.FromMilliseconds(100));
        }
        Assert.Equal(50, net.MessagesAtB.Count());
        Assert.Equal(4380, net.A.CongestionWindow);
    }

    [Fact]
    public void Fast_retransmit_halves_the_congestion_window()
    {
        var net = new SctpTestNetwork(42);
        Assert.True(net.Connect());
        for (int i = 0; i < 40; i++) net.A.Send(0, 53, Pattern(4000, i), default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 40, TimeSpan.FromSeconds(30)));
        net.RunFor(TimeSpan.FromSeconds(1)); // the last SACKs
        int before = net.A.CongestionWindow;
        bool dropped = false;
        net.Drop = (toB, p) => toB && !dropped && ChunkTypes(p).Contains(SctpChunkType.Data) && (dropped = true);
        for (int i = 0; i < 10; i++) net.A.Send(0, 53, Pattern(1000, i), default, net.Now);
        Assert.True(net.RunUntil(() => net.A.Counters.FastRetransmissions == 1, TimeSpan.FromSeconds(5)));
        Assert.Equal(Math.Max(before / 2, 4 * 1200), net.A.CongestionWindow);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 50, TimeSpan.FromSeconds(5)));
        Assert.Equal(0, net.A.Counters.T3Expirations);
    }

    [Fact]
    public void Rto_follows_the_measured_round_trip()
    {
        var net = new SctpTestNetwork(43) { Delay = TimeSpan.FromMilliseconds(150) };
        Assert.True(net.Connect());
        for (int i = 0; i < 20; i++)
        {
            net.A.Send(0, 53, Pattern(100, i), default, net.Now);
            net.RunFor(TimeSpan.FromMilliseconds(500));
        }
        // RTT is 300 ms plus up to the 200 ms delayed ack; RTO = SRTT + 4 RTTVAR lands between them and RTO.Max.
        Assert.InRange(net.A.Rto, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2));
    }
}
