using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Hosting;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>
/// The receive loop takes a burst of datagrams in one recvmmsg(2) (<see cref="UdpBatchReceiver"/>): each datagram of a
/// batch keeps its own sender, the local address it was sent to (so replies leave from it, RFC 8445 §7.2.5.2.1), its
/// length and its arrival time, in the order they came; an oversize datagram is reported truncated, never passed on cut
/// short; an empty one is an empty datagram. 64-bit Linux, where the server runs.
/// </summary>
[Collection(HostingCollection.Name)]
public sealed class UdpBatchReceiverTests : IDisposable
{
    private readonly Socket _server = Bound(IPAddress.Any);

    private static Socket Bound(IPAddress address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }

    private int ServerPort => ((IPEndPoint)_server.LocalEndPoint!).Port;

    public void Dispose() => _server.Dispose();

    /// <summary>Reads batches until <paramref name="expected"/> datagrams came (the kernel may split a burst).</summary>
    private static List<(byte[] Data, IPEndPoint From, IPAddress? Local, bool Truncated, long ReceivedAt)> ReceiveAll(UdpBatchReceiver receiver, int expected)
    {
        var all = new List<(byte[], IPEndPoint, IPAddress?, bool, long)>();
        var from = new SocketAddress(AddressFamily.InterNetwork);
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 5;
        while (all.Count < expected && Stopwatch.GetTimestamp() < deadline)
        {
            var count = receiver.ReceiveWaiting();
            if (count == 0)
            {
                receiver.WaitReadable(TimeSpan.FromMilliseconds(100));
                continue;
            }
            Assert.Equal(count, receiver.Count);
            for (var i = 0; i < count; i++)
            {
                receiver.CopySource(i, from);
                var local = receiver.Local(i);
                all.Add((receiver.Datagram(i).ToArray(), (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(from),
                    local.IsKnown ? local.ToIPAddress() : null, receiver.IsTruncated(i), receiver.ReceivedAt(i)));
            }
        }
        return all;
    }

    [Fact]
    public void A_burst_from_several_peers_to_several_local_addresses_comes_in_order_each_with_its_own_source_and_local_address()
    {
        using var receiver = UdpBatchReceiver.TryCreate(_server, kernelTimestamps: false);
        Assert.NotNull(receiver);
        Assert.True(receiver.PacketInfo);
        var nonLoopback = SourceAddressTests.NonLoopbackAddress();
        using var peerA = Bound(IPAddress.Loopback);
        using var peerB = Bound(IPAddress.Any);

        // 40 datagrams: more than one batch holds (32), alternating senders, destinations and lengths.
        var sent = new List<(byte[] Data, Socket From, IPAddress To)>();
        for (var i = 0; i < 40; i++)
        {
            var data = new byte[1 + i * 30];
            data[0] = (byte)i;
            var (peer, to) = (i % 3) switch
            {
                0 => (peerA, IPAddress.Loopback),
                1 => (peerB, nonLoopback),
                _ => (peerB, IPAddress.Loopback),
            };
            peer.SendTo(data, new IPEndPoint(to, ServerPort));
            sent.Add((data, peer, to));
        }

        var received = ReceiveAll(receiver, sent.Count);
        Assert.Equal(sent.Count, received.Count);
        Assert.True(receiver.Calls >= 2, "40 datagrams take at least two calls of 32");
        Assert.True(receiver.Calls < 40, $"a burst is read in batches, not one call each ({receiver.Calls} calls)");
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.Equal(sent[i].Data, received[i].Data);
            Assert.False(received[i].Truncated);
            Assert.Equal(sent[i].To, received[i].Local);
            // A sender bound to the wildcard address sends from the address routing picks for the destination.
            var expectedFrom = (IPEndPoint)sent[i].From.LocalEndPoint!;
            Assert.Equal(expectedFrom.Port, received[i].From.Port);
            if (!expectedFrom.Address.Equals(IPAddress.Any)) Assert.Equal(expectedFrom.Address, received[i].From.Address);
            else Assert.Equal(sent[i].To, received[i].From.Address);
        }
    }

    [Fact]
    public void An_oversize_datagram_is_reported_truncated_between_whole_ones_and_an_empty_one_is_empty()
    {
        using var receiver = UdpBatchReceiver.TryCreate(_server, kernelTimestamps: false);
        Assert.NotNull(receiver);
        using var peer = Bound(IPAddress.Loopback);
        var to = new IPEndPoint(IPAddress.Loopback, ServerPort);
        peer.SendTo(new byte[] { 1, 2, 3 }, to);
        peer.SendTo(new byte[UdpBatchReceiver.SlotSize + 500], to);
        peer.SendTo(Array.Empty<byte>(), to);
        peer.SendTo(new byte[UdpBatchReceiver.SlotSize], to); // exactly a slot: whole

        var received = ReceiveAll(receiver, 4);
        Assert.Equal(4, received.Count);
        Assert.Equal([1, 2, 3], received[0].Data);
        Assert.False(received[0].Truncated);
        Assert.True(received[1].Truncated);
        Assert.Equal(UdpBatchReceiver.SlotSize, received[1].Data.Length);
        Assert.Empty(received[2].Data);
        Assert.False(received[2].Truncated);
        Assert.Equal(UdpBatchReceiver.SlotSize, received[3].Data.Length);
        Assert.False(received[3].Truncated);
    }

    [Fact]
    public void Nothing_waiting_returns_zero_without_blocking_and_a_wait_ends_when_a_datagram_comes()
    {
        using var receiver = UdpBatchReceiver.TryCreate(_server, kernelTimestamps: false);
        Assert.NotNull(receiver);
        Assert.Equal(0, receiver.ReceiveWaiting());
        Assert.Equal(0, receiver.Count);
        Assert.False(receiver.WaitReadable(TimeSpan.FromMilliseconds(20)));
        Assert.Throws<ArgumentOutOfRangeException>(() => receiver.Datagram(0).Length);

        using var peer = Bound(IPAddress.Loopback);
        peer.SendTo(new byte[] { 9 }, new IPEndPoint(IPAddress.Loopback, ServerPort));
        Assert.True(receiver.WaitReadable(TimeSpan.FromSeconds(5)));
        Assert.Equal(1, receiver.ReceiveWaiting());
        Assert.Equal([9], receiver.Datagram(0).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => receiver.Datagram(1).Length);
    }

    [Fact]
    public void Datagrams_that_waited_in_the_socket_keep_the_kernels_arrival_times_in_order()
    {
        using var socket = Bound(IPAddress.Loopback);
        using var receiver = UdpBatchReceiver.TryCreate(socket);
        Assert.NotNull(receiver);
        Assert.True(receiver.KernelTimestamps);
        using var peer = Bound(IPAddress.Loopback);
        var to = socket.LocalEndPoint!;
        // The kernel turns its stamps on some moments after the first socket asks (see KernelTimestampTests): one round first.
        peer.SendTo(new byte[] { 0 }, to);
        ReceiveAll(receiver, 1);
        Thread.Sleep(100);

        peer.SendTo(new byte[] { 1 }, to);
        Thread.Sleep(60);
        peer.SendTo(new byte[] { 2 }, to);
        Thread.Sleep(60);
        var read = Stopwatch.GetTimestamp();
        var received = ReceiveAll(receiver, 2);
        Assert.Equal(2, received.Count);
        var spacing = Stopwatch.GetElapsedTime(received[0].ReceivedAt, received[1].ReceivedAt);
        var age = Stopwatch.GetElapsedTime(received[1].ReceivedAt, read);
        // Both read in one call, yet 60 ms apart and the second one stamped before the read (loose bounds: a shared VM).
        Assert.InRange(spacing.TotalMilliseconds, 30, 500);
        Assert.InRange(age.TotalMilliseconds, 30, 1000);
        Assert.Equal(3, receiver.KernelStamped);
    }
}

/// <summary>The server's receive loop with batches: a burst from one peer reaches it whole and in order, with the local
/// address it was sent to, and an oversize datagram among them is dropped and counted, not passed on cut short.</summary>
[Collection(HostingCollection.Name)]
public sealed class BatchReceiveLoopTests : IAsyncLifetime
{
    private MediaServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new MediaServer(new MediaServerOptions { UdpPort = 0, TcpPort = -1, ListenAddress = "0.0.0.0", Workers = 2 });
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Binds the address of the first datagram (as ICE does for a valid check) and records every datagram.</summary>
    private sealed class RecordingPeer(MediaServer server) : IMediaPeer
    {
        private readonly List<(byte[] Data, IPAddress? Local)> _received = [];

        public (byte[] Data, IPAddress? Local)[] Received
        {
            get { lock (_received) return [.. _received]; }
        }

        public string LocalUfrag => "batchpeer";

        public bool IsAuthenticCheck(ReadOnlySpan<byte> request) => false;

        public void HandleDatagram(Span<byte> buffer, int length, TeleRehab.Media.Net.IPacketPath path, TimeSpan now)
        {
            var udp = (UdpPacketPath)path;
            server.BindPath(this, path); // before it is seen received: the test's next datagrams need the route
            lock (_received) _received.Add((buffer[..length].ToArray(), udp.Local.IsKnown ? udp.Local.ToIPAddress() : null));
        }

        public void HandleTimeout(TimeSpan now)
        {
        }

        public TimeSpan? NextTimeout => null;

        public bool IsClosed { get; private set; }

        public void Close(string reason) => IsClosed = true;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task A_burst_reaches_its_peer_whole_and_in_order_and_an_oversize_datagram_is_dropped()
    {
        var peer = new RecordingPeer(_server);
        _server.Register(peer);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var to = new IPEndPoint(IPAddress.Loopback, _server.UdpPort);

        var check = TeleRehab.Media.Tests.Ice.IceTestUtil.BuildRequest("batchpeer:remote", "whatever-password-1234");
        client.SendTo(check, to);
        Assert.True(await HostingTestKit.WaitUntilAsync(() => peer.Received.Length == 1));
        Assert.Equal(IPAddress.Loopback, peer.Received[0].Local);

        var dropped = _server.DroppedDatagrams;
        var sent = new List<byte[]>();
        for (var i = 0; i < 100; i++)
        {
            // RTP-like first byte (0x80): routed by the known address, not by STUN.
            var data = new byte[20 + i * 12];
            data[0] = 0x80;
            data[1] = (byte)i;
            sent.Add(data);
            client.SendTo(data, to);
            if (i == 50) client.SendTo(new byte[UdpBatchReceiver.SlotSize + 100], to);
        }
        Assert.True(await HostingTestKit.WaitUntilAsync(() => peer.Received.Length == 101), $"{peer.Received.Length - 1} of 100 arrived");
        var received = peer.Received[1..];
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.Equal(sent[i], received[i].Data);
            Assert.Equal(IPAddress.Loopback, received[i].Local);
        }
        Assert.Equal(dropped + 1, _server.DroppedDatagrams);
        Assert.True(_server.RepliesFromDestinationAddress);
    }
}
