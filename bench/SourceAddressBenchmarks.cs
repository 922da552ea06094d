using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Hosting;

namespace TeleRehab.Media.Bench;

/// <summary>
/// The UDP socket's per-datagram system calls on a socket bound to the wildcard address, as the server binds it: a
/// 1,200-byte datagram sent as the kernel routes it (<c>sendto</c>), sent from the address the peer sent to
/// (<c>sendmsg</c> with IP_PKTINFO, RFC 8445 §7.2.5.2.1), and one received with its destination address and kernel
/// time (<c>recvmsg</c> with IP_PKTINFO and SO_TIMESTAMPNS; the op sends it first with <c>sendto</c>); and a media
/// worker's batch, 32 such datagrams in one <c>sendmmsg</c> (per datagram). On the receive side, per datagram, a burst of
/// 32 (sent in one <c>sendmmsg</c>) read one <c>recvmsg</c> each, as the receive loop did, against one <c>recvmmsg</c>
/// for all (<see cref="UdpBatchReceiver"/>, each datagram with its source and destination address and kernel time, and
/// copied out of the batch into a pooled buffer as the server's loop does). Loopback only.
/// </summary>
[MemoryDiagnoser]
public class SourceAddressBenchmarks
{
    private readonly byte[] _datagram = new byte[1200];
    private readonly byte[] _buffer = new byte[2048];
    private Socket _server = null!;
    private Socket _peer = null!;
    private UdpPacketPath _routed = null!;
    private UdpPacketPath _fromLocal = null!;
    private UdpMessageReceiver _receiver = null!;
    private Socket _inbound = null!;
    private SocketAddress _inboundAddress = null!;
    private SocketAddress _from = null!;
    private UdpSendBatch _batch = null!;
    private Socket _burstTarget = null!;
    private UdpMessageReceiver _oneByOne = null!;
    private UdpBatchReceiver _batchReceiver = null!;
    private UdpPacketPath _toBurstTarget = null!;
    private UdpSendBatch _burst = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _server.Bind(new IPEndPoint(IPAddress.Any, 0));
        _peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _routed = new UdpPacketPath(_server, _peer.LocalEndPoint!.Serialize());
        _fromLocal = new UdpPacketPath(_server, _peer.LocalEndPoint!.Serialize(), UdpLocalAddress.From(IPAddress.Loopback));

        _inbound = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _inbound.Bind(new IPEndPoint(IPAddress.Any, 0));
        _receiver = UdpMessageReceiver.TryCreate(_inbound) ?? throw new PlatformNotSupportedException("recvmsg with control data needs 64-bit Linux");
        _inboundAddress = new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)_inbound.LocalEndPoint!).Port).Serialize();
        _from = new SocketAddress(AddressFamily.InterNetwork);
        _batch = new UdpSendBatch();

        _burstTarget = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _burstTarget.ReceiveBufferSize = 4 * 1024 * 1024;
        _burstTarget.Bind(new IPEndPoint(IPAddress.Any, 0));
        _oneByOne = UdpMessageReceiver.TryCreate(_burstTarget) ?? throw new PlatformNotSupportedException("recvmsg with control data needs 64-bit Linux");
        _batchReceiver = UdpBatchReceiver.TryCreate(_burstTarget) ?? throw new PlatformNotSupportedException("recvmmsg needs 64-bit Linux");
        _toBurstTarget = new UdpPacketPath(_peer, new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)_burstTarget.LocalEndPoint!).Port).Serialize(), UdpLocalAddress.From(IPAddress.Loopback));
        _burst = new UdpSendBatch();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _receiver.Dispose();
        _batch.Dispose();
        _oneByOne.Dispose();
        _batchReceiver.Dispose();
        _burst.Dispose();
        _burstTarget.Dispose();
        _server.Dispose();
        _peer.Dispose();
        _inbound.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool SendAsKernelRoutes() => _routed.Send(_datagram);

    [Benchmark]
    public bool SendFromLocalAddress() => _fromLocal.Send(_datagram);

    [Benchmark(OperationsPerInvoke = 32)]
    public long SendFromLocalAddressInBatchesOf32()
    {
        UdpSendBatch.Current = _batch;
        for (var i = 0; i < 32; i++) _fromLocal.Send(_datagram);
        UdpSendBatch.Current = null;
        _batch.Flush();
        return _batch.Sent;
    }

    [Benchmark]
    public int ReceiveWithDestinationAddress()
    {
        _peer.SendTo(_datagram, SocketFlags.None, _inboundAddress);
        return _receiver.Receive(_buffer, _from, TimeSpan.FromSeconds(1), out _, out _);
    }

    /// <summary>Sends 32 datagrams to the burst target in one sendmmsg (through a path with a known source, so they
    /// join the batch).</summary>
    private void SendBurst()
    {
        UdpSendBatch.Current = _burst;
        for (var i = 0; i < 32; i++) _toBurstTarget.Send(_datagram);
        UdpSendBatch.Current = null;
        _burst.Flush();
    }

    [Benchmark(OperationsPerInvoke = 32)]
    public int ReceiveBurstOf32OneByOne()
    {
        SendBurst();
        var total = 0;
        for (var i = 0; i < 32; i++) total += _oneByOne.Receive(_buffer, _from, TimeSpan.FromSeconds(1), out _, out _);
        return total;
    }

    [Benchmark(OperationsPerInvoke = 32)]
    public int ReceiveBurstOf32InOneBatch()
    {
        SendBurst();
        var total = 0;
        while (total < 32)
        {
            var count = _batchReceiver.ReceiveWaiting();
            if (count == 0)
            {
                _batchReceiver.WaitReadable(TimeSpan.FromSeconds(1));
                continue;
            }
            for (var i = 0; i < count; i++)
            {
                // What the server's loop does with each: its source for the route lookup, its local address, its
                // time, and a copy into a pooled buffer the worker takes (returned here as the worker would).
                _batchReceiver.CopySource(i, _from);
                var datagram = _batchReceiver.Datagram(i);
                var buffer = DatagramBuffers.Rent();
                datagram.CopyTo(buffer);
                _ = _batchReceiver.Local(i);
                _ = _batchReceiver.ReceivedAt(i);
                DatagramBuffers.Return(buffer);
            }
            total += count;
        }
        return total;
    }
}
