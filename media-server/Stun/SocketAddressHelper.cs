using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TeleRehab.Media.Stun;

/// <summary>Allocation-free access to the IP address and port held in a <see cref="SocketAddress"/>.</summary>
public static class SocketAddressHelper
{
    /// <summary>
    /// Copies the IP address (4 bytes for IPv4, 16 for IPv6; IPv4-mapped IPv6 addresses are unmapped to 4 bytes)
    /// and the port out of <paramref name="socketAddress"/>. Returns false for other families or short buffers.
    /// </summary>
    public static bool TryGetAddress(SocketAddress socketAddress, Span<byte> address, out int addressLength, out ushort port)
    {
        addressLength = 0;
        port = 0;
        ReadOnlySpan<byte> raw = socketAddress.Buffer.Span[..socketAddress.Size];
        // Both sockaddr_in and sockaddr_in6 keep the port (network order) at offset 2 on every platform .NET supports.
        if (socketAddress.Family == AddressFamily.InterNetwork)
        {
            if (raw.Length < 8 || address.Length < 4) return false;
            port = BinaryPrimitives.ReadUInt16BigEndian(raw[2..]);
            raw.Slice(4, 4).CopyTo(address);
            addressLength = 4;
            return true;
        }
        if (socketAddress.Family == AddressFamily.InterNetworkV6)
        {
            if (raw.Length < 24) return false;
            port = BinaryPrimitives.ReadUInt16BigEndian(raw[2..]);
            ReadOnlySpan<byte> a = raw.Slice(8, 16);
            if (IsIPv4Mapped(a))
            {
                if (address.Length < 4) return false;
                a[12..].CopyTo(address);
                addressLength = 4;
                return true;
            }
            if (address.Length < 16) return false;
            a.CopyTo(address);
            addressLength = 16;
            return true;
        }
        return false;
    }

    /// <summary>True when both hold the same IP address and port (IPv4-mapped IPv6 equals plain IPv4).</summary>
    public static bool AddressEquals(SocketAddress a, SocketAddress b)
    {
        if (ReferenceEquals(a, b)) return true;
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        if (!TryGetAddress(a, x, out int xl, out ushort xp) || !TryGetAddress(b, y, out int yl, out ushort yp))
            return a.Equals(b);
        return xp == yp && x[..xl].SequenceEqual(y[..yl]);
    }

    /// <summary>A new, independent copy (the host usually reuses its receive SocketAddress).</summary>
    public static SocketAddress Clone(SocketAddress source)
    {
        var copy = new SocketAddress(source.Family, source.Size);
        source.Buffer.Span[..source.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    /// <summary>Converts to an <see cref="IPEndPoint"/> (allocates; not for per-packet paths).</summary>
    public static IPEndPoint ToEndPoint(SocketAddress socketAddress)
    {
        var template = new IPEndPoint(socketAddress.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        return (IPEndPoint)template.Create(socketAddress);
    }

    internal static bool IsIPv4Mapped(ReadOnlySpan<byte> ipv6)
    {
        for (int i = 0; i < 10; i++)
            if (ipv6[i] != 0) return false;
        return ipv6[10] == 0xFF && ipv6[11] == 0xFF;
    }
}
