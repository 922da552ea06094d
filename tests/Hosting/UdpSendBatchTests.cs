using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Hosting;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>
/// A media worker's sends go to the kernel in one sendmmsg(2) per wake-up (<see cref="UdpSendBatch"/>): every datagram
/// arrives, in order, from the source address its path names (RFC 8445 §7.2.5.2.1 still holds per message), one the
/// kernel refuses costs only itself, and a full batch goes by itself. 64-bit Linux, where the server runs.
/// </summary>
[Collection(HostingCollection.Name)]
public sealed class UdpSendBatchTests : IDisposable
{
    private readonly Socket _server = Bound(IPAddress.Any);
    private readonly UdpSendBatch _batch = new();

    private static Socket Bound(IPAddress address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        socket.ReceiveTimeout = 5000;
        return socket;
    }

    private int ServerPort => ((IPEndPoint)_server.LocalEndPoint!).Port;

    private static SocketAddress AddressOf(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Serialize();

    private UdpPacketPath PathTo(Socket peer, IPAddress from) =>
        new(_server, AddressOf(peer), UdpLocalAddress.From(from));

    private static (byte[] Data, IPEndPoint From) ReceiveOne(Socket socket)
    {
        var buffer = new byte[2048];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        var length = socket.ReceiveFrom(buffer, ref from);
        return (buffer[..length], (IPEndPoint)from);
    }

    [Fact]
    public void Datagrams_of_a_batch_arrive_in_order_each_from_the_source_address_its_path_names()
    {
        using var peerA = Bound(IPAddress.Loopback);
        using var peerB = Bound(IPAddress.Any);
        var pathA = PathTo(peerA, IPAddress.Loopback);
        var pathB = PathTo(peerB, SourceAddressTests.NonLoopbackAddress());

        UdpSendBatch.Current = _batch;
        try
        {
            for (byte i = 0; i < 10; i++)
            {
                Assert.True(pathA.Send([1, i]));
                Assert.True(pathB.Send(new byte[1200 + i]));
            }
            Assert.Equal(20, _batch.Count); // queued, not sent
            Assert.Equal(0, peerA.Available);
            _batch.Flush();
        }
        finally
        {
            UdpSendBatch.Current = null;
        }

        Assert.Equal(1, _batch.Calls);
        Assert.Equal(20, _batch.Sent);
        for (byte i = 0; i < 10; i++)
        {
            var (data, from) = ReceiveOne(peerA);
            Assert.Equal(new byte[] { 1, i }, data);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, ServerPort), from);
            (data, from) = ReceiveOne(peerB);
            Assert.Equal(1200 + i, data.Length);
            Assert.Equal(new IPEndPoint(SourceAddressTests.NonLoopbackAddress(), ServerPort), from);
        }
    }

    [Fact]
    public void A_full_batch_goes_by_itself_and_a_refused_datagram_costs_only_itself()
    {
        using var peer = Bound(IPAddress.Loopback);
        var path = PathTo(peer, IPAddress.Loopback);
        UdpSendBatch.Current = _batch;
        try
        {
            for (var i = 0; i < UdpSendBatch.Capacity + 3; i++) Assert.True(path.Send(BitConverter.GetBytes(i)));
            Assert.Equal(3, _batch.Count); // the first Capacity went when the batch was full
            _batch.Flush();

            // A destination the kernel refuses (the limited broadcast address, without SO_BROADCAST: EACCES) between
            // datagrams to the peer: those still go.
            var refused = new UdpPacketPath(_server, new IPEndPoint(IPAddress.Broadcast, 9).Serialize(), UdpLocalAddress.From(IPAddress.Loopback));
            for (var round = 0; round < 3; round++)
            {
                Assert.True(refused.Send([9]));
                Assert.True(path.Send([7, (byte)round]));
            }
            _batch.Flush();
        }
        finally
        {
            UdpSendBatch.Current = null;
        }

        for (var i = 0; i < UdpSendBatch.Capacity + 3; i++) Assert.Equal(BitConverter.GetBytes(i), ReceiveOne(peer).Data);
        for (byte round = 0; round < 3; round++) Assert.Equal(new byte[] { 7, round }, ReceiveOne(peer).Data);
        Assert.Equal(3, _batch.Failed);
        Assert.Equal(UdpSendBatch.Capacity + 3 + 3, _batch.Sent);
    }

    [Fact]
    public void Off_a_worker_thread_a_path_sends_at_once()
    {
        using var peer = Bound(IPAddress.Loopback);
        Assert.Null(UdpSendBatch.Current);
        Assert.True(PathTo(peer, IPAddress.Loopback).Send([5]));
        Assert.Equal(new byte[] { 5 }, ReceiveOne(peer).Data);
    }

    public void Dispose()
    {
        _batch.Dispose();
        _server.Dispose();
    }
}
