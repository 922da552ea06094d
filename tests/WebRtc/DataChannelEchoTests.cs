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

    private async Task<(WebRtcClient Client, EchoSession Echo)> ConnectAsync(bool dataChannel)
    {
        var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Audio = true, Video = false, DataChannel = dataChannel });
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

    [Fact]
    public async Task Garbage_and_malformed_sctp_are_dropped_and_counted_while_media_flows()
    {
        var (client, echo) = await ConnectAsync(dataChannel: true);
        await using var _ = client;
        var server = echo.DataChannels!;
        Assert.NotNull(server);
        Assert.Equal(new DataChannelParameters("1", 5000, 5000, 262144, 262144), server.Parameters);
        Assert.NotNull(client.Connection!.DataChannels);
        await AssertMediaFlowsAsync(client);

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
        foreach (var record in garbage) Assert.True(client.SendApplicationData(record));
        Assert.True(client.SendApplicationData(DataChannelTransportTests.InitPacket()));

        await WaitUntilAsync(() => server.PacketsDropped == garbage.Length && server.PacketsReceived == 1,
            $"the server's transport saw {server.PacketsReceived} good and {server.PacketsDropped} bad packets");
        Assert.Equal(4, server.MalformedPackets);
        Assert.Equal(1, server.BadChecksumPackets);
        Assert.Equal(1, server.WrongPortPackets);
        Assert.Equal([(byte)1], server.RecentChunkTypes());
        Assert.Equal(PeerConnectionState.Connected, echo.Connection.State);

        await AssertMediaFlowsAsync(client);
        Assert.False(echo.IsClosed);
    }

    [Fact]
    public async Task The_servers_sctp_packets_reach_the_client_as_dtls_application_data()
    {
        var (client, echo) = await ConnectAsync(dataChannel: true);
        await using var _ = client;
        Assert.True(echo.DataChannels!.IsStarted);
        var sent = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(_host.Media.PostTo(echo, () => sent.TrySetResult(echo.DataChannels!.SendPacket(DataChannelTransportTests.InitPacket()))));
        Assert.True(await sent.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(echo.DataChannels!.MaxPacketSize > 1000);

        var received = client.Connection!.DataChannels!;
        await WaitUntilAsync(() => received.PacketsReceived == 1, "the client's transport got nothing");
        Assert.Equal(0, received.PacketsDropped);
        Assert.Equal([(byte)1], received.RecentChunkTypes());
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
