using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;
using TeleRehab.Signaling;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary><c>TeleRehab:Media</c> settings reach the sockets and the answer's candidates; bad ones stop start-up.</summary>
[Collection(HostingCollection.Name)]
public sealed class ConfigurationTests : IDisposable
{
    private readonly ClientWorker _worker = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();

    public void Dispose() => _worker.Dispose();

    private static List<IceCandidate> Candidates(string answer) =>
        answer.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith("a=candidate:", StringComparison.Ordinal))
            .Select(l => Assert.IsType<IceCandidate>(IceCandidate.TryParse(l[2..], out var c) ? c : null))
            .ToList();

    [Fact]
    public async Task Fixed_ports_and_announced_address_are_honoured()
    {
        var udpPort = HostingTestKit.FreePort(SocketType.Dgram, ProtocolType.Udp);
        var tcpPort = HostingTestKit.FreePort(SocketType.Stream, ProtocolType.Tcp);
        await using var host = await AppHost.StartAsync(
            ("TeleRehab:Media:UdpPort", udpPort.ToString()),
            ("TeleRehab:Media:TcpPort", tcpPort.ToString()),
            ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));

        Assert.Equal(udpPort, host.Media.UdpPort);
        Assert.Equal(tcpPort, host.Media.TcpPort);
        Assert.Equal(HttpStatusCode.OK, await host.HealthAsync());

        await using var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false });
        var (status, answer) = await host.PostOfferAsync(client.Offer);
        Assert.Equal(HttpStatusCode.Created, status);
        var candidates = Candidates(answer).DistinctBy(c => (c.Transport, c.Address, c.Port, c.TcpType)).ToList();
        Assert.Equal(2, candidates.Count);
        var udp = Assert.Single(candidates, c => c.Transport == IceTransport.Udp);
        Assert.Equal(("127.0.0.1", udpPort), (udp.Address, udp.Port));
        var tcp = Assert.Single(candidates, c => c.Transport == IceTransport.Tcp);
        Assert.Equal(("127.0.0.1", tcpPort, IceTcpType.Passive), (tcp.Address, tcp.Port, tcp.TcpType));

        // The announced candidate is really where the server listens: a client connects through it.
        Assert.True(client.TryApplyAnswer(answer, out var error), error);
        await client.Connected.WaitAsync(HostingTestKit.Generous);
        Assert.True(await client.EchoesAsync());
    }

    [Fact]
    public async Task Tcp_port_minus_one_turns_ice_tcp_off()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Media:TcpPort", "-1"));
        Assert.Null(host.Media.TcpPort);
        Assert.Equal(HttpStatusCode.OK, await host.HealthAsync());

        await using var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false });
        var (status, answer) = await host.PostOfferAsync(client.Offer);
        Assert.Equal(HttpStatusCode.Created, status);
        var candidates = Candidates(answer);
        Assert.NotEmpty(candidates);
        Assert.All(candidates, c => Assert.Equal(IceTransport.Udp, c.Transport));

        var (tcpStatus, reason) = await host.PostOfferAsync(client.Offer, "?transport=tcp");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, tcpStatus);
        Assert.Contains("TCP", reason, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("TeleRehab:Media:UdpPort", "70000")]
    [InlineData("TeleRehab:Media:UdpPort", "-1")]
    [InlineData("TeleRehab:Media:TcpPort", "-2")]
    [InlineData("TeleRehab:Media:AnnouncedAddress", "not-an-address")]
    [InlineData("TeleRehab:Media:ListenAddress", "nowhere")]
    [InlineData("TeleRehab:Media:ConsentTimeoutSeconds", "0")]
    public async Task Invalid_setting_stops_start_up_with_a_message_naming_the_key(string key, string value)
    {
        var app = TeleRehabApp.Create([
            "--urls=http://127.0.0.1:0",
            "--TeleRehab:Media:UdpPort=0",
            "--TeleRehab:Media:TcpPort=0",
            "--TeleRehab:Media:ListenAddress=127.0.0.1",
            "--Logging:LogLevel:Default=None",
            $"--{key}={value}",
        ]);
        try
        {
            var exception = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());
            var messages = string.Join(" | ", Flatten(exception).Select(e => e.Message));
            Assert.Contains(key, messages);
        }
        finally
        {
            try { await app.StopAsync(); } catch (Exception) { }
            await app.DisposeAsync();
        }
    }

    private static IEnumerable<Exception> Flatten(Exception exception)
    {
        yield return exception;
        if (exception is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten)) yield return inner;
        }
        else if (exception.InnerException is { } inner)
        {
            foreach (var nested in Flatten(inner)) yield return nested;
        }
    }
}
