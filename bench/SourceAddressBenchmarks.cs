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
/// worker's batch, 32 such datagrams in one <c>sendmmsg</c> (per datagram). Loopback only.
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
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _receiver.Dispose();
        _batch.Dispose();
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
}
