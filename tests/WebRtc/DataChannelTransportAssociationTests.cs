using System.Text;
using TeleRehab.Media.Sctp;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>Two data channel transports wired back to back (what DTLS would carry, without DTLS) on a fake clock: the
/// association comes up, channels open from either side, messages of every size come back in order, the policy
/// refuses channels cleanly, size limits drop and count, and an abort closes every channel.</summary>
public sealed class DataChannelTransportAssociationTests
{
    private sealed class Pair
    {
        public readonly DataChannelTransport Server;
        public readonly DataChannelTransport Client;
        public readonly DataChannelRecorder ServerEvents;
        public readonly DataChannelRecorder ClientEvents;
        public readonly DataChannelStats Stats = new();
        private readonly Queue<byte[]> _toServer = new();
        private readonly Queue<byte[]> _toClient = new();
        public TimeSpan Now = TimeSpan.FromSeconds(1);

        public Pair(bool serverEchoes = true, long serverMax = 262144, long clientMax = 262144, Func<DataChannelOpenRequest, bool>? policy = null)
        {
            Server = new DataChannelTransport(new DataChannelParameters("0", 5000, 5000, serverMax, clientMax), isDtlsClient: false, Stats);
            Client = new DataChannelTransport(new DataChannelParameters("0", 5000, 5000, clientMax, serverMax), isDtlsClient: true, null);
            ServerEvents = new DataChannelRecorder(echo: serverEchoes);
            ClientEvents = new DataChannelRecorder();
            Server.Handler = ServerEvents;
            Client.Handler = ClientEvents;
            Server.Policy = policy;
            Server.Start(p => { _toClient.Enqueue(p.ToArray()); return true; }, 1200, Now);
            Client.Start(p => { _toServer.Enqueue(p.ToArray()); return true; }, 1200, Now);
            Run(TimeSpan.FromSeconds(1));
        }

        /// <summary>Delivers packets both ways and fires timers for <paramref name="duration"/> of fake time.</summary>
        public void Run(TimeSpan duration)
        {
            var end = Now + duration;
            while (true)
            {
                while (_toServer.Count > 0 || _toClient.Count > 0)
                {
                    Now += TimeSpan.FromMilliseconds(1);
                    while (_toServer.TryDequeue(out var p)) Server.HandlePacket(p, Now);
                    while (_toClient.TryDequeue(out var p)) Client.HandlePacket(p, Now);
                }
                var next = Min(Server.NextTimeout, Client.NextTimeout);
                if (next is not { } due || due > end) break;
                if (due > Now) Now = due;
                if (Server.NextTimeout <= Now) Server.HandleTimeout(Now);
                if (Client.NextTimeout <= Now) Client.HandleTimeout(Now);
            }
            if (end > Now) Now = end;
        }

        private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a < b ? a : b;
    }

    [Fact]
    public void The_association_comes_up_and_the_servers_channel_and_the_clients_channel_both_open()
    {
        var pair = new Pair();
        Assert.True(pair.Server.IsConnected);
        Assert.True(pair.Client.IsConnected);
        var ours = pair.Server.OpenChannel("from-server");
        Assert.NotNull(ours);
        Assert.Equal(1, ours.StreamId % 2); // the DTLS server opens on odd ids (RFC 8832 §6)
        var theirs = pair.Client.OpenChannel("from-client", new DataChannelOptions(Ordered: false, MaxRetransmits: 0));
        Assert.NotNull(theirs);
        Assert.Equal(0, theirs.StreamId % 2);
        pair.Run(TimeSpan.FromSeconds(1));
        Assert.Contains(pair.ClientEvents.Opened, c => c.Label == "from-server" && !c.IsLocallyOpened);
        Assert.Contains(pair.ServerEvents.Opened, c => c.Label == "from-client" && !c.Ordered);
        Assert.Equal(2, pair.Stats.ChannelsOpenedTotal);
    }

    [Fact]
    public void Messages_of_1_byte_to_64_KiB_come_back_from_an_echo_intact_and_in_order()
    {
        var pair = new Pair();
        var channel = pair.Client.OpenChannel("chat")!;
        var messages = DataChannelRecorder.TestMessages();
        foreach (var (data, text) in messages) Assert.Equal(DataChannelSendResult.Sent, pair.Client.Send(channel.StreamId, data, text));
        pair.Run(TimeSpan.FromSeconds(5));
        var back = pair.ClientEvents.Messages.ToArray();
        Assert.Equal(messages.Count, back.Length);
        for (var i = 0; i < messages.Count; i++)
        {
            Assert.Equal(messages[i].IsText, back[i].IsText);
            Assert.Equal(messages[i].Data, back[i].Data);
        }
        Assert.Equal(messages.Count, pair.Stats.MessagesReceivedTotal);
        Assert.Equal(messages.Count, pair.Stats.MessagesSentTotal);
        Assert.Equal(0, pair.Server.BufferedAmount);
    }

    [Fact]
    public void A_message_over_our_max_message_size_is_dropped_and_counted_and_the_channel_goes_on()
    {
        var pair = new Pair(serverMax: 64 * 1024, clientMax: 262144);
        var channel = pair.Client.OpenChannel("chat")!;
        pair.Client.EnforcePeerMaxMessageSize = false;
        Assert.Equal(DataChannelSendResult.Sent, pair.Client.Send(channel.StreamId, new byte[1_000_000], isText: false));
        Assert.Equal(DataChannelSendResult.Sent, pair.Client.Send(channel.StreamId, "after"u8, isText: true));
        pair.Run(TimeSpan.FromSeconds(10));
        Assert.Equal(1, pair.Server.MessagesDroppedTooLarge);
        Assert.Equal(1, pair.Stats.DroppedTooLargeTotal);
        var only = Assert.Single(pair.ClientEvents.Messages);
        Assert.Equal("after", Encoding.UTF8.GetString(only.Data));
        Assert.Equal(0, pair.Server.Association!.ReceiveBuffered);
    }

    [Fact]
    public void Send_refuses_a_message_over_the_peers_max_message_size_and_unknown_channels()
    {
        var pair = new Pair(serverMax: 262144, clientMax: 1024);
        var channel = pair.Server.OpenChannel("x")!;
        Assert.Equal(DataChannelSendResult.TooLarge, pair.Server.Send(channel.StreamId, new byte[1025], false));
        Assert.Equal(DataChannelSendResult.Sent, pair.Server.Send(channel.StreamId, new byte[1024], false));
        Assert.Equal(DataChannelSendResult.NoSuchChannel, pair.Server.Send(7, new byte[10], false));
        Assert.Equal(1, pair.Server.SendsDroppedTooLarge);
        Assert.Equal(1, pair.Stats.DroppedSendTooLargeTotal);
    }

    [Fact]
    public void A_channel_the_policy_refuses_is_closed_by_a_stream_reset_and_counted()
    {
        var pair = new Pair(policy: r => r.Label == "pose");
        var refused = pair.Client.OpenChannel("chat")!;
        var accepted = pair.Client.OpenChannel("pose")!;
        pair.Run(TimeSpan.FromSeconds(2));
        Assert.Equal(1, pair.Server.ChannelsRefused);
        Assert.Equal(1, pair.Stats.ChannelsRefusedTotal);
        Assert.Contains(pair.ClientEvents.Closed, c => c.StreamId == refused.StreamId);
        Assert.False(pair.Client.Channels.ContainsKey(refused.StreamId));
        Assert.Equal(DataChannelSendResult.Sent, pair.Client.Send(accepted.StreamId, "still here"u8, true));
        pair.Run(TimeSpan.FromSeconds(1));
        Assert.Equal("still here", Encoding.UTF8.GetString(Assert.Single(pair.ClientEvents.Messages).Data));
    }

    [Fact]
    public void Abort_closes_every_channel_on_both_sides()
    {
        var pair = new Pair();
        pair.Client.OpenChannel("a");
        pair.Server.OpenChannel("b");
        pair.Run(TimeSpan.FromSeconds(1));
        pair.Server.Abort("peer closed", pair.Now);
        pair.Run(TimeSpan.FromSeconds(1));
        Assert.False(pair.Server.IsConnected);
        Assert.False(pair.Client.IsConnected);
        Assert.Equal(2, pair.ServerEvents.Closed.Count);
        Assert.Equal(2, pair.ClientEvents.Closed.Count);
        Assert.Equal(DataChannelSendResult.NotConnected, pair.Server.Send(1, "x"u8, true));
    }
}
