using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.Stun;
using TeleRehab.Media.Tests.Ice;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>The ICE-TCP listener's hardening: a connection becomes a peer's path only after a check with valid
/// MESSAGE-INTEGRITY, unauthenticated and idle connections are closed, and the caps (total, per address, per peer and
/// the process's connection budget) close what is over them.</summary>
[Collection(HostingCollection.Name)]
public sealed class IceTcpLimitTests : IAsyncLifetime
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(700);

    private readonly List<Socket> _clients = [];
    private MediaServer? _server;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }

    private (MediaServer Server, CheckPeer Peer) StartServer(Action<MediaServerOptions>? configure = null, ConnectionBudget? budget = null)
    {
        var options = new MediaServerOptions
        {
            UdpPort = 0,
            TcpPort = 0,
            ListenAddress = "127.0.0.1",
            Workers = 1,
            IceTcpAuthTimeoutSeconds = 10,
            IceTcpIdleTimeoutSeconds = 10,
        };
        configure?.Invoke(options);
        _server = new MediaServer(options) { ConnectionBudget = budget };
        _server.Start();
        var peer = new CheckPeer(IceCredentials.Generate());
        _server.Register(peer);
        return (_server, peer);
    }

    [Theory]
    [InlineData("wrong-integrity")]
    [InlineData("no-integrity")]
    [InlineData("no-fingerprint")]
    [InlineData("unknown-ufrag")]
    [InlineData("not-stun")]
    public async Task IceTcp_connection_without_an_authentic_check_is_closed_and_never_reaches_the_peer(string kind)
    {
        var (server, peer) = StartServer();
        var username = $"{peer.LocalUfrag}:abcd";
        var frame = kind switch
        {
            "wrong-integrity" => IceTestUtil.BuildRequest(username, IceCredentials.Generate().Password),
            "no-integrity" => IceTestUtil.BuildRequest(username, null),
            "no-fingerprint" => IceTestUtil.BuildRequest(username, peer.Credentials.Password, fingerprint: false),
            "unknown-ufrag" => IceTestUtil.BuildRequest("zzzzzzzz:abcd", peer.Credentials.Password),
            _ => [0x80, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2], // an RTP header
        };

        var client = await ConnectAsync(server);
        await SendFrameAsync(client, frame);

        var (closed, received) = await WaitClosedAsync(client, HostingTestKit.Generous);
        Assert.True(closed, "the server should close the connection");
        Assert.Equal(0, received); // no response of any kind
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 0));
        Assert.Equal(1, server.IceTcpUnauthenticated);
        Assert.Equal(0, server.IceTcpTimedOut);
        Assert.Equal(0, server.TcpPathCount(peer));
        await Task.Delay(200); // anything wrongly posted would have reached the worker by now
        Assert.Equal(0, peer.Datagrams);
    }

    [Fact]
    public async Task IceTcp_authentic_check_attaches_and_is_answered_and_the_path_lives_while_checks_arrive_then_idles_out()
    {
        var (server, peer) = StartServer(o =>
        {
            o.IceTcpAuthTimeoutSeconds = 2;
            o.IceTcpIdleTimeoutSeconds = 3;
        });
        var client = await ConnectAsync(server);

        // Checks every 300 ms for longer than both timeouts: each is answered and the connection stays. (The timeouts
        // leave a loaded machine seconds of slack: a CI run once stalled the loop past a 1.5 s idle timeout.)
        var stopwatch = Stopwatch.StartNew();
        var lastCheck = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(6.5))
        {
            await SendFrameAsync(client, Check(peer));
            lastCheck.Restart();
            var response = await ReceiveFrameAsync(client, HostingTestKit.Generous);
            Assert.NotNull(response);
            Assert.True(StunMessage.TryParse(response, out var message));
            Assert.Equal(StunMessageType.BindingSuccess, message.MessageType);
            Assert.Equal(1, server.TcpPathCount(peer));
            await Task.Delay(300);
        }
        Assert.Equal(0, server.IceTcpTimedOut);
        Assert.Equal(0, server.IceTcpUnauthenticated);
        Assert.Equal(1, server.IceTcpConnections);

        // Silence: closed after the idle timeout (3 s after the last check, which was sent before the last response and
        // the last pause: a slow machine stretches those, so the silence is measured from the check), and the peer
        // forgets the path.
        var (closed, _) = await WaitClosedAsync(client, HostingTestKit.Generous);
        Assert.True(closed, "the idle connection should be closed");
        Assert.True(lastCheck.Elapsed >= TimeSpan.FromSeconds(2), $"closed {lastCheck.Elapsed} after the last check");
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 0 && server.TcpPathCount(peer) == 0));
        Assert.Equal(1, server.IceTcpTimedOut);
    }

    [Fact]
    public async Task IceTcp_silent_connection_is_closed_after_the_auth_timeout()
    {
        var (server, peer) = StartServer(o => o.IceTcpAuthTimeoutSeconds = 1);
        var stopwatch = Stopwatch.StartNew();
        var client = await ConnectAsync(server);

        var (closed, received) = await WaitClosedAsync(client, HostingTestKit.Generous);
        Assert.True(closed);
        Assert.Equal(0, received);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(0.8), $"closed after {stopwatch.Elapsed}");
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 0));
        Assert.Equal(1, server.IceTcpTimedOut);
        Assert.Equal(0, peer.Datagrams);
    }

    [Fact]
    public async Task IceTcp_connections_over_the_per_address_cap_are_closed_at_once()
    {
        var (server, _) = StartServer(o => o.IceTcpMaxConnectionsPerAddress = 3);
        var kept = new List<Socket>();
        for (var i = 0; i < 3; i++) kept.Add(await ConnectAsync(server));
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 3));

        Assert.True(await ConnectIsClosedAsync(server), "the fourth connection from one address should be closed");
        Assert.Equal(1, server.IceTcpRefused);

        // Another address still gets in; the first three stay open.
        var other = await ConnectAsync(server, IPAddress.Parse("127.0.0.2"));
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 4));
        foreach (var socket in kept) Assert.False((await WaitClosedAsync(socket, Short)).Closed);
        Assert.False((await WaitClosedAsync(other, Short)).Closed);
        Assert.Equal(1, server.IceTcpRefused);
    }

    [Fact]
    public async Task IceTcp_connections_over_the_total_cap_are_closed_at_once()
    {
        var (server, _) = StartServer(o => o.IceTcpMaxConnections = 3);
        var kept = new List<Socket>
        {
            await ConnectAsync(server),
            await ConnectAsync(server, IPAddress.Parse("127.0.0.2")),
            await ConnectAsync(server, IPAddress.Parse("127.0.0.3")),
        };
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 3));

        Assert.True(await ConnectIsClosedAsync(server, IPAddress.Parse("127.0.0.4")), "the fourth connection should be closed");
        Assert.Equal(1, server.IceTcpRefused);
        foreach (var socket in kept) Assert.False((await WaitClosedAsync(socket, Short)).Closed);
        Assert.Equal(3, server.IceTcpConnections);

        // A slot freed is a slot for the next connection.
        kept[0].Dispose();
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 2));
        var next = await ConnectAsync(server, IPAddress.Parse("127.0.0.4"));
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 3));
        Assert.False((await WaitClosedAsync(next, Short)).Closed);
        Assert.Equal(1, server.IceTcpRefused);
    }

    [Fact]
    public async Task IceTcp_a_peer_over_its_path_cap_loses_its_oldest_path()
    {
        var (server, peer) = StartServer(o => o.IceTcpMaxConnectionsPerPeer = 2);
        var paths = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            var client = await ConnectAsync(server);
            await SendFrameAsync(client, Check(peer));
            Assert.NotNull(await ReceiveFrameAsync(client, HostingTestKit.Generous));
            paths.Add(client);
        }

        var (closed, _) = await WaitClosedAsync(paths[0], HostingTestKit.Generous);
        Assert.True(closed, "the oldest path should be closed");
        Assert.True(await HostingTestKit.WaitUntilAsync(() => server.IceTcpConnections == 2));
        Assert.Equal(2, server.TcpPathCount(peer));
        foreach (var client in paths.Skip(1))
        {
            await SendFrameAsync(client, Check(peer));
            Assert.NotNull(await ReceiveFrameAsync(client, HostingTestKit.Generous));
        }
    }

    [Fact]
    public async Task IceTcp_connections_take_a_slot_of_the_process_budget_and_give_it_back()
    {
        var budget = new ConnectionBudget(2);
        var (server, peer) = StartServer(budget: budget);
        Assert.Same(budget, server.ConnectionBudget);
        var first = await ConnectAsync(server);
        var second = await ConnectAsync(server);
        Assert.True(await HostingTestKit.WaitUntilAsync(() => budget.InUse == 2));

        Assert.True(await ConnectIsClosedAsync(server), "the budget is spent: refused");
        Assert.Equal(1, budget.Refused);
        Assert.Equal(1, server.IceTcpRefused);
        Assert.Equal(2, budget.InUse);

        // One authenticated, one not: both give their slot back when they close.
        await SendFrameAsync(first, Check(peer));
        Assert.NotNull(await ReceiveFrameAsync(first, HostingTestKit.Generous));
        first.Dispose();
        second.Dispose();
        Assert.True(await HostingTestKit.WaitUntilAsync(() => budget.InUse == 0 && server.IceTcpConnections == 0));
        Assert.Equal(0, server.TcpPathCount(peer));

        var again = await ConnectAsync(server);
        Assert.True(await HostingTestKit.WaitUntilAsync(() => budget.InUse == 1));
        Assert.False((await WaitClosedAsync(again, Short)).Closed);
        Assert.Equal(1, budget.Refused);
    }

    [Theory]
    [InlineData(nameof(MediaServerOptions.IceTcpAuthTimeoutSeconds))]
    [InlineData(nameof(MediaServerOptions.IceTcpIdleTimeoutSeconds))]
    [InlineData(nameof(MediaServerOptions.IceTcpMaxConnections))]
    [InlineData(nameof(MediaServerOptions.IceTcpMaxConnectionsPerAddress))]
    [InlineData(nameof(MediaServerOptions.IceTcpMaxConnectionsPerPeer))]
    public void IceTcp_options_out_of_range_are_refused_naming_the_key(string key)
    {
        var options = new MediaServerOptions { UdpPort = 0, TcpPort = 0 };
        typeof(MediaServerOptions).GetProperty(key)!.SetValue(options, key.EndsWith("Seconds", StringComparison.Ordinal) ? (object)0.0 : 0);
        var error = Assert.Throws<ArgumentException>(() => new MediaServer(options));
        Assert.Contains($"TeleRehab:Media:{key}", error.Message);
    }

    [Fact]
    public void IceTcp_option_defaults()
    {
        var options = new MediaServerOptions();
        Assert.Equal(5, options.IceTcpAuthTimeoutSeconds);
        Assert.Equal(30, options.IceTcpIdleTimeoutSeconds);
        Assert.Equal(1024, options.IceTcpMaxConnections);
        Assert.Equal(16, options.IceTcpMaxConnectionsPerAddress);
        Assert.Equal(4, options.IceTcpMaxConnectionsPerPeer);
    }

    // ------------------------------------------------------------------ helpers

    private static byte[] Check(CheckPeer peer) => IceTestUtil.BuildRequest($"{peer.LocalUfrag}:abcd", peer.Credentials.Password);

    private async Task<Socket> ConnectAsync(MediaServer server, IPAddress? from = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _clients.Add(socket);
        if (from is not null) socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.TcpPort!.Value));
        return socket;
    }

    /// <summary>Connects and waits until the server closes the connection; a reset so fast that the connect itself
    /// reports it is a close too.</summary>
    private async Task<bool> ConnectIsClosedAsync(MediaServer server, IPAddress? from = null)
    {
        Socket socket;
        try
        {
            socket = await ConnectAsync(server, from);
        }
        catch (SocketException)
        {
            return true;
        }
        return (await WaitClosedAsync(socket, HostingTestKit.Generous)).Closed;
    }

    private static async Task SendFrameAsync(Socket socket, byte[] frame)
    {
        var framed = new byte[frame.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)frame.Length); // RFC 4571
        frame.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None);
    }

    /// <summary>One RFC 4571 frame, or null when the connection closed or nothing came within <paramref name="timeout"/>.</summary>
    private static async Task<byte[]?> ReceiveFrameAsync(Socket socket, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            var header = new byte[2];
            if (!await ReadExactlyAsync(socket, header, cancel.Token)) return null;
            var frame = new byte[BinaryPrimitives.ReadUInt16BigEndian(header)];
            return await ReadExactlyAsync(socket, frame, cancel.Token) ? frame : null;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            return null;
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancel)
    {
        var offset = 0;
        while (offset < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(offset), SocketFlags.None, cancel);
            if (read == 0) return false;
            offset += read;
        }
        return true;
    }

    /// <summary>Reads until the server closes the connection (true) or <paramref name="timeout"/> passes (false), with
    /// the bytes received meanwhile.</summary>
    private static async Task<(bool Closed, int Received)> WaitClosedAsync(Socket socket, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        var received = 0;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
                if (read == 0) return (true, received);
                received += read;
            }
        }
        catch (OperationCanceledException)
        {
            return (false, received);
        }
        catch (SocketException)
        {
            return (true, received); // a reset is a close too
        }
    }

    /// <summary>A peer that only answers checks (with its own ICE-lite agent) and counts what reaches it.</summary>
    private sealed class CheckPeer(IceCredentials credentials) : IMediaPeer
    {
        private readonly IceLiteAgent _agent = new(credentials);
        private int _datagrams;

        public IceCredentials Credentials { get; } = credentials;

        public string LocalUfrag => Credentials.Ufrag;

        public int Datagrams => Volatile.Read(ref _datagrams);

        public bool IsAuthenticCheck(ReadOnlySpan<byte> request) => _agent.IsAuthenticCheck(request);

        public void HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now)
        {
            Interlocked.Increment(ref _datagrams);
            Span<byte> response = stackalloc byte[1500];
            var result = _agent.HandleBindingRequest(buffer[..length], path.Remote, now, response);
            if (result.HasResponse) path.Send(response[..result.ResponseLength]);
        }

        public void HandleTimeout(TimeSpan now)
        {
        }

        public TimeSpan? NextTimeout => null;

        public bool IsClosed { get; private set; }

        public void Close(string reason) => IsClosed = true;

        public void Dispose() => _agent.Dispose();
    }
}
