using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.Stun;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>
/// RFC 8445 §7.2.5.2.1 on a host with several addresses (loopback and a non-loopback one, as every machine here has):
/// with the media sockets bound to the wildcard address, a check sent to one of the server's addresses is answered
/// from that address and port, whichever of the host's addresses it came from, and media to a peer leaves from the
/// address the peer sends to. Strict agents (aiortc; our own controlling agent) fail a pair otherwise.
/// </summary>
[Collection(HostingCollection.Name)]
public sealed class SourceAddressTests : IAsyncLifetime
{
    private AppHost _host = null!;
    private readonly ClientWorker _worker = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();

    public async Task InitializeAsync() => _host = await AppHost.StartAsync(("TeleRehab:Media:ListenAddress", "0.0.0.0"));

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _worker.Dispose();
    }

    /// <summary>The machine's first up, non-loopback IPv4 address (the tests need one; every test machine has it).</summary>
    internal static IPAddress NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == OperationalStatus.Up)
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address))
        ?? throw new InvalidOperationException("this machine has no up non-loopback IPv4 address: the source-address tests need one");

    public static TheoryData<string, string> Directions => new()
    {
        { "non-loopback", "loopback" },
        { "loopback", "non-loopback" },
        { "non-loopback", "non-loopback" },
        { "loopback", "loopback" },
    };

    private static IPAddress Resolve(string which) => which == "loopback" ? IPAddress.Loopback : NonLoopbackAddress();

    [Fact]
    public void Candidates_announce_every_address_the_wildcard_socket_receives_on()
    {
        var candidates = _host.Media.LocalCandidates();
        Assert.Contains(candidates, c => c.Address == "127.0.0.1" && c.Port == _host.Media.UdpPort);
        Assert.Contains(candidates, c => c.Address == NonLoopbackAddress().ToString() && c.Port == _host.Media.UdpPort);
        Assert.True(_host.Media.RepliesFromDestinationAddress, "the receive loop does not read the datagrams' destination address");
    }

    [Theory]
    [MemberData(nameof(Directions))]
    public async Task A_binding_request_is_answered_from_the_address_and_port_it_was_sent_to(string from, string to)
    {
        var (serverUfrag, serverPwd, clientUfrag) = await EchoCredentialsAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(Resolve(from), 0));
        var target = new IPEndPoint(Resolve(to), _host.Media.UdpPort);

        var (source, response) = await CheckAsync(socket, target, serverUfrag, serverPwd, clientUfrag);

        Assert.Equal(target, source);
        Assert.True(StunMessage.TryParse(response, out var reader));
        Assert.Equal(StunMessageType.BindingSuccess, reader.MessageType);
        Assert.True(reader.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(socket.LocalEndPoint, mapped);
    }

    [Fact]
    public async Task A_check_to_each_address_in_turn_is_answered_from_each_even_from_one_remote()
    {
        // One remote, two candidate pairs (a full agent checks every pair): each response leaves from its own pair's
        // local address, the second after the first made the remote known.
        var (serverUfrag, serverPwd, clientUfrag) = await EchoCredentialsAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(NonLoopbackAddress(), 0));
        foreach (var to in new[] { NonLoopbackAddress(), IPAddress.Loopback, NonLoopbackAddress(), IPAddress.Loopback })
        {
            var target = new IPEndPoint(to, _host.Media.UdpPort);
            var (source, _) = await CheckAsync(socket, target, serverUfrag, serverPwd, clientUfrag, useCandidate: true);
            Assert.Equal(target, source);
        }
    }

    [Theory]
    [MemberData(nameof(Directions))]
    public async Task Media_flows_with_a_strict_source_check_from_either_address_to_either_candidate(string from, string to)
    {
        // The C# client checks every response's source (RFC 8445 §7.2.5.2.1, as aiortc does) and here knows only the
        // one candidate: ICE, DTLS and the echoed SRTP all come from exactly that address and port.
        var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false, BindAddress = Resolve(from) });
        await using (client)
        {
            var (status, answer) = await _host.PostOfferAsync(client.Offer, "?transport=udp");
            Assert.Equal(HttpStatusCode.Created, status);
            var target = new IPEndPoint(Resolve(to), _host.Media.UdpPort);
            var onlyTarget = OnlyCandidate(answer, target);
            Assert.True(client.TryApplyAnswer(onlyTarget, out var error), error);
            await client.Connected.WaitAsync(HostingTestKit.Generous);
            Assert.True(await client.EchoesAsync());
            Assert.Equal([target], client.DatagramSources);
        }
    }

    [Fact]
    public async Task Ice_tcp_answers_on_the_accepted_connection_from_the_address_it_was_sent_to()
    {
        var (serverUfrag, serverPwd, clientUfrag) = await EchoCredentialsAsync("?transport=tcp");
        foreach (var (from, to) in new[] { (NonLoopbackAddress(), IPAddress.Loopback), (IPAddress.Loopback, NonLoopbackAddress()) })
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(from, 0));
            var target = new IPEndPoint(to, _host.Media.TcpPort!.Value);
            await socket.ConnectAsync(target);

            var request = BuildCheck(serverUfrag, serverPwd, clientUfrag, useCandidate: false);
            var frame = new byte[2 + request.Length];
            frame[0] = (byte)(request.Length >> 8);
            frame[1] = (byte)request.Length;
            request.CopyTo(frame, 2);
            await socket.SendAsync(frame);

            using var timeout = new CancellationTokenSource(HostingTestKit.Generous);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var header = new byte[2];
            await stream.ReadExactlyAsync(header, timeout.Token);
            var response = new byte[(header[0] << 8) | header[1]];
            await stream.ReadExactlyAsync(response, timeout.Token);

            // The connection's far end is the address the client connected to: the server's reply came on it.
            Assert.Equal(target, socket.RemoteEndPoint);
            Assert.True(StunMessage.TryParse(response, out var reader));
            Assert.Equal(StunMessageType.BindingSuccess, reader.MessageType);
            Assert.True(reader.TryGetXorMappedAddress(out var mapped));
            Assert.Equal(socket.LocalEndPoint, mapped);
        }
    }

    [Fact]
    public async Task Behind_nat_the_configured_address_is_announced_and_checks_are_still_answered_from_the_address_they_reached()
    {
        // A server behind NAT announces the public address; the NAT forwards to one of the host's own addresses, and the
        // response must leave from that one for the NAT to map it back.
        await using var host = await AppHost.StartAsync(("TeleRehab:Media:ListenAddress", "0.0.0.0"), ("TeleRehab:Media:AnnouncedAddress", "203.0.113.7"));
        await using var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false });
        var (status, answer) = await host.PostOfferAsync(client.Offer, "?transport=udp");
        Assert.Equal(HttpStatusCode.Created, status);
        var candidates = answer.Split("\r\n").Where(line => line.StartsWith("a=candidate:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(candidates);
        Assert.All(candidates, line => Assert.Contains(" 203.0.113.7 ", line));

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(NonLoopbackAddress(), 0));
        var target = new IPEndPoint(IPAddress.Loopback, host.Media.UdpPort);
        var (source, _) = await CheckAsync(socket, target, HostingTestKit.SdpAttribute(answer, "ice-ufrag"),
            HostingTestKit.SdpAttribute(answer, "ice-pwd"), HostingTestKit.SdpAttribute(client.Offer, "ice-ufrag"));
        Assert.Equal(target, source);
    }

    /// <summary>Posts a C# client's offer to the echo and returns the server peer's ICE credentials and the client's ufrag.</summary>
    private async Task<(string ServerUfrag, string ServerPwd, string ClientUfrag)> EchoCredentialsAsync(string query = "?transport=udp")
    {
        await using var client = new WebRtcClient(_worker.Worker, _certificate, new WebRtcClientOptions { Video = false });
        var (status, answer) = await _host.PostOfferAsync(client.Offer, query);
        Assert.Equal(HttpStatusCode.Created, status);
        return (HostingTestKit.SdpAttribute(answer, "ice-ufrag"), HostingTestKit.SdpAttribute(answer, "ice-pwd"),
            HostingTestKit.SdpAttribute(client.Offer, "ice-ufrag"));
    }

    internal static byte[] BuildCheck(string serverUfrag, string serverPwd, string clientUfrag, bool useCandidate)
    {
        var buffer = new byte[512];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, StunTransactionId.NewRandom());
        writer.AddUsername(Encoding.UTF8.GetBytes($"{serverUfrag}:{clientUfrag}"));
        writer.AddIceControlling(0x0102030405060708);
        if (useCandidate) writer.AddUseCandidate();
        writer.AddPriority(1853824767);
        writer.AddMessageIntegrity(Encoding.UTF8.GetBytes(serverPwd));
        writer.AddFingerprint();
        return buffer[..writer.Length];
    }

    /// <summary>Sends one check (retransmitted a few times, as over any UDP) and returns where the response came from.</summary>
    private static async Task<(IPEndPoint Source, byte[] Response)> CheckAsync(Socket socket, IPEndPoint target, string serverUfrag,
        string serverPwd, string clientUfrag, bool useCandidate = false)
    {
        var request = BuildCheck(serverUfrag, serverPwd, clientUfrag, useCandidate);
        var buffer = new byte[2048];
        for (var attempt = 0; attempt < 10; attempt++)
        {
            await socket.SendToAsync(request, SocketFlags.None, target);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), wait.Token);
                if (result.ReceivedBytes >= 20 && buffer.AsSpan(8, 12).SequenceEqual(request.AsSpan(8, 12)))
                    return ((IPEndPoint)result.RemoteEndPoint, buffer[..result.ReceivedBytes]);
            }
            catch (OperationCanceledException)
            {
            }
        }
        throw new TimeoutException($"no response to a check sent to {target} from {socket.LocalEndPoint}");
    }

    /// <summary>The answer with its candidate lines cut to the one UDP candidate at <paramref name="target"/>.</summary>
    internal static string OnlyCandidate(string answer, IPEndPoint target)
    {
        var lines = answer.Split("\r\n");
        var kept = lines.Where(line => !line.StartsWith("a=candidate:", StringComparison.Ordinal)
            || (line.Contains($" {target.Address} {target.Port} ", StringComparison.Ordinal) && line.Contains(" udp ", StringComparison.OrdinalIgnoreCase)));
        var result = string.Join("\r\n", kept);
        Assert.Contains($" {target.Address} {target.Port} ", result);
        return result;
    }
}

/// <summary>The address handling of one path, without a server: a path that knows its local address sends from it.</summary>
public sealed class UdpPacketPathSourceTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_path_on_a_wildcard_socket_sends_from_its_local_address(bool fromLoopback)
    {
        var nonLoopback = SourceAddressTests.NonLoopbackAddress();
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Any, 0));
        var port = ((IPEndPoint)server.LocalEndPoint!).Port;
        using var remote = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        remote.Bind(new IPEndPoint(nonLoopback, 0));
        remote.ReceiveTimeout = 5000;

        // The kernel alone would answer a remote on this host's non-loopback address from that address.
        var local = fromLoopback ? IPAddress.Loopback : nonLoopback;
        var path = new UdpPacketPath(server, remote.LocalEndPoint!.Serialize(), UdpLocalAddress.From(local));
        Assert.Equal(local, path.Local.ToIPAddress());
        Assert.True(path.Send([1, 2, 3]));

        var buffer = new byte[16];
        EndPoint source = new IPEndPoint(IPAddress.Any, 0);
        var length = remote.ReceiveFrom(buffer, ref source);
        Assert.Equal(3, length);
        Assert.Equal(new IPEndPoint(local, port), source);
    }

    [Fact]
    public void The_receiver_reports_the_address_each_datagram_was_sent_to()
    {
        var nonLoopback = SourceAddressTests.NonLoopbackAddress();
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Any, 0));
        var port = ((IPEndPoint)server.LocalEndPoint!).Port;
        using var receiver = UdpMessageReceiver.TryCreate(server, kernelTimestamps: false);
        Assert.NotNull(receiver);
        Assert.True(receiver.PacketInfo);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        foreach (var to in new[] { IPAddress.Loopback, nonLoopback, IPAddress.Loopback })
        {
            sender.SendTo(new byte[] { 7 }, new IPEndPoint(to, port));
            var from = new SocketAddress(AddressFamily.InterNetwork);
            Assert.Equal(1, receiver.Receive(new byte[64], from, TimeSpan.FromSeconds(5), out _, out var local));
            Assert.Equal(to, local.ToIPAddress());
            Assert.Equal(sender.LocalEndPoint, new IPEndPoint(IPAddress.Any, 0).Create(from));
        }
    }

    [Fact]
    public void A_nomination_from_the_selected_remote_to_another_local_address_moves_the_peers_path()
    {
        // One remote, two of our addresses: two candidate pairs. The ICE-lite agent knows remotes only; the connection
        // compares the pair's local side so media follows the pair the controlling agent nominated last (RFC 8445
        // §7.3.1.5), and a check on the same pair (a fresh path object, as for an address not yet bound) changes nothing.
        using var remote = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        remote.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Any, 0));
        var remoteAddress = remote.LocalEndPoint!.Serialize();
        var loopback = UdpLocalAddress.From(IPAddress.Loopback);
        var nonLoopback = UdpLocalAddress.From(SourceAddressTests.NonLoopbackAddress());

        var local = IceCredentials.Generate();
        var peer = IceCredentials.Generate();
        using var scheduler = new DtlsHandshakeScheduler(1);
        var handler = new TeleRehab.Media.Tests.WebRtc.RecordingHandler();
        using var connection = PeerConnection.CreateIceLite(local, peer, DtlsCertificate.Generate("peer").Fingerprint, DtlsRole.Server,
            new PeerConnectionOptions { Certificate = DtlsCertificate.Generate("server"), HandshakeScheduler = scheduler }, handler, _ => { });

        void Check(UdpPacketPath path, bool useCandidate)
        {
            var check = SourceAddressTests.BuildCheck(local.Ufrag, local.Password, peer.Ufrag, useCandidate);
            var buffer = new byte[2048];
            check.CopyTo(buffer, 0);
            connection.HandleDatagram(buffer, check.Length, path, TimeSpan.FromSeconds(1));
        }

        var first = new UdpPacketPath(server, remoteAddress, loopback);
        Check(first, useCandidate: true);
        Assert.Equal([first], handler.SelectedPaths);
        Check(new UdpPacketPath(server, remoteAddress, loopback), useCandidate: true);
        var second = new UdpPacketPath(server, remoteAddress, nonLoopback);
        Check(second, useCandidate: false);
        Assert.Equal([first], handler.SelectedPaths);
        Check(second, useCandidate: true);
        Assert.Equal<IPacketPath>([first, second], handler.SelectedPaths);
        connection.Close("test over");
    }

    [Fact]
    public void Local_addresses_compare_by_address_and_round_trip()
    {
        var v4 = UdpLocalAddress.From(IPAddress.Parse("192.0.2.7"));
        Assert.Equal(v4, UdpLocalAddress.FromIPv4([192, 0, 2, 7]));
        Assert.NotEqual(v4, UdpLocalAddress.From(IPAddress.Loopback));
        Assert.NotEqual(v4, default);
        Assert.False(default(UdpLocalAddress).IsKnown);
        Assert.Null(default(UdpLocalAddress).ToIPAddress());
        var v6 = UdpLocalAddress.From(IPAddress.Parse("2001:db8::1"));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), v6.ToIPAddress());
        Assert.NotEqual(v6, v4);
    }
}
