using TeleRehab.Media.Dtls;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>RFC 7675 consent freshness on the real server: a peer that stops answering is dropped; one that keeps
/// sending consent checks is kept.</summary>
[Collection(HostingCollection.Name)]
public sealed class ConsentFreshnessTests : IAsyncLifetime
{
    private AppHost _host = null!;
    private readonly ClientWorker _worker = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();

    public async Task InitializeAsync() => _host = await AppHost.StartAsync(("TeleRehab:Media:ConsentTimeoutSeconds", "2"));

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _worker.Dispose();
    }

    [Fact]
    public async Task Client_that_vanishes_without_goodbye_is_dropped_once_consent_expires()
    {
        var (client, _) = await _host.ConnectEchoAsync(_worker.Worker, _certificate,
            new WebRtcClientOptions { Video = false, ConsentInterval = TimeSpan.FromMilliseconds(400) });
        await using (client)
        {
            Assert.True(await client.EchoesAsync());
            Assert.Equal(1, _host.Media.PeerCount);
            Assert.Equal(1, _host.Echo().ActivePeers);

            client.DropSocketWithoutGoodbye(); // no close_notify, no more consent checks: like a crashed browser

            Assert.True(await HostingTestKit.WaitUntilAsync(() => _host.Media.PeerCount == 0 && _host.Echo().ActivePeers == 0,
                TimeSpan.FromSeconds(15)), $"peer still there: PeerCount={_host.Media.PeerCount}, ActivePeers={_host.Echo().ActivePeers}");
        }
    }

    [Fact]
    public async Task Client_that_keeps_sending_consent_checks_stays_connected_past_the_timeout()
    {
        var (client, _) = await _host.ConnectEchoAsync(_worker.Worker, _certificate,
            new WebRtcClientOptions { Video = false, ConsentInterval = TimeSpan.FromMilliseconds(400) });
        await using (client)
        {
            Assert.True(await client.EchoesAsync());

            // Three consent timeouts pass while the client keeps checking.
            await Task.Delay(TimeSpan.FromSeconds(6));

            Assert.False(client.Closed.IsCompleted, client.Closed.IsCompleted ? client.Closed.Result : "");
            Assert.Equal(PeerConnectionState.Connected, client.Connection!.State);
            Assert.Equal(1, _host.Media.PeerCount);
            Assert.Equal(1, _host.Echo().ActivePeers);
            Assert.True(await client.EchoesAsync());
        }
    }
}
