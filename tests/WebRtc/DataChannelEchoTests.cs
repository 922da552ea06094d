using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>The data channel glue over real loopback sockets: our C# client offers a data channel to POST /api/echo and
/// sends DTLS application data. Valid SCTP packets reach the server's data channel transport; garbage and malformed
/// SCTP are dropped and counted; the peer's media keeps flowing; the server's packets reach the client's transport.</summary>
public sealed class DataChannelEchoTests : IAsyncLifetime
{
    private AppHost _host = null!;
    private readonly ClientWorker _worker = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private ushort _nextSequence = 1000;

    public async Task InitializeAsync() => _host = await AppHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _worker.Dispose();
    }

    private async Task<(WebRtcClient Client, EchoSession Echo)> ConnectAsync(bool dataChannel, DataChannelRecorder? events = null)
    {
        var client = new WebRtcClient(_worker.Worker, _certificate,
            new WebRtcClientOptions { Audio = true, Video = false, DataChannel = dataChannel, DataChannelHandler = events });
        var answer = await PostOfferAsync(_host, client.Offer);
        Assert.True(client.TryApplyAnswer(answer, out var error), error);
        await client.Connected.WaitAsync(TimeSpan.FromSeconds(20));
        var ufrag = SessionDescription.Parse(answer).Media[0].IceUfrag!;
        var echo = Assert.IsType<EchoSession>(_host.Media.FindPeer(ufrag));
        // The client is up once its side of the handshake is; the server's result reaches its worker a moment later.
        await WaitUntilAsync(() => echo.Connection.State == PeerConnectionState.Connected, "the server never connected");
        return (client, echo);
    }

    private static async Task<string> PostOfferAsync(AppHost host, string offer)
    {
        using var http = host.CreateClient();
        using var content = new StringContent(offer, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/sdp");
        using var response = await http.PostAsync("/api/echo?transport=udp", content);
        var answer = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {answer}");
        return answer;
    }

    /// <summary>Sends <paramref name="count"/> audio packets and waits until at least <paramref name="expected"/> more
    /// come back from the echo.</summary>
    private async Task AssertMediaFlowsAsync(WebRtcClient client, int count = 30, int expected = 20)
    {
        var before = client.RtpReceived;
        var pt = (byte)client.Session!.Media.First(m => m.Kind == "audio").Codecs[0].PayloadType;
        var buffer = new byte[200];
        for (var i = 0; i < count; i++)
        {
            // One continuous stream (SRTP's index estimate follows the sequence numbers, RFC 3711 §3.3.1).
            var seq = _nextSequence++;
            var header = new RtpHeaderWriter(buffer, pt, seq, 960u * seq, client.AudioSsrc, marker: false, csrcs: default).Finish();
            Encoding.ASCII.GetBytes("opus-frame").CopyTo(buffer, header);
            Assert.True(client.SendRtp(buffer.AsSpan(0, header + 10)));
            await Task.Delay(5);
        }
        await WaitUntilAsync(() => client.RtpReceived - before >= expected, "the echo stopped sending media back");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(what);
            await Task.Delay(20);
        }
    }

    /// <summary>Runs <paramref name="action"/> on the client's worker and waits for its result.</summary>
    private static async Task<T> OnWorkerAsync<T>(WebRtcClient client, Func<T> action)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Invoke(() =>
        {
            try { done.TrySetResult(action()); }
            catch (Exception ex) { done.TrySetException(ex); }
        });
        return await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task<(WebRtcClient Client, EchoSession Echo, DataChannelRecorder Events, DataChannelTransport Transport)> ConnectWithChannelsAsync()
    {
        var events = new DataChannelRecorder();
        var (client, echo) = await ConnectAsync(dataChannel: true, events);
        await WaitUntilAsync(() => events.IsConnected && echo.DataChannels!.IsConnected, "the SCTP association did not come up");
        return (client, echo, events, client.Connection!.DataChannels!);
    }

    [Fact]
    public async Task Garbage_and_malformed_sctp_are_dropped_and_counted_while_media_and_channels_flow()
    {
        var (client, echo, events, transport) = await ConnectWithChannelsAsync();
        await using var _ = client;
        var (bystander, bystanderEcho) = await ConnectAsync(dataChannel: false); // another echo peer on the same server
        await using var __ = bystander;
        var server = echo.DataChannels!;
        Assert.Equal(new DataChannelParameters("1", 5000, 5000, 262144, 262144), server.Parameters);
        await AssertMediaFlowsAsync(client);
        await AssertMediaFlowsAsync(bystander);
        var channel = await OnWorkerAsync(client, () => transport.OpenChannel("chat"));
        Assert.NotNull(channel);

        var badChecksum = DataChannelTransportTests.InitPacket();
        badChecksum[20] ^= 0xFF;
        byte[][] garbage =
        [
            "GET / HTTP/1.1\r\n\r\n"u8.ToArray(),
            [0],
            Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray(),
            badChecksum,
            DataChannelTransportTests.InitPacket(sourcePort: 1),
            DataChannelTransportTests.InitPacket()[..14],
        ];
        var associationDrops = server.Association!.Counters.BadPacketsDropped; // nothing bad was sent before this
        foreach (var record in garbage) Assert.True(client.SendApplicationData(record));
        // Valid SCTP packets (right ports and CRC32c) whose chunks are garbage, with a wrong or a zero verification tag.
        var chunkGarbage = GarbageChunkPackets().ToArray();
        foreach (var packet in chunkGarbage) Assert.True(client.SendApplicationData(packet));
        var layoutDrops = chunkGarbage.Count(p => DataChannelTransport.Check(p, server.Parameters) != DataChannelDrop.None);

        await WaitUntilAsync(() => server.PacketsDropped == garbage.Length + layoutDrops,
            $"the server's transport dropped {server.PacketsDropped} bad packets; received {server.PacketsReceived}, peer {echo.Connection.State} {echo.Connection.CloseReason}, unrouted {echo.Connection.UnroutedApplicationData}, client {client.Connection!.State}");
        Assert.Equal(4 + layoutDrops, server.MalformedPackets);
        Assert.Equal(1, server.BadChecksumPackets);
        Assert.Equal(1, server.WrongPortPackets);
        Assert.Equal(PeerConnectionState.Connected, echo.Connection.State);

        await AssertMediaFlowsAsync(client);
        await AssertMediaFlowsAsync(bystander);
        Assert.False(echo.IsClosed);
        Assert.False(bystanderEcho.IsClosed);
        Assert.True(server.IsConnected);
        await AssertEchoesAsync(client, transport, events, channel!.StreamId, "still alive after garbage");
        // The rest reached the association, which dropped them for their verification tag.
        Assert.True(server.Association.Counters.BadPacketsDropped >= associationDrops + chunkGarbage.Length - layoutDrops,
            $"the association dropped {server.Association.Counters.BadPacketsDropped - associationDrops} packets, expected {chunkGarbage.Length - layoutDrops}");
    }

    /// <summary>SCTP packets with a valid header and checksum and garbage chunks: unknown types of each high-bit
    /// action, a DATA too short, an ABORT without the T bit, under a tag that is not the association's.</summary>
    internal static IEnumerable<byte[]> GarbageChunkPackets()
    {
        byte[][] chunks =
        [
            [0x3F, 0, 0, 8, 1, 2, 3, 4],   // unknown, stop
            [0x7F, 0, 0, 8, 1, 2, 3, 4],   // unknown, stop and report
            [0xBF, 0, 0, 4],               // unknown, skip
            [0xFF, 0, 0, 6, 9, 9, 0, 0],   // unknown, skip and report
            [0, 3, 0, 8, 0, 0, 0, 1],      // DATA shorter than its header
            [6, 0, 0, 4],                  // ABORT
            [1, 0, 0, 200],                // a chunk longer than the packet
        ];
        foreach (uint tag in new uint[] { 0xDEADBEEF, 0 })
        {
            foreach (var chunk in chunks)
            {
                var packet = new byte[12 + chunk.Length];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(packet, 5000);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 5000);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), tag);
                chunk.CopyTo(packet, 12);
                TeleRehab.Media.Sctp.SctpPacket.WriteChecksum(packet);
                yield return packet;
            }
        }
    }

    private static async Task AssertEchoesAsync(WebRtcClient client, DataChannelTransport transport, DataChannelRecorder events, ushort streamId, string text)
    {
        var before = events.Messages.Count;
        var result = await OnWorkerAsync(client, () => transport.Send(streamId, Encoding.UTF8.GetBytes(text), isText: true));
        Assert.Equal(DataChannelSendResult.Sent, result);
        await WaitUntilAsync(() => events.Messages.Skip(before).Any(m => m.StreamId == streamId && m.IsText && Encoding.UTF8.GetString(m.Data) == text),
            $"the echo did not send back \"{text}\"");
    }

    [Fact]
    public async Task Messages_of_1_byte_to_64_KiB_come_back_from_the_echo_intact_and_in_order()
    {
        var (client, echo, events, transport) = await ConnectWithChannelsAsync();
        await using var _ = client;
        var channel = await OnWorkerAsync(client, () => transport.OpenChannel("chat"));
        Assert.NotNull(channel);
        var messages = DataChannelRecorder.TestMessages();
        foreach (var (data, text) in messages)
            Assert.Equal(DataChannelSendResult.Sent, await OnWorkerAsync(client, () => transport.Send(channel!.StreamId, data, text)));
        await WaitUntilAsync(() => events.Messages.Count(m => m.StreamId == channel!.StreamId) >= messages.Count, "not every message came back");
        var back = events.Messages.Where(m => m.StreamId == channel!.StreamId).ToArray();
        Assert.Equal(messages.Count, back.Length);
        for (var i = 0; i < messages.Count; i++)
        {
            Assert.Equal(messages[i].IsText, back[i].IsText);
            Assert.Equal(messages[i].Data, back[i].Data);
        }
        Assert.Equal(messages.Count, echo.DataChannels!.MessagesReceived);
        Assert.Equal(0, echo.DataChannelEchoFailures);
    }

    [Fact]
    public async Task The_echo_opens_a_channel_from_the_server_side_and_greets_on_it()
    {
        var (client, echo, events, transport) = await ConnectWithChannelsAsync();
        await using var _ = client;
        Assert.Empty(events.Opened); // the echo waits for the peer's first channel
        await OnWorkerAsync(client, () => transport.OpenChannel("chat"));
        await WaitUntilAsync(() => events.Opened.Any(c => c.Label == EchoSession.ServerChannelLabel), "the server's channel never opened");
        var opened = events.Opened.First(c => c.Label == EchoSession.ServerChannelLabel);
        Assert.False(opened.IsLocallyOpened);
        Assert.Equal(1, opened.StreamId % 2); // the echo is the DTLS server: odd ids (RFC 8832 §6)
        await WaitUntilAsync(() => events.Messages.Any(m => m.Label == EchoSession.ServerChannelLabel), "no greeting");
        Assert.Equal(EchoSession.ServerChannelGreeting, Encoding.UTF8.GetString(events.Messages.First(m => m.Label == EchoSession.ServerChannelLabel).Data));
        await AssertEchoesAsync(client, transport, events, opened.StreamId, "back on the server's channel");
    }

    [Fact]
    public async Task An_unknown_dcep_message_and_a_1_MB_message_are_dropped_and_counted_while_the_peer_stays_up()
    {
        var (client, echo, events, transport) = await ConnectWithChannelsAsync();
        await using var _ = client;
        var (bystander, _) = await ConnectAsync(dataChannel: false); // another peer on the same server
        await using var __ = bystander;
        await AssertMediaFlowsAsync(bystander);
        var server = echo.DataChannels!;
        var big = await OnWorkerAsync(client, () => transport.OpenChannel("big"));
        var other = await OnWorkerAsync(client, () => transport.OpenChannel("other"));
        await AssertEchoesAsync(client, transport, events, other!.StreamId, "before");
        var protocolDrops = server.ProtocolDrops;

        // DCEP (PPID 50) with a message type RFC 8832 §8.2.1 does not define.
        await OnWorkerAsync(client, () =>
        {
            var r = transport.Association!.Send(big!.StreamId, 50, [0x09, 1, 2, 3], TeleRehab.Media.Sctp.SctpSendOptions.Reliable, transport.Now);
            transport.HandleTimeout(transport.Now); // flushes the packet
            return r;
        });
        await WaitUntilAsync(() => server.ProtocolDrops == protocolDrops + 1, "the unknown DCEP message was not counted");

        // 1 MB: four times our a=max-message-size. The association takes it in (its window holds it), the transport drops it.
        transport.EnforcePeerMaxMessageSize = false;
        var huge = new byte[1_000_000];
        Random.Shared.NextBytes(huge);
        Assert.Equal(DataChannelSendResult.Sent, await OnWorkerAsync(client, () => transport.Send(big!.StreamId, huge, isText: false)));
        await WaitUntilAsync(() => server.MessagesDroppedTooLarge == 1, "the 1 MB message was not dropped");
        Assert.Equal(1, _host.Media.DataChannels.DroppedTooLargeTotal);
        Assert.DoesNotContain(events.Messages, m => m.Data.Length > 262144);

        await AssertEchoesAsync(client, transport, events, other.StreamId, "after");
        await AssertEchoesAsync(client, transport, events, big!.StreamId, "big channel after");
        await AssertMediaFlowsAsync(client);
        await AssertMediaFlowsAsync(bystander);
        Assert.False(echo.IsClosed);

        using var http = _host.CreateClient();
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("telerehab_datachannel_dropped_total{reason=\"too_large\"} 1", metrics);
        Assert.Contains("telerehab_datachannel_dropped_total{reason=\"protocol\"} 1", metrics);
        Assert.Contains("telerehab_datachannel_messages_total{direction=\"in\"} 3", metrics); // before, after, big channel after
        Assert.Contains("telerehab_datachannel_channels_total{result=\"opened\"}", metrics);
    }

    [Fact]
    public async Task Closing_the_peer_aborts_the_association_and_closes_its_channels()
    {
        var (client, echo, events, transport) = await ConnectWithChannelsAsync();
        await using var _ = client;
        var channel = await OnWorkerAsync(client, () => transport.OpenChannel("chat"));
        await AssertEchoesAsync(client, transport, events, channel!.StreamId, "hi");
        Assert.True(_host.Media.PostTo(echo, () => echo.Close("test closes the echo")));
        await WaitUntilAsync(() => !transport.IsConnected, "the client's association did not see the ABORT");
        await WaitUntilAsync(() => events.Closed.Any(c => c.StreamId == channel.StreamId), "the channel was not closed");
        Assert.False(echo.DataChannels!.IsConnected);
    }

    [Fact]
    public async Task Our_max_message_size_comes_from_the_settings_and_is_checked_at_start_up()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Media:DataChannelMaxMessageSize", "1024"));
        await using var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false, DataChannel = true });
        var data = Assert.Single(SessionDescription.Parse(await PostOfferAsync(host, client.Offer)).Media, m => m.Kind == "application");
        Assert.Equal(1024L, data.MaxMessageSize);

        var error = Assert.Throws<ArgumentException>(() => new TeleRehab.Media.Hosting.MediaServer(new TeleRehab.Media.Hosting.MediaServerOptions { DataChannelMaxMessageSize = -1 }));
        Assert.Contains("DataChannelMaxMessageSize", error.Message);
    }

    [Fact]
    public async Task Without_a_data_channel_section_application_data_is_dropped_and_media_flows()
    {
        var (client, echo) = await ConnectAsync(dataChannel: false);
        await using var _ = client;
        Assert.Null(echo.DataChannels);
        Assert.Null(client.Session!.DataChannel);
        Assert.True(client.SendApplicationData(DataChannelTransportTests.InitPacket()));
        Assert.True(client.SendApplicationData("noise"u8));
        await WaitUntilAsync(() => echo.Connection.UnroutedApplicationData == 2, "the application data did not arrive");
        await AssertMediaFlowsAsync(client);
    }
}
