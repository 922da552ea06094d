using System.Buffers.Binary;
using TeleRehab.Media.Sctp;

namespace TeleRehab.Media.Tests.Sctp;

public class SctpAssociationTests
{
    internal static List<SctpChunkType> ChunkTypes(byte[] packet)
    {
        Assert.True(SctpPacket.TryParse(packet, out var parsed));
        var types = new List<SctpChunkType>();
        foreach (var chunk in parsed.Chunks) types.Add(chunk.Type);
        return types;
    }

    internal static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void One_sided_connect_establishes_both_ends()
    {
        var net = new SctpTestNetwork();
        Assert.True(net.Connect());
        Assert.Single(net.EventsA.OfType<SctpConnected>());
        Assert.Single(net.EventsB.OfType<SctpConnected>());
        Assert.True(net.A.PeerSupportsForwardTsn && net.A.PeerSupportsReConfig);
        Assert.True(net.B.PeerSupportsForwardTsn && net.B.PeerSupportsReConfig);
        Assert.Equal(65535, net.A.OutboundStreams);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Simultaneous_connect_establishes_one_association(int seed)
    {
        var net = new SctpTestNetwork(seed);
        Assert.True(net.Connect(simultaneous: true));
        Assert.Single(net.EventsA.OfType<SctpConnected>());
        Assert.Single(net.EventsB.OfType<SctpConnected>());
        // Data flows both ways on the collided association.
        Assert.Equal(SctpSendResult.Ok, net.A.Send(0, 51, "hello"u8, default, net.Now));
        Assert.Equal(SctpSendResult.Ok, net.B.Send(1, 51, "world"u8, default, net.Now));
        Assert.True(net.RunUntil(() => net.MessagesAtA.Any() && net.MessagesAtB.Any(), TimeSpan.FromSeconds(5)));
        Assert.Equal("hello"u8.ToArray(), net.MessagesAtB.Single().Payload);
        Assert.Equal("world"u8.ToArray(), net.MessagesAtA.Single().Payload);
    }

    [Fact]
    public void Init_is_retransmitted_with_backoff_and_gives_up_after_max_init_retransmits()
    {
        var net = new SctpTestNetwork();
        net.A.Connect(net.Now);
        var times = new List<TimeSpan>();
        net.Drop = (toB, packet) =>
        {
            if (toB) times.Add(net.Now);
            return true;
        };
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpClosed>().Any(), TimeSpan.FromMinutes(10)));
        Assert.Equal(SctpAssociationState.Closed, net.A.State);
        // The first INIT, then Max.Init.Retransmits = 8 retransmissions, T1 doubling from RTO.Initial.
        Assert.Equal(9, times.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), times[1] - times[0]);
        Assert.Equal(TimeSpan.FromSeconds(2), times[2] - times[1]);
        Assert.Equal(TimeSpan.FromSeconds(4), times[3] - times[2]);
        Assert.Equal(TimeSpan.FromSeconds(10), times[8] - times[7]); // RTO.Max
        Assert.Null(net.A.NextTimeout);
    }

    [Fact]
    public void Cookie_with_a_bad_mac_is_silently_discarded()
    {
        var net = new SctpTestNetwork();
        net.A.Connect(net.Now);
        net.RunUntil(() => net.A.State == SctpAssociationState.CookieEchoed, TimeSpan.FromSeconds(1));
        var toB = net.Intercept(toB: true);
        var echo = Assert.Single(toB);
        Assert.Equal(SctpChunkType.CookieEcho, ChunkTypes(echo)[0]);
        echo[SctpPacket.CommonHeaderSize + 4 + 50] ^= 0x01; // inside the MAC
        SctpPacket.WriteChecksum(echo);
        net.B.HandlePacket(echo, net.Now);
        Assert.Equal(SctpAssociationState.Closed, net.B.State);
        Assert.Equal(1, net.B.Counters.InvalidCookies);
        Assert.False(net.B.TryPollTransmit(new byte[1500], out _));
        // The unaltered cookie, retransmitted by T1-cookie, still works: no state was kept by the bad one.
        Assert.True(net.RunUntil(() => net.B.State == SctpAssociationState.Established && net.A.State == SctpAssociationState.Established,
            TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Expired_cookie_is_answered_with_a_stale_cookie_error()
    {
        var t0 = TimeSpan.FromSeconds(5);
        var a = new SctpAssociation(new SctpAssociationOptions { Random = new Random(1) });
        var b = new SctpAssociation(new SctpAssociationOptions { Random = new Random(2) });
        var buffer = new byte[1500];
        a.Connect(t0);
        Assert.True(a.TryPollTransmit(buffer, out int n));
        b.HandlePacket(buffer.AsSpan(0, n), t0);
        Assert.True(b.TryPollTransmit(buffer, out n));
        var later = t0 + TimeSpan.FromSeconds(61);
        a.HandlePacket(buffer.AsSpan(0, n), later);
        Assert.True(a.TryPollTransmit(buffer, out n));
        b.HandlePacket(buffer.AsSpan(0, n), later);
        Assert.Equal(SctpAssociationState.Closed, b.State);
        Assert.Equal(1, b.Counters.StaleCookies);
        Assert.True(b.TryPollTransmit(buffer, out n));
        var error = buffer.AsSpan(0, n).ToArray();
        Assert.Equal([SctpChunkType.Error], ChunkTypes(error));
        Assert.True(SctpPacket.TryParse(error, out var parsed));
        parsed.Chunks.TryReadNext(out var chunk);
        Assert.True(OperationError.TryParse(chunk, out var op));
        Assert.True(SctpErrorCause.TryRead(op.ErrorCauses, out var cause, out _));
        Assert.Equal(SctpErrorCauseCode.StaleCookie, cause.Code);
        Assert.Equal(1_000_000u, BinaryPrimitives.ReadUInt32BigEndian(cause.Information)); // 1 s past the 60 s life, in µs

        // §5.2.6: the initiator starts over with a fresh INIT, and this time the handshake completes.
        a.HandlePacket(error, later);
        Assert.Equal(SctpAssociationState.CookieWait, a.State);
        for (int i = 0; i < 10 && !(a.State == SctpAssociationState.Established && b.State == SctpAssociationState.Established); i++)
        {
            while (a.TryPollTransmit(buffer, out n)) b.HandlePacket(buffer.AsSpan(0, n), later);
            while (b.TryPollTransmit(buffer, out n)) a.HandlePacket(buffer.AsSpan(0, n), later);
        }
        Assert.Equal(SctpAssociationState.Established, a.State);
        Assert.Equal(SctpAssociationState.Established, b.State);
    }

    [Theory]
    [InlineData(65536)]
    [InlineData(262144)]
    public void Large_messages_are_fragmented_and_reassembled_intact(int size)
    {
        var net = new SctpTestNetwork();
        Assert.True(net.Connect());
        var message = Pattern(size, size);
        Assert.Equal(SctpSendResult.Ok, net.A.Send(3, 53, message, default, net.Now));
        Assert.Equal(SctpSendResult.TooLarge, net.A.Send(3, 53, new byte[262145], default, net.Now));
        Assert.True(net.RunUntil(() => net.MessagesAtB.Any(), TimeSpan.FromSeconds(30)));
        var received = net.MessagesAtB.Single();
        Assert.Equal(3, received.StreamId);
        Assert.Equal(53u, received.PayloadProtocol);
        Assert.Equal(message, received.Payload);
        Assert.True(net.A.Counters.DataChunksSent >= size / 1200);
        Assert.True(net.RunUntil(() => net.A.BufferedAmount == 0, TimeSpan.FromSeconds(5)));
        Assert.Equal(0, net.B.ReceiveBuffered);
    }

    [Fact]
    public void Packets_never_exceed_the_mtu()
    {
        var net = new SctpTestNetwork();
        int largest = 0;
        net.Drop = (_, p) =>
        {
            largest = Math.Max(largest, p.Length);
            return false;
        };
        Assert.True(net.Connect());
        net.A.Send(0, 53, Pattern(100_000, 1), default, net.Now);
        for (int i = 0; i < 50; i++) net.A.Send(1, 51, Pattern(i + 1, i), default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 51, TimeSpan.FromSeconds(30)));
        Assert.True(largest <= 1200, $"largest packet {largest}");
    }

    [Fact]
    public void Tsn_wraps_around_2_to_the_32()
    {
        var net = new SctpTestNetwork(4,
            new SctpAssociationOptions { Random = new Random(1), InitialTsn = 0xFFFFFFF0 },
            new SctpAssociationOptions { Random = new Random(2), InitialTsn = 0xFFFFFFFA });
        net.LossRate = 0.1;
        Assert.True(net.Connect(simultaneous: true));
        for (int i = 0; i < 100; i++)
        {
            net.A.Send(1, 53, Pattern(1500, i), default, net.Now);
            net.B.Send(2, 53, Pattern(700, i), default, net.Now);
        }
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 100 && net.MessagesAtA.Count() == 100, TimeSpan.FromSeconds(120)));
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(Pattern(1500, i), net.MessagesAtB.ElementAt(i).Payload);
            Assert.Equal(Pattern(700, i), net.MessagesAtA.ElementAt(i).Payload);
        }
    }

    [Fact]
    public void Lost_packet_is_recovered_by_fast_retransmit()
    {
        var net = new SctpTestNetwork();
        Assert.True(net.Connect());
        bool dropped = false;
        net.Drop = (toB, p) =>
        {
            if (!toB || dropped || !ChunkTypes(p).Contains(SctpChunkType.Data)) return false;
            dropped = true;
            return true;
        };
        for (int i = 0; i < 10; i++) net.A.Send(0, 53, Pattern(1000, i), default, net.Now);
        // Later sends keep the SACKs with gaps coming.
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 10, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, net.A.Counters.FastRetransmissions);
        Assert.Equal(0, net.A.Counters.T3Expirations);
        for (int i = 0; i < 10; i++) Assert.Equal(Pattern(1000, i), net.MessagesAtB.ElementAt(i).Payload);
    }

    [Fact]
    public void Lost_packet_is_recovered_by_t3_rtx_with_backoff()
    {
        var net = new SctpTestNetwork();
        Assert.True(net.Connect());
        var dataTimes = new List<TimeSpan>();
        net.Drop = (toB, p) =>
        {
            if (!toB || !ChunkTypes(p).Contains(SctpChunkType.Data)) return false;
            dataTimes.Add(net.Now);
            return dataTimes.Count <= 3; // the first send and two retransmissions are lost
        };
        var rtoBefore = net.A.Rto;
        net.A.Send(0, 51, "one"u8, default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Any(), TimeSpan.FromSeconds(30)));
        Assert.Equal(3, net.A.Counters.T3Expirations);
        Assert.Equal(4, dataTimes.Count);
        var first = dataTimes[1] - dataTimes[0];
        Assert.Equal(rtoBefore, first);
        Assert.Equal(first * 2, dataTimes[2] - dataTimes[1]);
        Assert.Equal(first * 4, dataTimes[3] - dataTimes[2]);
        Assert.Equal(SctpAssociationState.Established, net.A.State);
    }

    [Fact]
    public void Odd_sized_chunks_are_bundled_within_an_odd_mtu()
    {
        // Chunks whose length is not a multiple of 4 are padded on the wire; bundling must count the padding,
        // also when the MTU (or the caller's buffer) is not a multiple of 4.
        for (int seed = 0; seed < 20; seed++)
        {
            var net = new SctpTestNetwork(seed,
                new SctpAssociationOptions { Random = new Random(seed), Mtu = 1199 },
                new SctpAssociationOptions { Random = new Random(seed + 100), Mtu = 1199 });
            Assert.True(net.Connect());
            var random = new Random(seed);
            var sizes = Enumerable.Range(0, 80).Select(_ => random.Next(1, 300)).ToList();
            net.LossRate = 1.0;
            for (int i = 0; i < sizes.Count; i++) net.A.Send(0, 53, Pattern(sizes[i], i), default, net.Now);
            net.RunFor(TimeSpan.FromMilliseconds(1500));
            net.LossRate = 0.2;
            Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == sizes.Count, TimeSpan.FromSeconds(120)), $"seed {seed}");
            for (int i = 0; i < sizes.Count; i++) Assert.Equal(Pattern(sizes[i], i), net.MessagesAtB.ElementAt(i).Payload);
        }
    }

    [Fact]
    public void Association_fails_after_max_retransmissions()
    {
        var net = new SctpTestNetwork();
        Assert.True(net.Connect());
        net.LossRate = 1.0;
        net.A.Send(0, 51, "lost"u8, default, net.Now);
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpClosed>().Any(), TimeSpan.FromMinutes(5)));
        var closed = net.EventsA.OfType<SctpClosed>().Single();
        Assert.False(closed.Graceful);
        Assert.Equal(11, net.A.Counters.T3Expirations); // Association.Max.Retrans = 10, failure on the 11th
        Assert.Equal(SctpAssociationState.Closed, net.A.State);
        Assert.Equal(SctpSendResult.NotEstablished, net.A.Send(0, 51, "x"u8, default, net.Now));
    }

    [Fact]
    public void Idle_association_sends_heartbeats_and_fails_when_they_go_unanswered()
    {
        var net = new SctpTestNetwork();
        Assert.True(net.Connect());
        net.RunFor(TimeSpan.FromSeconds(70));
        Assert.True(net.A.Counters.HeartbeatsSent >= 1);
        Assert.Equal(SctpAssociationState.Established, net.A.State);
        Assert.Empty(net.EventsA.OfType<SctpClosed>());
        net.LossRate = 1.0;
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpClosed>().Any(), TimeSpan.FromMinutes(10)));
    }

    [Fact]
    public void Unreliable_messages_with_no_retransmissions_are_skipped_with_forward_tsn_on_ordered_and_unordered_streams()
    {
        var net = new SctpTestNetwork(5) { LossRate = 0.3 };
        Assert.True(net.Connect());
        var none = new SctpSendOptions(MaxRetransmits: 0);
        var unorderedNone = new SctpSendOptions(Unordered: true, MaxRetransmits: 0);
        for (int i = 0; i < 200; i++)
        {
            net.A.Send(1, 53, BitConverter.GetBytes(i), none, net.Now);
            net.A.Send(2, 53, BitConverter.GetBytes(i), unorderedNone, net.Now);
            net.RunFor(TimeSpan.FromMilliseconds(20));
        }
        net.LossRate = 0;
        net.A.Send(1, 53, BitConverter.GetBytes(1000), none, net.Now);
        net.A.Send(2, 53, BitConverter.GetBytes(1000), unorderedNone, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count(m => BitConverter.ToInt32(m.Payload) == 1000) == 2, TimeSpan.FromSeconds(30)));
        Assert.True(net.A.Counters.MessagesAbandoned > 0);
        Assert.True(net.A.Counters.ForwardTsnsSent > 0);
        Assert.True(net.B.Counters.ForwardTsnsReceived > 0);
        var ordered = net.MessagesAtB.Where(m => m.StreamId == 1).Select(m => BitConverter.ToInt32(m.Payload)).ToList();
        Assert.Equal(ordered.OrderBy(x => x), ordered); // in order, with holes
        Assert.Equal(ordered.Distinct().Count(), ordered.Count);
        var unordered = net.MessagesAtB.Where(m => m.StreamId == 2).Select(m => BitConverter.ToInt32(m.Payload)).ToList();
        Assert.Equal(unordered.Distinct().Count(), unordered.Count);
        Assert.True(ordered.Count < 201 && ordered.Count > 50);
        // Nothing left behind: all buffers drain.
        Assert.True(net.RunUntil(() => net.A.BufferedAmount == 0, TimeSpan.FromSeconds(30)));
        Assert.Equal(0, net.B.ReceiveBuffered);
    }

    [Fact]
    public void Forward_tsn_for_more_ordered_streams_than_fit_in_a_packet_is_sent_in_parts()
    {
        var net = new SctpTestNetwork(20);
        Assert.True(net.Connect());
        net.LossRate = 1.0;
        var none = new SctpSendOptions(MaxRetransmits: 0);
        for (int i = 0; i < 400; i++) net.A.Send((ushort)i, 51, "x"u8, none, net.Now); // 400 ordered streams, all lost
        net.RunFor(TimeSpan.FromSeconds(3));
        net.LossRate = 0;
        for (int i = 0; i < 400; i++) net.A.Send((ushort)i, 51, "y"u8, none, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 400, TimeSpan.FromSeconds(30)));
        Assert.All(net.MessagesAtB, m => Assert.Equal("y"u8.ToArray(), m.Payload));
        Assert.True(net.A.Counters.ForwardTsnsSent >= 2);
        Assert.True(net.RunUntil(() => net.A.BufferedAmount == 0, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Fragmented_unreliable_message_is_abandoned_whole_and_the_stream_moves_on()
    {
        var net = new SctpTestNetwork(6);
        Assert.True(net.Connect());
        int dataPackets = 0;
        net.Drop = (toB, p) => toB && ChunkTypes(p).Contains(SctpChunkType.Data) && ++dataPackets == 2; // lose one fragment
        var options = new SctpSendOptions(MaxRetransmits: 0);
        net.A.Send(1, 53, Pattern(10_000, 1), options, net.Now);
        net.A.Send(1, 53, Pattern(3000, 2), options, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Any(), TimeSpan.FromSeconds(10)));
        var received = Assert.Single(net.MessagesAtB);
        Assert.Equal(Pattern(3000, 2), received.Payload);
        Assert.Equal(1, net.A.Counters.MessagesAbandoned);
        Assert.True(net.RunUntil(() => net.A.BufferedAmount == 0, TimeSpan.FromSeconds(10)));
        Assert.Equal(0, net.B.ReceiveBuffered);
    }

    [Fact]
    public void Message_past_its_lifetime_is_abandoned()
    {
        var net = new SctpTestNetwork(7);
        Assert.True(net.Connect());
        net.LossRate = 1.0;
        var timed = new SctpSendOptions(MaxPacketLifetime: TimeSpan.FromMilliseconds(500));
        net.A.Send(4, 51, "stale soon"u8, timed, net.Now);
        net.RunFor(TimeSpan.FromSeconds(3));
        net.LossRate = 0;
        net.A.Send(4, 51, "fresh"u8, timed, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Any(), TimeSpan.FromSeconds(10)));
        Assert.Equal("fresh"u8.ToArray(), Assert.Single(net.MessagesAtB).Payload);
        Assert.Equal(1, net.A.Counters.MessagesAbandoned);
    }

    [Fact]
    public void Message_queued_past_its_lifetime_is_never_sent()
    {
        var a = new SctpTestNetwork(8);
        Assert.True(a.Connect());
        // Its lifetime ends before the next poll.
        a.A.Send(4, 51, "late"u8, new SctpSendOptions(MaxPacketLifetime: TimeSpan.FromMilliseconds(1)), a.Now - TimeSpan.FromSeconds(1));
        a.A.Send(4, 51, "ok"u8, default, a.Now);
        Assert.True(a.RunUntil(() => a.MessagesAtB.Any(), TimeSpan.FromSeconds(5)));
        Assert.Equal("ok"u8.ToArray(), Assert.Single(a.MessagesAtB).Payload);
        Assert.Equal(1, a.A.Counters.MessagesAbandoned);
        Assert.True(a.RunUntil(() => a.A.BufferedAmount == 0, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Streams_are_reset_in_both_directions_and_ssns_restart()
    {
        var net = new SctpTestNetwork(9);
        Assert.True(net.Connect());
        for (int i = 0; i < 3; i++) net.A.Send(1, 51, "a"u8, default, net.Now);
        net.A.ResetStreams([1], net.Now);
        Assert.True(net.RunUntil(() => net.EventsB.OfType<SctpStreamsReset>().Any(), TimeSpan.FromSeconds(5)));
        Assert.Equal(3, net.MessagesAtB.Count()); // queued data went first
        Assert.Equal([(ushort)1], net.EventsB.OfType<SctpStreamsReset>().Single().StreamIds);
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpOutgoingStreamsReset>().Any(), TimeSpan.FromSeconds(5)));
        // The stream is used again from SSN 0.
        net.A.Send(1, 51, "again"u8, default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 4, TimeSpan.FromSeconds(5)));
        Assert.Equal("again"u8.ToArray(), net.MessagesAtB.Last().Payload);

        net.B.Send(1, 51, "b"u8, default, net.Now);
        net.B.ResetStreams([1, 7], net.Now);
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpStreamsReset>().Any() && net.EventsB.OfType<SctpOutgoingStreamsReset>().Any(),
            TimeSpan.FromSeconds(5)));
        Assert.Equal([(ushort)1, (ushort)7], net.EventsA.OfType<SctpStreamsReset>().Single().StreamIds);
        net.B.Send(1, 51, "b2"u8, default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtA.Count() == 2, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Resetting_more_streams_than_fit_in_one_packet_takes_several_requests()
    {
        var net = new SctpTestNetwork(19);
        Assert.True(net.Connect());
        var streams = Enumerable.Range(0, 2000).Select(i => (ushort)i).ToArray();
        net.A.ResetStreams(streams, net.Now);
        Assert.True(net.RunUntil(() => net.EventsB.OfType<SctpStreamsReset>().Sum(e => e.StreamIds.Length) == 2000
            && net.EventsA.OfType<SctpOutgoingStreamsReset>().Sum(e => e.StreamIds.Length) == 2000, TimeSpan.FromSeconds(10)));
        Assert.True(net.EventsB.OfType<SctpStreamsReset>().Count() >= 4);
        Assert.Equal(streams, net.EventsA.OfType<SctpOutgoingStreamsReset>().SelectMany(e => e.StreamIds).Order().ToArray());
    }

    [Fact]
    public void Stream_reset_request_is_retransmitted_when_lost()
    {
        var net = new SctpTestNetwork(10);
        Assert.True(net.Connect());
        int reconfigs = 0;
        net.Drop = (toB, p) => toB && ChunkTypes(p).Contains(SctpChunkType.ReConfig) && ++reconfigs == 1;
        net.A.ResetStreams([2], net.Now);
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpOutgoingStreamsReset>().Any(), TimeSpan.FromSeconds(10)));
        Assert.Equal(2, reconfigs);
        Assert.Single(net.EventsB.OfType<SctpStreamsReset>());
    }

    [Fact]
    public void Peer_reset_waits_for_the_last_assigned_tsn_and_answers_in_progress()
    {
        // Drive B by hand: A's reset request arrives before a DATA chunk that precedes it.
        var net = new SctpTestNetwork(11);
        Assert.True(net.Connect());
        var held = new List<byte[]>();
        net.Drop = (toB, p) =>
        {
            if (toB && ChunkTypes(p).Contains(SctpChunkType.Data) && held.Count == 0)
            {
                held.Add(p);
                return true;
            }
            return false;
        };
        net.A.Send(3, 51, "before reset"u8, default, net.Now);
        net.Pump();
        // A would wait for the ack before sending its request, so play the peer's request by hand.
        Assert.Single(held);
        Assert.True(SctpPacket.TryParse(held[0], out var dataPacket));
        uint tag = dataPacket.VerificationTag;
        dataPacket.Chunks.TryReadNext(out var dataChunk);
        Assert.True(PayloadData.TryParse(dataChunk, out var data));
        uint lastTsn = data.Tsn;
        // The request sequence number must be A's initial TSN, which is the TSN of A's first DATA chunk.
        var request = new OutgoingSsnResetRequest(lastTsn, 0, lastTsn, (ReadOnlySpan<SctpStreamId>)[new SctpStreamId(3)]);
        var parameter = new byte[request.GetSerializedLength()];
        request.WriteTo(parameter);
        var packet = new byte[256];
        var writer = new SctpPacketWriter(packet, 5000, 5000, tag);
        writer.Append(new ReConfig(parameter));
        int length = writer.Finish();
        net.B.HandlePacket(packet.AsSpan(0, length), net.Now);
        Assert.Empty(net.EventsB.OfType<SctpStreamsReset>());
        var responses = ResponsesFrom(net.B);
        Assert.Equal([ReconfigurationResult.InProgress], responses);
        // Now the data arrives: B delivers it, then performs the reset and says so.
        net.B.HandlePacket(held[0], net.Now);
        net.Pump();
        Assert.Single(net.EventsB.OfType<SctpMessageReceived>());
        Assert.Single(net.EventsB.OfType<SctpStreamsReset>());
        // A retransmission of the same request is answered with the result.
        net.B.HandlePacket(packet.AsSpan(0, length), net.Now);
        Assert.Contains(ReconfigurationResult.SuccessPerformed, ResponsesFrom(net.B));
        Assert.Single(net.EventsB.OfType<SctpStreamsReset>());
    }

    private static List<ReconfigurationResult> ResponsesFrom(SctpAssociation association)
    {
        var results = new List<ReconfigurationResult>();
        var buffer = new byte[1500];
        while (association.TryPollTransmit(buffer, out int n))
        {
            Assert.True(SctpPacket.TryParse(buffer.AsSpan(0, n), out var parsed));
            foreach (var chunk in parsed.Chunks)
            {
                if (chunk.Type != SctpChunkType.ReConfig) continue;
                Assert.True(ReConfig.TryParse(chunk, out var rc));
                if (ReconfigurationResponse.TryParse(rc.First, out var response)) results.Add(response.Result);
            }
        }
        return results;
    }

    [Fact]
    public void Shutdown_delivers_queued_data_first_then_closes_both_sides_gracefully()
    {
        var net = new SctpTestNetwork(12) { LossRate = 0.1 };
        Assert.True(net.Connect());
        for (int i = 0; i < 20; i++) net.A.Send(0, 53, Pattern(3000, i), default, net.Now);
        net.A.Shutdown(net.Now);
        Assert.Equal(SctpSendResult.NotEstablished, net.A.Send(0, 53, "late"u8, default, net.Now));
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpClosed>().Any() && net.EventsB.OfType<SctpClosed>().Any(), TimeSpan.FromSeconds(60)));
        Assert.Equal(20, net.MessagesAtB.Count());
        Assert.True(net.EventsA.OfType<SctpClosed>().Single().Graceful);
        Assert.True(net.EventsB.OfType<SctpClosed>().Single().Graceful);
        Assert.Equal(SctpAssociationState.Closed, net.A.State);
        Assert.Equal(SctpAssociationState.Closed, net.B.State);
        Assert.Null(net.A.NextTimeout);
        Assert.Null(net.B.NextTimeout);
    }

    [Fact]
    public void Lost_shutdown_complete_is_answered_again_after_close()
    {
        var net = new SctpTestNetwork(15);
        Assert.True(net.Connect());
        int completes = 0;
        net.Drop = (toB, p) => ChunkTypes(p).Contains(SctpChunkType.ShutdownComplete) && ++completes == 1;
        net.B.Shutdown(net.Now);
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpClosed>().Any() && net.EventsB.OfType<SctpClosed>().Any(), TimeSpan.FromSeconds(30)));
        Assert.Equal(2, completes); // the second one, with the T bit, came from the closed side (§8.4)
        Assert.True(net.EventsA.OfType<SctpClosed>().Single().Graceful);
        Assert.True(net.EventsB.OfType<SctpClosed>().Single().Graceful);
    }

    [Fact]
    public void Shutdown_from_both_sides_at_once_completes()
    {
        var net = new SctpTestNetwork(16);
        Assert.True(net.Connect());
        net.A.Shutdown(net.Now);
        net.B.Shutdown(net.Now);
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpClosed>().Any() && net.EventsB.OfType<SctpClosed>().Any(), TimeSpan.FromSeconds(30)));
        Assert.True(net.EventsA.OfType<SctpClosed>().Single().Graceful);
        Assert.True(net.EventsB.OfType<SctpClosed>().Single().Graceful);
    }

    [Fact]
    public void Abort_closes_both_sides_with_the_reason()
    {
        var net = new SctpTestNetwork(13);
        Assert.True(net.Connect());
        net.B.Abort("session ended", net.Now);
        Assert.Equal(SctpAssociationState.Closed, net.B.State);
        Assert.True(net.RunUntil(() => net.EventsA.OfType<SctpClosed>().Any(), TimeSpan.FromSeconds(1)));
        var closed = net.EventsA.OfType<SctpClosed>().Single();
        Assert.Contains("session ended", closed.Reason);
        Assert.False(closed.Graceful);
        Assert.Equal(SctpAssociationState.Closed, net.A.State);
    }

    [Fact]
    public void Messages_sent_while_connecting_go_out_once_established()
    {
        var net = new SctpTestNetwork(17);
        net.A.Connect(net.Now);
        Assert.Equal(SctpSendResult.Ok, net.A.Send(0, 51, "early"u8, default, net.Now));
        Assert.Equal(SctpSendResult.NotEstablished, net.B.Send(0, 51, "closed"u8, default, net.Now));
        Assert.True(net.RunUntil(() => net.MessagesAtB.Any(), TimeSpan.FromSeconds(5)));
        Assert.Equal("early"u8.ToArray(), net.MessagesAtB.Single().Payload);
        Assert.Equal(SctpSendResult.TooLarge, net.A.Send(0, 51, ReadOnlySpan<byte>.Empty, default, net.Now));
    }

    [Fact]
    public void Data_on_a_stream_beyond_the_negotiated_count_is_acknowledged_and_reported()
    {
        var net = new SctpTestNetwork(18, optionsB: new SctpAssociationOptions { Random = new Random(9), InboundStreams = 16 });
        Assert.True(net.Connect());
        Assert.Equal(16, net.A.OutboundStreams);
        Assert.Equal(SctpSendResult.InvalidStream, net.A.Send(16, 51, "x"u8, default, net.Now));
        // Play a DATA on stream 20 by hand from A's side.
        var errors = new List<byte[]>();
        var (tag, tsn) = (0u, 0u);
        net.Drop = (toB, p) =>
        {
            if (!toB && ChunkTypes(p).Contains(SctpChunkType.Error)) errors.Add(p);
            if (toB && ChunkTypes(p).Contains(SctpChunkType.Data))
            {
                Assert.True(SctpPacket.TryParse(p, out var parsed));
                parsed.Chunks.TryReadNext(out var c);
                PayloadData.TryParse(c, out var d);
                (tag, tsn) = (parsed.VerificationTag, d.Tsn);
            }
            return false;
        };
        net.A.Send(1, 51, "ok"u8, default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Any(), TimeSpan.FromSeconds(2)));
        net.RunFor(TimeSpan.FromSeconds(1));
        var forged = new byte[64];
        var writer = new SctpPacketWriter(forged, 5000, 5000, tag);
        writer.Append(new PayloadData(DataChunkFlags.Complete, tsn + 1, 20, 0, 51, "bad stream"u8));
        int n = writer.Finish();
        net.B.HandlePacket(forged.AsSpan(0, n), net.Now);
        net.RunFor(TimeSpan.FromSeconds(1));
        var error = Assert.Single(errors);
        Assert.True(SctpPacket.TryParse(error, out var errorPacket));
        foreach (var chunk in errorPacket.Chunks)
        {
            if (!OperationError.TryParse(chunk, out var op)) continue;
            Assert.True(SctpErrorCause.TryRead(op.ErrorCauses, out var cause, out _));
            Assert.Equal(SctpErrorCauseCode.InvalidStreamIdentifier, cause.Code);
            Assert.Equal(20, BinaryPrimitives.ReadUInt16BigEndian(cause.Information));
        }
        Assert.Single(net.MessagesAtB);
    }

    [Fact]
    public void Zero_window_is_probed_and_transfer_resumes()
    {
        var small = new SctpAssociationOptions { Random = new Random(3), ReceiveWindow = 8000, MaxMessageSize = 4000, SendBufferSize = 1 << 20 };
        var net = new SctpTestNetwork(14, optionsB: small);
        Assert.True(net.Connect());
        for (int i = 0; i < 60; i++) Assert.Equal(SctpSendResult.Ok, net.A.Send((ushort)(i % 2), 53, Pattern(3000, i), default, net.Now));
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == 60, TimeSpan.FromSeconds(60)));
        Assert.True(net.B.ReceiveBuffered == 0);
    }
}
