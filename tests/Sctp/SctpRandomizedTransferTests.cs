using TeleRehab.Media.Sctp;

namespace TeleRehab.Media.Tests.Sctp;

/// <summary>
/// Property test over many seeds: a link with loss, reordering and duplication; every reliable message
/// arrives exactly once, intact, and in order on ordered streams; an unreliable unordered channel keeps
/// delivering (never stalls).
/// </summary>
public class SctpRandomizedTransferTests
{
    private const int Seeds = 200;

    public static IEnumerable<object[]> SeedBatches()
    {
        for (int batch = 0; batch < 4; batch++) yield return [batch];
    }

    [Theory]
    [MemberData(nameof(SeedBatches))]
    public void Reliable_messages_arrive_exactly_once_in_order_and_unreliable_ones_never_stall(int batch)
    {
        for (int seed = batch * (Seeds / 4); seed < (batch + 1) * (Seeds / 4); seed++) RunSeed(seed);
    }

    private static int NextSize(Random random)
    {
        double r = random.NextDouble();
        if (r < 0.6) return random.Next(1, 100);
        if (r < 0.9) return random.Next(100, 4000);
        return random.Next(4000, 65537);
    }

    private sealed record Sent(ushort Stream, byte[] Payload, bool Ordered);

    private static void RunSeed(int seed)
    {
        var net = new SctpTestNetwork(seed + 1000);
        var random = new Random(seed);
        net.Delay = TimeSpan.FromMilliseconds(random.Next(5, 60));
        net.Jitter = TimeSpan.FromMilliseconds(random.Next(0, 120));
        net.LossRate = random.NextDouble() * 0.25;
        net.DuplicateRate = random.NextDouble() * 0.1;
        net.A.Connect(net.Now);
        if (seed % 2 == 1) net.B.Connect(net.Now);
        Assert.True(net.RunUntil(() => net.A.State == SctpAssociationState.Established && net.B.State == SctpAssociationState.Established,
            TimeSpan.FromMinutes(3)), $"seed {seed}: connect {net.A.State} {net.B.State} {net.A.Counters.PacketsSent} {net.B.Counters.PacketsSent} {net.Now} loss {net.LossRate}");

        var sentByA = new List<Sent>();
        var sentByB = new List<Sent>();
        var unreliable = new SctpSendOptions(Unordered: true, MaxRetransmits: 0);
        int unreliableCounter = 0;
        int rounds = random.Next(3, 7);
        for (int round = 0; round < rounds; round++)
        {
            int count = random.Next(1, 8);
            for (int i = 0; i < count; i++)
            {
                SendReliable(net, net.A, random, sentByA, seed);
                if (random.Next(2) == 0) SendReliable(net, net.B, random, sentByB, seed);
                var tick = BitConverter.GetBytes(unreliableCounter++);
                net.A.Send(9, 53, tick, unreliable, net.Now);
            }
            net.RunFor(TimeSpan.FromMilliseconds(random.Next(0, 200)));
        }

        Assert.True(net.RunUntil(() => net.MessagesAtB.Count(m => m.StreamId != 9) == sentByA.Count && net.MessagesAtA.Count() == sentByB.Count,
            TimeSpan.FromMinutes(5)), $"seed {seed}: reliable delivery ({net.MessagesAtB.Count(m => m.StreamId != 9)}/{sentByA.Count}, {net.MessagesAtA.Count()}/{sentByB.Count})");
        Verify(sentByA, net.MessagesAtB.Where(m => m.StreamId != 9).ToList(), seed);
        Verify(sentByB, net.MessagesAtA.ToList(), seed);

        // The unreliable channel: no duplicates, and a message sent now still gets through.
        var ticks = net.MessagesAtB.Where(m => m.StreamId == 9).Select(m => BitConverter.ToInt32(m.Payload)).ToList();
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        net.LossRate = 0;
        net.DuplicateRate = 0;
        net.A.Send(9, 53, BitConverter.GetBytes(-1), unreliable, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Any(m => m.StreamId == 9 && BitConverter.ToInt32(m.Payload) == -1), TimeSpan.FromSeconds(30)),
            $"seed {seed}: unreliable channel stalled");
        Assert.Equal(SctpAssociationState.Established, net.A.State);
        Assert.Equal(SctpAssociationState.Established, net.B.State);
    }

    private static void SendReliable(SctpTestNetwork net, SctpAssociation from, Random random, List<Sent> sent, int seed)
    {
        ushort stream = (ushort)random.Next(0, 4); // streams 0-2 ordered, 3 unordered
        var payload = new byte[NextSize(random)];
        random.NextBytes(payload);
        var options = new SctpSendOptions(Unordered: stream == 3);
        var result = from.Send(stream, 53, payload, options, net.Now);
        if (result == SctpSendResult.BufferFull)
        {
            Assert.True(net.RunUntil(() => from.BufferedAmount + payload.Length <= 1024 * 1024, TimeSpan.FromMinutes(1)), $"seed {seed}: buffer");
            result = from.Send(stream, 53, payload, options, net.Now);
        }
        Assert.Equal(SctpSendResult.Ok, result);
        sent.Add(new Sent(stream, payload, stream != 3));
    }

    private static void Verify(List<Sent> sent, List<SctpMessageReceived> received, int seed)
    {
        Assert.Equal(sent.Count, received.Count);
        for (ushort stream = 0; stream < 3; stream++)
        {
            var expected = sent.Where(s => s.Stream == stream).Select(s => s.Payload).ToList();
            var actual = received.Where(m => m.StreamId == stream).Select(m => m.Payload).ToList();
            Assert.True(expected.Count == actual.Count, $"seed {seed}: stream {stream} count");
            for (int i = 0; i < expected.Count; i++) Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"seed {seed}: stream {stream} message {i}");
        }
        var unorderedExpected = sent.Where(s => s.Stream == 3).Select(s => Convert.ToHexString(s.Payload)).Order().ToList();
        var unorderedActual = received.Where(m => m.StreamId == 3).Select(m => Convert.ToHexString(m.Payload)).Order().ToList();
        Assert.Equal(unorderedExpected, unorderedActual);
    }
}
