using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Stun;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>Garbage on the media ports (UDP and ICE-TCP) disturbs neither a live peer, nor new peers, nor the server.</summary>
[Collection(HostingCollection.Name)]
public sealed class MalformedInputTests : IAsyncLifetime
{
    private AppHost _host = null!;
    private readonly ClientWorker _worker = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly Random _random = new(7675);

    public async Task InitializeAsync() => _host = await AppHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _worker.Dispose();
    }

    private IPEndPoint UdpTarget => new(IPAddress.Loopback, _host.Media.UdpPort);

    private IPEndPoint TcpTarget => new(IPAddress.Loopback, _host.Media.TcpPort!.Value);

    /// <summary>A binding request as the live client would send it (USE-CANDIDATE included), but keyed with <paramref name="password"/>.</summary>
    private static byte[] BindingRequest(string username, string password, bool useCandidate = true)
    {
        var buffer = new byte[512];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, StunTransactionId.NewRandom());
        writer.AddUsername(Encoding.ASCII.GetBytes(username));
        writer.AddPriority(IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, 65535, 1));
        writer.AddIceControlling(0x0123456789abcdef);
        if (useCandidate) writer.AddUseCandidate();
        var length = writer.Complete(Encoding.UTF8.GetBytes(password));
        return buffer[..length];
    }

    private byte[] RandomDatagram(string liveUsername, string wrongPassword)
    {
        byte[] datagram;
        switch (_random.Next(8))
        {
            case 0: // truncated request naming the live peer
                var full = BindingRequest(liveUsername, wrongPassword);
                return full[.._random.Next(0, full.Length)];
            case 1: // request naming the live peer with a forged integrity
                return BindingRequest(liveUsername, wrongPassword);
            case 2: // STUN header with the magic cookie and random attributes
                datagram = new byte[_random.Next(20, 400)];
                _random.NextBytes(datagram);
                datagram[0] = (byte)_random.Next(0, 4);
                BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), (ushort)_random.Next(0, 1000));
                BinaryPrimitives.WriteUInt32BigEndian(datagram.AsSpan(4), StunMessage.MagicCookie);
                return datagram;
            default:
                datagram = new byte[_random.Next(1, 1400)];
                _random.NextBytes(datagram);
                datagram[0] = _random.Next(4) switch
                {
                    0 => (byte)_random.Next(0, 4),      // STUN
                    1 => (byte)_random.Next(20, 64),    // DTLS
                    2 => (byte)_random.Next(128, 192),  // RTP / RTCP
                    _ => (byte)_random.Next(0, 256),
                };
                return datagram;
        }
    }

    /// <summary>Collects everything a socket receives until disposed.</summary>
    private static Task Collect(Socket socket, ConcurrentQueue<byte[]> into) => Task.Run(async () =>
    {
        var buffer = new byte[2048];
        while (true)
        {
            try
            {
                var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
                into.Enqueue(buffer[..result.ReceivedBytes]);
            }
            catch (SocketException) { }
            catch (ObjectDisposedException) { return; }
        }
    });

    private static bool IsBindingSuccess(ReadOnlySpan<byte> datagram) =>
        StunMessage.TryParse(datagram, out var stun) && stun.MessageType == StunMessageType.BindingSuccess;

    [Fact]
    public async Task Garbage_on_udp_and_tcp_disturbs_no_peer_and_no_new_connection()
    {
        var (client, answer) = await _host.ConnectEchoAsync(_worker.Worker, _certificate);
        await using var _ = client;
        Assert.True(await client.EchoesAsync());
        var liveUsername = $"{HostingTestKit.SdpAttribute(answer, "ice-ufrag")}:{HostingTestKit.SdpAttribute(client.Offer, "ice-ufrag")}";
        const string wrongPassword = "not-the-password-of-this-peer";

        using var fuzzer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        fuzzer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var fuzzerReceived = new ConcurrentQueue<byte[]>();
        var fuzzerLoop = Collect(fuzzer, fuzzerReceived);

        // While garbage flows, the live client keeps getting its RTP echoed.
        using var fuzzing = new CancellationTokenSource();
        var echoFailures = 0;
        var echoRounds = 0;
        var echoLoop = Task.Run(async () =>
        {
            while (!fuzzing.IsCancellationRequested)
            {
                if (!await client.EchoesAsync(HostingTestKit.Generous)) Interlocked.Increment(ref echoFailures);
                Interlocked.Increment(ref echoRounds);
            }
        });

        // UDP from an unknown address: random first bytes across the RFC 7983 ranges, STUN-shaped junk,
        // truncated and forged requests naming the live peer.
        for (var i = 0; i < 4000; i++)
        {
            fuzzer.SendTo(RandomDatagram(liveUsername, wrongPassword), UdpTarget);
            if (i % 200 == 0) await Task.Delay(5);
        }
        // The same garbage from the live client's own address (it reaches the peer's DTLS, SRTP and ICE code).
        var clientPath = client.Connection!.SelectedPath!;
        for (var i = 0; i < 2000; i++)
        {
            clientPath.Send(RandomDatagram(liveUsername, wrongPassword));
            if (i % 200 == 0) await Task.Delay(5);
        }

        await FuzzTcpAsync(liveUsername, wrongPassword);

        fuzzing.Cancel();
        await echoLoop.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, echoFailures);
        Assert.True(echoRounds > 0);

        // The live peer still echoes, a new client still connects, the server is healthy.
        Assert.True(await client.EchoesAsync());
        Assert.Equal(PeerConnectionState.Connected, client.Connection.State);
        var (second, _) = await _host.ConnectEchoAsync(_worker.Worker, _certificate);
        await using (second)
        {
            Assert.True(await second.EchoesAsync());
            Assert.Equal(2, _host.Media.PeerCount);
            Assert.Equal(2, _host.Echo().ActivePeers);
        }
        Assert.Equal(HttpStatusCode.OK, await _host.HealthAsync());
        Assert.True(_host.Media.DroppedDatagrams > 0);

        fuzzer.Dispose();
        await fuzzerLoop;
        // Nothing forged was accepted: no success response, and no media or DTLS was sent to the fuzzer.
        Assert.DoesNotContain(fuzzerReceived, d => IsBindingSuccess(d));
        Assert.All(fuzzerReceived, d => Assert.True(StunMessage.IsStunMessage(d), $"non-STUN datagram sent to the fuzzer (first byte {d[0]})"));
    }

    private async Task FuzzTcpAsync(string liveUsername, string wrongPassword)
    {
        // Connections that open and close at once.
        for (var i = 0; i < 40; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(TcpTarget);
            if (i % 2 == 0) socket.LingerState = new LingerOption(true, 0); // abortive close (RST)
        }

        // Connections that send random bytes, then close.
        for (var i = 0; i < 40; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(TcpTarget);
            var junk = new byte[_random.Next(1, 4000)];
            _random.NextBytes(junk);
            try { await socket.SendAsync(junk); } catch (SocketException) { } // the server may already have hung up
        }

        // Connections left half-open with a partial frame header, held while the rest runs.
        var idle = new List<Socket>();
        for (var i = 0; i < 5; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(TcpTarget);
            await socket.SendAsync(new byte[] { 0x00 });
            idle.Add(socket);
        }

        // An oversize RFC 4571 frame and a frame that is not a STUN request: the server hangs up.
        var oversize = new byte[4 + 3000];
        BinaryPrimitives.WriteUInt16BigEndian(oversize, 0xFFFF);
        _random.NextBytes(oversize.AsSpan(2));
        var rtpFrame = new byte[2 + 100];
        BinaryPrimitives.WriteUInt16BigEndian(rtpFrame, 100);
        rtpFrame[2] = 0x80;
        foreach (var frames in new[] { oversize, rtpFrame })
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(TcpTarget);
            await socket.SendAsync(frames);
            Assert.True(await IsClosedByServerAsync(socket), "the server kept a connection with a bad first frame");
        }

        // A forged request naming the live peer over ICE-TCP: no success response.
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(TcpTarget);
            var request = BindingRequest(liveUsername, wrongPassword);
            var framed = new byte[2 + request.Length];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)request.Length);
            request.CopyTo(framed, 2);
            await socket.SendAsync(framed);
            var received = await ReadForAsync(socket, TimeSpan.FromSeconds(2));
            Assert.False(received.Length >= 2 + StunMessage.HeaderLength && IsBindingSuccess(received.AsSpan(2)),
                "a forged ICE-TCP request got a success response");
        }

        foreach (var socket in idle) socket.Dispose();
    }

    /// <summary>True when the server closes the connection (EOF or reset) within a generous bound.</summary>
    private static async Task<bool> IsClosedByServerAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(HostingTestKit.Generous);
        try
        {
            while (true)
            {
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) == 0) return true;
            }
        }
        catch (SocketException) { return true; }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>Whatever arrives on <paramref name="socket"/> within <paramref name="wait"/>.</summary>
    private static async Task<byte[]> ReadForAsync(Socket socket, TimeSpan wait)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0) break;
                received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
        return [.. received];
    }

    [Fact]
    public async Task Copied_request_with_a_wrong_password_from_another_socket_gets_no_success_and_does_not_steal_the_path()
    {
        var (client, answer) = await _host.ConnectEchoAsync(_worker.Worker, _certificate);
        await using var _ = client;
        Assert.True(await client.EchoesAsync());
        var username = $"{HostingTestKit.SdpAttribute(answer, "ice-ufrag")}:{HostingTestKit.SdpAttribute(client.Offer, "ice-ufrag")}";

        using var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        attacker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var received = new ConcurrentQueue<byte[]>();
        var loop = Collect(attacker, received);

        // The client's nominating request, re-keyed with a guessed password, sent again and again.
        for (var i = 0; i < 20; i++)
        {
            attacker.SendTo(BindingRequest(username, "guessed-password-" + i), UdpTarget);
            await Task.Delay(20);
        }
        Assert.True(await client.EchoesAsync(), "the live client lost its echo");
        await Task.Delay(TimeSpan.FromSeconds(1)); // late answers to the forged requests would land here
        Assert.DoesNotContain(received, d => IsBindingSuccess(d));
        Assert.All(received, d => Assert.True(StunMessage.IsStunMessage(d), $"non-STUN datagram sent to the attacker (first byte {d[0]})"));
        Assert.Equal(1, _host.Media.PeerCount);

        // Control: the very same request keyed with the peer's real password is answered, so only the password made the difference.
        attacker.SendTo(BindingRequest(username, HostingTestKit.SdpAttribute(answer, "ice-pwd"), useCandidate: false), UdpTarget);
        Assert.True(await HostingTestKit.WaitUntilAsync(() => received.Any(d => IsBindingSuccess(d))), "the control request got no success response");

        attacker.Dispose();
        await loop;
    }
}
