using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.Stun;
using TeleRehab.Media.Tests.Ice;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>The demultiplexer after an ICE restart: the peer is found by its old and its new ufrag until a check with the
/// new credentials succeeds, then by the new one only (a new address checking with the old ufrag is dropped, a known one
/// gets 401 from the peer's agent); when the peer goes, none of its ufrags stays behind.</summary>
[Collection(HostingCollection.Name)]
public sealed class IceRestartRegistryTests : IAsyncLifetime
{
    private static readonly IceCredentials Remote = new("brwU", "browserpassword1234567890");
    private static readonly IceCredentials Restarted = new("brw2", "browserpassword2222222222");

    private readonly List<Socket> _clients = [];
    private MediaServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new MediaServer(new MediaServerOptions { UdpPort = 0, TcpPort = -1, ListenAddress = "127.0.0.1", Workers = 1 });
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        await _server.DisposeAsync();
    }

    private Socket NewClient()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _clients.Add(socket);
        return socket;
    }

    /// <summary>Sends a check from <paramref name="client"/> and returns the response's error code (0 for a success),
    /// or null when nothing came back within <paramref name="waitMs"/>.</summary>
    private int? Check(Socket client, string username, string password, int waitMs = 2000)
    {
        client.SendTo(IceTestUtil.BuildRequest(username, password), new IPEndPoint(IPAddress.Loopback, _server.UdpPort));
        client.ReceiveTimeout = waitMs;
        var buffer = new byte[1500];
        try
        {
            var length = client.Receive(buffer);
            Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var response));
            if (response.MessageType == StunMessageType.BindingSuccess) return 0;
            Assert.True(response.TryGetErrorCode(out var code, out _));
            return code;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
        {
            return null;
        }
    }

    [Fact]
    public async Task The_old_ufrag_finds_the_peer_until_the_new_credentials_are_used_and_no_ufrag_outlives_the_peer()
    {
        var original = IceCredentials.Generate();
        var peer = new RestartingPeer(_server, original, Remote);
        _server.Register(peer);
        var oldPath = NewClient();
        Assert.Equal(0, Check(oldPath, $"{original.Ufrag}:brwU", original.Password));

        // The restart (as RoomParticipant makes it on the peer's worker): new local credentials, reachable by their ufrag.
        var restarted = IceCredentials.Generate();
        Assert.True(_server.AddUfrag(peer, restarted.Ufrag));
        Assert.False(_server.AddUfrag(peer, restarted.Ufrag)); // taken
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(_server.PostTo(peer, () => { peer.Agent.Restart(Restarted, restarted); done.SetResult(); }));
        await done.Task;
        Assert.Same(peer, _server.FindPeer(original.Ufrag));
        Assert.Same(peer, _server.FindPeer(restarted.Ufrag));
        Assert.Equal(2, _server.UfragCount);

        // Until the peer has the answer it checks with the old pair, from its known address and from a new one.
        Assert.Equal(0, Check(oldPath, $"{original.Ufrag}:brwU", original.Password));
        Assert.Equal(0, Check(NewClient(), $"{original.Ufrag}:brwU", original.Password));

        // The first check with the new pair (from a new address) retires the old ufrag.
        var newPath = NewClient();
        Assert.Equal(0, Check(newPath, $"{restarted.Ufrag}:brw2", restarted.Password));
        Assert.True(await HostingTestKit.WaitUntilAsync(() => _server.FindPeer(original.Ufrag) is null));
        Assert.Same(peer, _server.FindPeer(restarted.Ufrag));
        Assert.Equal(1, _server.UfragCount);

        // The old credentials: a known address reaches the peer, whose agent answers 401 (RFC 8489 §9.1.3); a new address
        // with an unknown ufrag is dropped by the demultiplexer without an answer, as any unknown ufrag.
        Assert.Equal(StunErrorCodes.Unauthorized, Check(oldPath, $"{original.Ufrag}:brwU", original.Password));
        var dropped = _server.DroppedDatagrams;
        Assert.Null(Check(NewClient(), $"{original.Ufrag}:brwU", original.Password, waitMs: 500));
        Assert.Equal(dropped + 1, _server.DroppedDatagrams);
        Assert.Equal(0, Check(newPath, $"{restarted.Ufrag}:brw2", restarted.Password));

        // A restart whose answer is never used, then the peer goes: none of its ufrags stays.
        var unused = IceCredentials.Generate();
        Assert.True(_server.AddUfrag(peer, unused.Ufrag));
        Assert.Equal(2, _server.UfragCount);
        _server.Close(peer, "done");
        Assert.True(await HostingTestKit.WaitUntilAsync(() => _server.PeerCount == 0));
        Assert.Equal(0, _server.UfragCount);
        Assert.Null(_server.FindPeer(restarted.Ufrag));
        Assert.Null(_server.FindPeer(unused.Ufrag));
        Assert.False(_server.AddUfrag(peer, IceCredentials.Generate().Ufrag)); // a retired peer gets none
        Assert.Equal(0, _server.UfragCount);
    }

    /// <summary>An ICE-lite peer that binds the paths it answers and forgets a retired ufrag, as a room participant does.</summary>
    private sealed class RestartingPeer(MediaServer server, IceCredentials local, IceCredentials remote) : IMediaPeer
    {
        public IceLiteAgent Agent { get; } = new(local, remote);

        public string LocalUfrag => Agent.LocalCredentials.Ufrag;

        public bool IsAuthenticCheck(ReadOnlySpan<byte> request) => Agent.IsAuthenticCheck(request);

        public void HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now)
        {
            Span<byte> response = stackalloc byte[1500];
            var result = path is IUdpPacketPath udp
                ? Agent.HandleBindingRequest(buffer[..length], udp.Address, now, response)
                : Agent.HandleBindingRequest(buffer[..length], path.Remote, now, response);
            if (result.HasResponse) path.Send(response[..result.ResponseLength]);
            if (result.RetiredLocalCredentials is { } retired) server.RemoveUfrag(this, retired.Ufrag);
            if (result.Outcome == IceRequestOutcome.SuccessResponse) server.BindPath(this, path);
        }

        public void HandleTimeout(TimeSpan now)
        {
        }

        public TimeSpan? NextTimeout => null;

        public bool IsClosed { get; private set; }

        public void Close(string reason) => IsClosed = true;

        public void Dispose() => Agent.Dispose();
    }
}
