using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>The C# client stack against the C# server stack over real loopback sockets, through POST /api/echo.</summary>
public sealed class EchoClientTests : IAsyncLifetime
{
    private AppHost _host = null!;
    private readonly ClientWorker _worker = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();

    public async Task InitializeAsync() => _host = await AppHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _worker.Dispose();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostOfferAsync(string sdp, string query = "")
    {
        using var http = _host.CreateClient();
        using var content = new StringContent(sdp, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/sdp");
        using var response = await http.PostAsync($"/api/echo{query}", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Client_connects_and_gets_its_rtp_back_under_the_servers_ssrc()
    {
        await using var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = true, Audio = true });
        var (status, answer) = await PostOfferAsync(client.Offer, "?transport=udp");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Contains("a=ice-lite", answer);
        Assert.True(client.TryApplyAnswer(answer, out var error), error);

        await client.Connected.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(client.Connection!.SrtpProfile);

        var received = new List<(uint Ssrc, ushort Seq, byte[] Payload)>();
        var gotAll = new TaskCompletionSource();
        client.RtpReceivedHandler = packet =>
        {
            Assert.True(RtpPacketReader.TryParse(packet, out var rtp));
            lock (received)
            {
                received.Add((rtp.Ssrc, rtp.SequenceNumber, rtp.Payload.ToArray()));
                if (received.Count >= 40) gotAll.TrySetResult();
            }
        };

        var audioPt = (byte)client.Session!.Media.First(m => m.Kind == "audio").Codecs[0].PayloadType;
        var buffer = new byte[1200];
        for (var i = 0; i < 50; i++)
        {
            var writer = new RtpHeaderWriter(buffer, audioPt, (ushort)(1000 + i), (uint)(960 * i), client.AudioSsrc, marker: false, csrcs: default);
            var header = writer.Finish();
            var payload = Encoding.ASCII.GetBytes($"opus-frame-{i:D3}");
            payload.CopyTo(buffer, header);
            Assert.True(client.SendRtp(buffer.AsSpan(0, header + payload.Length)));
            await Task.Delay(10);
        }

        await gotAll.Task.WaitAsync(TimeSpan.FromSeconds(20));
        lock (received)
        {
            var serverAudioSsrc = client.Session.Media.First(m => m.Kind == "audio");
            Assert.All(received, r => Assert.NotEqual(client.AudioSsrc, r.Ssrc));
            Assert.Single(received.Select(r => r.Ssrc).Distinct());
            Assert.All(received, r => Assert.Equal($"opus-frame-{r.Seq - 1000:D3}", Encoding.ASCII.GetString(r.Payload)));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("not sdp at all")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio x UDP/TLS/RTP/SAVPF 111\r\n")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")]
    public async Task Bad_offers_get_400_with_a_reason(string offer)
    {
        var (status, body) = await PostOfferAsync(offer);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(string.IsNullOrWhiteSpace(body));
    }
}
