using TeleRehab.Media.Net;
using System.Net;
using System.Net.Sockets;

namespace TeleRehab.Media.Hosting;

/// <summary>A remote UDP address on the shared media socket. Made once per new remote address (cold path);
/// sending uses the <see cref="SocketAddress"/> overload so no <see cref="EndPoint"/> is made per packet.</summary>
public sealed class UdpPacketPath : IUdpPacketPath
{
    private readonly Socket _socket;
    private readonly SocketAddress _address;

    public UdpPacketPath(Socket socket, SocketAddress address)
    {
        _socket = socket;
        _address = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(_address.Buffer.Span);
        Remote = (IPEndPoint)new IPEndPoint(address.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(_address);
    }

    public IPEndPoint Remote { get; }

    public SocketAddress Address => _address;

    public bool IsTcp => false;

    public bool Send(ReadOnlySpan<byte> datagram)
    {
        try
        {
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

    public override string ToString() => $"udp:{Remote}";
}
