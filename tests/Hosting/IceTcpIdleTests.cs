using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Tests.Support;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>ICE-TCP connections that never name a peer are closed by the server, so idle or half-open connections
/// cannot pile up.</summary>
public sealed class IceTcpIdleTests : IAsyncLifetime
{
    private AppHost _host = null!;

    public async Task InitializeAsync() => _host = await AppHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_by_the_server()
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _host.Media.TcpPort!.Value));

        // The server closes it after its authentication timeout (IceTcpAuthTimeoutSeconds, 5 s); the bound here is generous.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var buffer = new byte[16];
        int read;
        try
        {
            read = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            read = 0; // a reset is a close too
        }
        Assert.Equal(0, read);
        Assert.False(timeout.IsCancellationRequested);
    }
}
