using TeleRehab.Media.Net;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TeleRehab.Media.Hosting;

/// <summary>
/// A remote UDP address on the shared media socket, and the local address the remote sends to. Made once per new
/// (remote, local) pair (cold path); sending uses the <see cref="SocketAddress"/> overload, or sendmsg(2) with the
/// source address, so no <see cref="EndPoint"/> is made per packet.
/// <para>
/// RFC 8445 §7.2.5.2.1: a response must come from the transport address its request was sent to, or a strict agent
/// fails the pair; media on the selected pair likewise leaves from the pair's local candidate. With the socket bound
/// to the wildcard address the kernel would pick the source by its routing table (on a host with several addresses,
/// a check sent from one address to another's candidate is answered from the wrong one), so a path that knows its
/// <see cref="Local"/> address names it as each datagram's source (IP_PKTINFO / IPV6_PKTINFO).
/// </para>
/// </summary>
public sealed class UdpPacketPath : IUdpPacketPath
{
    private readonly Socket _socket;
    private readonly SocketAddress _address;
    private readonly UdpLocalAddress _local;
    private readonly SafeHandle? _sendFrom; // the socket's handle when datagrams name their source

    /// <summary>A path to <paramref name="address"/> that sends as the kernel routes (a socket bound to one address,
    /// e.g. a client's).</summary>
    public UdpPacketPath(Socket socket, SocketAddress address) : this(socket, address, default)
    {
    }

    /// <summary>A path to <paramref name="address"/> whose datagrams leave from <paramref name="local"/> (the address the
    /// remote sent to; default when unknown).</summary>
    public UdpPacketPath(Socket socket, SocketAddress address, UdpLocalAddress local)
    {
        _socket = socket;
        _address = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(_address.Buffer.Span);
        _local = local;
        if (local.IsKnown && local.Family == address.Family && LinuxUdp.IsSupported) _sendFrom = socket.SafeHandle;
        Remote = (IPEndPoint)new IPEndPoint(address.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(_address);
    }

    public IPEndPoint Remote { get; }

    public SocketAddress Address => _address;

    /// <summary>The local address this path's datagrams leave from (default: as the kernel routes them).</summary>
    public UdpLocalAddress Local => _local;

    public bool IsTcp => false;

    /// <summary>Same remote and same local address: one candidate pair (RFC 8445 §6.1.2.2).</summary>
    public bool IsSamePair(IUdpPacketPath other) =>
        other is UdpPacketPath path ? _address.Equals(path._address) && _local.Equals(path._local) : _address.Equals(other.Address);

    public bool Send(ReadOnlySpan<byte> datagram)
    {
        try
        {
            if (_sendFrom is not null)
            {
                // On a media worker the datagram joins the worker's batch (one sendmmsg when it is done): "sent" means
                // handed to the batch, as it means handed to the kernel, not delivered.
                var remote = _address.Buffer.Span[.._address.Size];
                if (UdpSendBatch.Current is { } batch && batch.Add(_sendFrom, datagram, remote, _local)) return true;
                return LinuxUdp.SendFrom(_sendFrom, datagram, remote, _local) == 0;
            }
            _socket.SendTo(datagram, SocketFlags.None, _address);
            return true;
        }
        catch (SocketException)
        {
            return false; // ICMP errors surface here on some platforms; consent freshness decides liveness.
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public override string ToString() => _local.IsKnown ? $"udp:{Remote} via {_local}" : $"udp:{Remote}";
}
