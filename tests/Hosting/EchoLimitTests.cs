using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>The connection check's limits (duration, concurrency, rate) and its answers to bad requests.</summary>
[Collection(HostingCollection.Name)]
public sealed class EchoLimitTests : IDisposable
{
    private readonly ClientWorker _worker = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();

    public void Dispose() => _worker.Dispose();

    [Fact]
    public async Task Peer_is_closed_when_the_maximum_duration_is_reached()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Echo:MaxDurationSeconds", "2"));
        var (client, _) = await host.ConnectEchoAsync(_worker.Worker, _certificate);
        await using (client)
        {
            Assert.True(await client.EchoesAsync(TimeSpan.FromSeconds(10)) || client.Closed.IsCompleted);
            var reason = await client.Closed.WaitAsync(HostingTestKit.Generous);
            Assert.False(string.IsNullOrEmpty(reason));
            Assert.True(await HostingTestKit.WaitUntilAsync(() => host.Media.PeerCount == 0 && host.Echo().ActivePeers == 0),
                $"PeerCount={host.Media.PeerCount}, ActivePeers={host.Echo().ActivePeers}");
        }
    }

    [Fact]
    public async Task Second_concurrent_offer_gets_503_until_the_first_peer_is_closed()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Echo:MaxConcurrentPeers", "1"));
        var (first, _) = await host.ConnectEchoAsync(_worker.Worker, _certificate);
        await using (first)
        {
            await using var second = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false });
            var (status, body) = await host.PostOfferAsync(second.Offer, "?transport=udp");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("limit", body);
            Assert.Equal(1, host.Echo().ActivePeers);

            first.Close("test done with the first peer");
            await first.Closed.WaitAsync(HostingTestKit.Generous);
            Assert.True(await HostingTestKit.WaitUntilAsync(() => host.Media.PeerCount == 0 && host.Echo().ActivePeers == 0));
        }

        var (third, _) = await host.ConnectEchoAsync(_worker.Worker, _certificate);
        await using (third)
        {
            Assert.True(await third.EchoesAsync());
        }
    }

    [Fact]
    public async Task Third_offer_within_a_minute_from_one_address_gets_429()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Echo:RequestsPerMinutePerAddress", "2"));
        var statuses = new List<HttpStatusCode>();
        string lastBody = "";
        for (var i = 0; i < 3; i++)
        {
            await using var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false });
            (var status, lastBody) = await host.PostOfferAsync(client.Offer);
            statuses.Add(status);
        }
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests], statuses);
        Assert.False(string.IsNullOrWhiteSpace(lastBody));
    }

    [Fact]
    public async Task Bad_requests_get_4xx_with_a_reason_never_500()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Echo:RequestsPerMinutePerAddress", "1000"));
        await using var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false });
        using var http = host.CreateClient();

        async Task Expect(HttpStatusCode expected, Func<Task<HttpResponseMessage>> send)
        {
            using var response = await send();
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
            Assert.False(string.IsNullOrWhiteSpace(body));
        }

        HttpContent Sdp(string text, string? type = "application/sdp")
        {
            var content = new StringContent(text, Encoding.UTF8);
            content.Headers.ContentType = type is null ? null : new MediaTypeHeaderValue(type);
            return content;
        }

        await Expect(HttpStatusCode.UnsupportedMediaType, () => http.PostAsync("/api/echo", Sdp(client.Offer, "text/plain")));
        await Expect(HttpStatusCode.UnsupportedMediaType, () => http.PostAsync("/api/echo", Sdp(client.Offer, "application/json")));
        await Expect(HttpStatusCode.UnsupportedMediaType, () => http.PostAsync("/api/echo", Sdp(client.Offer, null)));

        var huge = client.Offer + new string('x', 64 * 1024);
        await Expect(HttpStatusCode.RequestEntityTooLarge, () => http.PostAsync("/api/echo", Sdp(huge)));
        // The same without Content-Length (chunked): the limit holds while reading.
        await Expect(HttpStatusCode.RequestEntityTooLarge, () =>
        {
            var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
            chunked.Headers.ContentType = new MediaTypeHeaderValue("application/sdp");
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/echo") { Content = chunked };
            request.Headers.TransferEncodingChunked = true;
            return http.SendAsync(request);
        });

        await Expect(HttpStatusCode.BadRequest, () => http.PostAsync("/api/echo?transport=bogus", Sdp(client.Offer)));
        await Expect(HttpStatusCode.BadRequest, () => http.PostAsync("/api/echo", Sdp("v=0\r\n\u0000\u0001garbage")));

        Assert.Equal(0, host.Echo().ActivePeers);
        Assert.Equal(HttpStatusCode.OK, await host.HealthAsync());
        // The server still answers a good offer afterwards.
        var (status, answer) = await host.PostOfferAsync(client.Offer, "?transport=udp");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Contains("a=ice-ufrag:", answer);
    }
}
