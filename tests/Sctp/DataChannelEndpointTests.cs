using TeleRehab.Media.Sctp;
using static TeleRehab.Media.Tests.Sctp.SctpAssociationTests;

namespace TeleRehab.Media.Tests.Sctp;

public class DataChannelEndpointTests
{
    /// <summary>Two endpoints over the simulated link: A is the DTLS client, B the server.</summary>
    private sealed class Pair
    {
        public Pair(int seed = 31, Func<DataChannelOpenRequest, bool>? acceptAtB = null, Func<DataChannelOpenRequest, bool>? acceptAtA = null)
        {
            Net = new SctpTestNetwork(seed);
            A = new DataChannelEndpoint(Net.A, isDtlsClient: true, acceptAtA);
            B = new DataChannelEndpoint(Net.B, isDtlsClient: false, acceptAtB);
            Net.DeliverToA = (p, now) => A.HandlePacket(p, now);
            Net.DeliverToB = (p, now) => B.HandlePacket(p, now);
            Net.TimeoutA = A.HandleTimeout;
            Net.TimeoutB = B.HandleTimeout;
            Net.DrainEvents = () =>
            {
                while (A.TryPollEvent(out var ev)) EventsA.Add(ev);
                while (B.TryPollEvent(out var ev)) EventsB.Add(ev);
            };
            A.Connect(Net.Now);
            B.Connect(Net.Now);
            Assert.True(Net.RunUntil(() => EventsA.OfType<AssociationConnected>().Any() && EventsB.OfType<AssociationConnected>().Any(),
                TimeSpan.FromSeconds(10)));
        }

        public SctpTestNetwork Net { get; }
        public DataChannelEndpoint A { get; }
        public DataChannelEndpoint B { get; }
        public List<DataChannelEvent> EventsA { get; } = new();
        public List<DataChannelEvent> EventsB { get; } = new();
        public TimeSpan Now => Net.Now;

        public bool Run(Func<bool> condition) => Net.RunUntil(condition, TimeSpan.FromSeconds(20));
        public IEnumerable<ChannelMessageReceived> MessagesAtA => EventsA.OfType<ChannelMessageReceived>();
        public IEnumerable<ChannelMessageReceived> MessagesAtB => EventsB.OfType<ChannelMessageReceived>();
    }

    [Fact]
    public void Client_opens_a_channel_the_server_accepts_and_both_exchange_messages()
    {
        var pair = new Pair();
        var channel = pair.A.OpenChannel("pose", new DataChannelOptions(Protocol: "json", Priority: 512), pair.Now);
        Assert.NotNull(channel);
        Assert.Equal(0, channel.StreamId); // DTLS client: even ids
        Assert.Equal(DataChannelState.Connecting, channel.State);
        Assert.Equal(SctpSendResult.Ok, pair.A.SendText(0, "hello ü", pair.Now)); // before the ACK: allowed, sent ordered
        Assert.True(pair.Run(() => pair.EventsA.OfType<ChannelOpened>().Any() && pair.MessagesAtB.Any()));

        var remote = pair.EventsB.OfType<ChannelOpened>().Single().Channel;
        Assert.Equal("pose", remote.Label);
        Assert.Equal("json", remote.Protocol);
        Assert.Equal(512, remote.Priority);
        Assert.Equal(DataChannelType.Reliable, remote.ChannelType);
        Assert.False(remote.IsLocallyOpened);
        Assert.Same(channel, pair.EventsA.OfType<ChannelOpened>().Single().Channel);
        Assert.Equal(DataChannelState.Open, channel.State);

        var text = pair.MessagesAtB.Single();
        Assert.True(text.IsText);
        Assert.Equal("hello ü", text.Text);
        Assert.Equal(SctpSendResult.Ok, pair.B.SendBinary(0, [1, 2, 3], pair.Now));
        Assert.True(pair.Run(() => pair.MessagesAtA.Any()));
        var binary = pair.MessagesAtA.Single();
        Assert.False(binary.IsText);
        Assert.Equal(new byte[] { 1, 2, 3 }, binary.Data);
    }

    [Fact]
    public void Server_opens_on_odd_ids_and_both_sides_can_open_at_once_without_collision()
    {
        var pair = new Pair(32);
        var fromB1 = pair.B.OpenChannel("b1", default, pair.Now);
        var fromA1 = pair.A.OpenChannel("a1", default, pair.Now);
        var fromB2 = pair.B.OpenChannel("b2", default, pair.Now);
        var fromA2 = pair.A.OpenChannel("a2", default, pair.Now);
        Assert.Equal([1, 0, 3, 2], new[] { fromB1!.StreamId, fromA1!.StreamId, fromB2!.StreamId, fromA2!.StreamId }.Select(x => (int)x));
        Assert.True(pair.Run(() => pair.EventsA.OfType<ChannelOpened>().Count() == 4 && pair.EventsB.OfType<ChannelOpened>().Count() == 4));
        Assert.Equal(4, pair.A.Channels.Count);
        Assert.Equal(4, pair.B.Channels.Count);
        Assert.Equal("b2", pair.A.Channels[3].Label);
        Assert.Equal("a2", pair.B.Channels[2].Label);
    }

    [Fact]
    public void Empty_messages_go_as_one_zero_byte_and_arrive_empty()
    {
        var pair = new Pair(33);
        var seen = new List<uint>();
        var channel = pair.A.OpenChannel("e", default, pair.Now)!;
        Assert.True(pair.Run(() => channel.State == DataChannelState.Open));
        pair.Net.Drop = (toB, p) =>
        {
            if (!toB) return false;
            Assert.True(SctpPacket.TryParse(p, out var parsed));
            foreach (var chunk in parsed.Chunks)
            {
                if (PayloadData.TryParse(chunk, out var data))
                {
                    seen.Add(data.PayloadProtocol);
                    Assert.Equal(new byte[] { 0 }, data.UserData.ToArray());
                }
            }
            return false;
        };
        Assert.Equal(SctpSendResult.Ok, pair.A.SendText(0, "", pair.Now));
        Assert.Equal(SctpSendResult.Ok, pair.A.SendBinary(0, [], pair.Now));
        Assert.True(pair.Run(() => pair.MessagesAtB.Count() == 2));
        Assert.Equal([56u, 57u], seen);
        var messages = pair.MessagesAtB.ToList();
        Assert.True(messages[0].IsText);
        Assert.Empty(messages[0].Data);
        Assert.Equal("", messages[0].Text);
        Assert.False(messages[1].IsText);
        Assert.Empty(messages[1].Data);
    }

    [Fact]
    public void Refused_channel_is_closed_by_stream_reset_on_the_opener()
    {
        var pair = new Pair(34, acceptAtB: request => request.Label != "forbidden");
        var refused = pair.A.OpenChannel("forbidden", default, pair.Now)!;
        var accepted = pair.A.OpenChannel("allowed", default, pair.Now)!;
        Assert.True(pair.Run(() => pair.EventsA.OfType<ChannelClosed>().Any() && accepted.State == DataChannelState.Open));
        Assert.Same(refused, pair.EventsA.OfType<ChannelClosed>().Single().Channel);
        Assert.Equal(DataChannelState.Closed, refused.State);
        Assert.Equal(1, pair.B.Counters.ChannelsRefused);
        Assert.Equal("allowed", pair.EventsB.OfType<ChannelOpened>().Single().Channel.Label);
        Assert.False(pair.B.Channels.ContainsKey(refused.StreamId));
        Assert.False(pair.A.Channels.ContainsKey(refused.StreamId));
        // The freed id is used again, and this time the channel is accepted.
        var again = pair.A.OpenChannel("second try", default, pair.Now)!;
        Assert.Equal(refused.StreamId, again.StreamId);
        Assert.True(pair.Run(() => again.State == DataChannelState.Open));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Closing_resets_both_streams_and_frees_the_id(bool closeFromOpener)
    {
        var pair = new Pair(35);
        var channel = pair.A.OpenChannel("c", default, pair.Now)!;
        Assert.True(pair.Run(() => channel.State == DataChannelState.Open && pair.B.Channels.Count == 1));
        pair.A.SendText(0, "last words", pair.Now);
        if (closeFromOpener) pair.A.CloseChannel(0, pair.Now);
        else
        {
            Assert.True(pair.Run(() => pair.MessagesAtB.Any()));
            pair.B.CloseChannel(0, pair.Now);
        }
        Assert.True(pair.Run(() => pair.EventsA.OfType<ChannelClosed>().Any() && pair.EventsB.OfType<ChannelClosed>().Any()));
        Assert.Equal("last words", pair.MessagesAtB.Single().Text);
        Assert.Empty(pair.A.Channels);
        Assert.Empty(pair.B.Channels);
        Assert.Equal(SctpSendResult.NotEstablished, pair.A.SendText(0, "after close", pair.Now));
        var reopened = pair.A.OpenChannel("c2", default, pair.Now)!;
        Assert.Equal(0, reopened.StreamId);
        pair.A.SendText(0, "new channel", pair.Now);
        Assert.True(pair.Run(() => reopened.State == DataChannelState.Open && pair.MessagesAtB.Count() == 2));
        Assert.Equal("new channel", pair.MessagesAtB.Last().Text);
        Assert.Equal("c2", pair.MessagesAtB.Last().Channel.Label);
    }

    [Fact]
    public void Messages_on_unknown_streams_and_unknown_dcep_messages_are_dropped_and_counted()
    {
        var pair = new Pair(36);
        var channel = pair.A.OpenChannel("known", default, pair.Now)!;
        Assert.True(pair.Run(() => channel.State == DataChannelState.Open));
        pair.Net.A.Send(10, 51, "nobody listens"u8, default, pair.Now);
        pair.Net.A.Send(0, 50, [0x07, 1, 2], default, pair.Now); // not OPEN nor ACK
        pair.Net.A.Send(0, 52, [1], default, pair.Now); // deprecated partial binary
        pair.Net.A.Send(0, 50, [0x03, 0], default, pair.Now); // truncated OPEN
        pair.A.SendText(0, "still fine", pair.Now);
        Assert.True(pair.Run(() => pair.MessagesAtB.Any()));
        Assert.Equal("still fine", pair.MessagesAtB.Single().Text);
        Assert.Equal(1, pair.B.Counters.MessagesDroppedNoChannel);
        Assert.Equal(2, pair.B.Counters.UnknownDcepMessages);
        Assert.Equal(1, pair.B.Counters.UnknownPayloadProtocols);
        Assert.Equal(SctpAssociationState.Established, pair.Net.B.State);
    }

    [Fact]
    public void Random_dcep_and_user_messages_never_break_the_endpoint()
    {
        var pair = new Pair(40);
        var random = new Random(40);
        for (int i = 0; i < 300; i++)
        {
            var payload = new byte[random.Next(1, 40)];
            random.NextBytes(payload);
            if (i % 2 == 0) payload[0] = (byte)random.Next(0, 4); // often an OPEN or ACK type byte
            uint ppid = (uint)random.Next(48, 60);
            pair.Net.A.Send((ushort)random.Next(0, 64), ppid, payload, default, pair.Now);
            if (i % 20 == 0) pair.Net.RunFor(TimeSpan.FromMilliseconds(50));
        }
        pair.Net.RunFor(TimeSpan.FromSeconds(2));
        Assert.Equal(SctpAssociationState.Established, pair.Net.B.State);
        var channel = pair.B.OpenChannel("after fuzz", default, pair.Now);
        Assert.NotNull(channel);
        pair.B.SendText(channel.StreamId, "works", pair.Now);
        Assert.True(pair.Run(() => pair.MessagesAtA.Any(m => m.Text == "works")));
    }

    [Fact]
    public void Open_on_the_receivers_own_parity_is_rejected_once_it_opened_a_channel()
    {
        var pair = new Pair(37);
        var own = pair.B.OpenChannel("server's", default, pair.Now)!;
        Assert.Equal(1, own.StreamId);
        pair.Net.RunFor(TimeSpan.FromSeconds(1));
        // A (client) forges an OPEN on odd stream 5, which belongs to the server.
        var open = new DataChannelOpen(DataChannelType.Reliable, 256, 0, "odd"u8);
        var bytes = new byte[open.GetSerializedLength()];
        open.WriteTo(bytes);
        pair.Net.A.Send(5, 50, bytes, default, pair.Now);
        pair.Net.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(1, pair.B.Counters.InvalidOpens);
        Assert.DoesNotContain(pair.EventsB.OfType<ChannelOpened>(), e => e.Channel.StreamId == 5);
        Assert.Equal(1, pair.B.LocalParity);
    }

    [Fact]
    public void A_peer_that_opens_first_on_our_parity_is_followed_so_ids_never_collide()
    {
        // werift picks stream ids from its ICE role, not its DTLS role: as the DTLS client it may open on odd ids.
        var pair = new Pair(39);
        var open = new DataChannelOpen(DataChannelType.Reliable, 256, 0, "odd"u8);
        var bytes = new byte[open.GetSerializedLength()];
        open.WriteTo(bytes);
        pair.Net.A.Send(1, 50, bytes, default, pair.Now);
        pair.Net.RunFor(TimeSpan.FromSeconds(1));
        Assert.Contains(pair.EventsB.OfType<ChannelOpened>(), e => e.Channel.StreamId == 1 && e.Channel.Label == "odd");
        Assert.Equal(1, pair.B.Counters.WrongParityOpens);
        Assert.Equal(0, pair.B.LocalParity);
        var ours = pair.B.OpenChannel("server's", default, pair.Now)!;
        Assert.Equal(0, ours.StreamId);
        // A later OPEN on the parity we now use is an error again.
        pair.Net.A.Send(2, 50, bytes, default, pair.Now);
        pair.Net.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(1, pair.B.Counters.InvalidOpens);
    }

    [Theory]
    [InlineData(false, 0, null)]
    [InlineData(true, null, 300)]
    public void Partially_reliable_channels_map_their_options_and_keep_flowing_on_a_lossy_link(bool ordered, int? rexmit, int? lifetimeMs)
    {
        var pair = new Pair(38);
        var options = new DataChannelOptions(Ordered: ordered, MaxRetransmits: rexmit,
            MaxPacketLifetime: lifetimeMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
        var channel = pair.A.OpenChannel("pose", options, pair.Now)!;
        Assert.True(pair.Run(() => channel.State == DataChannelState.Open));
        var remote = pair.B.Channels[0];
        Assert.Equal(channel.ChannelType, remote.ChannelType);
        Assert.Equal(ordered ? DataChannelType.PartialReliableTimed : DataChannelType.PartialReliableRexmitUnordered, remote.ChannelType);
        Assert.Equal(rexmit is not null ? 0u : 300u, remote.ReliabilityParameter);

        pair.Net.LossRate = 0.25;
        for (int i = 0; i < 300; i++)
        {
            pair.A.SendBinary(0, BitConverter.GetBytes(i), pair.Now);
            pair.Net.RunFor(TimeSpan.FromMilliseconds(33));
        }
        pair.Net.LossRate = 0;
        pair.A.SendBinary(0, BitConverter.GetBytes(-1), pair.Now);
        Assert.True(pair.Run(() => pair.MessagesAtB.Any(m => BitConverter.ToInt32(m.Data) == -1)));
        var values = pair.MessagesAtB.Select(m => BitConverter.ToInt32(m.Data)).ToList();
        Assert.Equal(values.Count, values.Distinct().Count());
        if (ordered)
        {
            var body = values.Take(values.Count - 1).ToList();
            Assert.Equal(body.OrderBy(v => v), body);
        }
        Assert.True(pair.Net.A.Counters.MessagesAbandoned > 0);
    }

    [Fact]
    public void Association_close_closes_every_channel()
    {
        var pair = new Pair(39);
        pair.A.OpenChannel("x", default, pair.Now);
        pair.B.OpenChannel("y", default, pair.Now);
        Assert.True(pair.Run(() => pair.A.Channels.Count == 2 && pair.A.Channels.Values.All(c => c.State == DataChannelState.Open)));
        pair.A.Abort("bye", pair.Now);
        Assert.True(pair.Run(() => pair.EventsB.OfType<AssociationClosed>().Any()));
        Assert.Equal(2, pair.EventsA.OfType<ChannelClosed>().Count());
        Assert.Equal(2, pair.EventsB.OfType<ChannelClosed>().Count());
        Assert.Empty(pair.B.Channels);
    }
}
