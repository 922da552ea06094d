using TeleRehab.Media.Dtls;
using TeleRehab.Media.Tests.Support;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>Peers that come and go leave nothing behind on the server.</summary>
[Collection(HostingCollection.Name)]
public sealed class ResourceCleanupTests : IDisposable
{
    private readonly ClientWorker _worker = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();

    public void Dispose() => _worker.Dispose();

    [Fact]
    public async Task Thirty_clients_that_connect_and_close_one_after_another_leave_no_peer_behind()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Echo:RequestsPerMinutePerAddress", "1000"));
        for (var i = 0; i < 30; i++)
        {
            var (client, _) = await host.ConnectEchoAsync(_worker.Worker, _certificate);
            await using (client)
            {
                Assert.True(await client.EchoesAsync(), $"client {i} got no echo");
                client.Close($"client {i} done");
                await client.Closed.WaitAsync(HostingTestKit.Generous);
            }
        }

        Assert.True(await HostingTestKit.WaitUntilAsync(() => host.Media.PeerCount == 0 && host.Echo().ActivePeers == 0),
            $"left behind: PeerCount={host.Media.PeerCount}, ActivePeers={host.Echo().ActivePeers}");
        Assert.Equal(0, _worker.Worker.PeerCount);
    }
}
