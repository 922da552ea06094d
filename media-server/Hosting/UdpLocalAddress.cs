using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TeleRehab.Media.Hosting;

/// <summary>
/// The local address a datagram was sent to, read from its IP_PKTINFO / IPV6_PKTINFO control message (ip(7), ipv6(7)):
/// on a socket bound to the wildcard address it tells which of the host's addresses the peer sends to, and replies to
/// that peer must leave from it (RFC 8445 §7.2.5.2.1). A small value kept inline in the path (no allocation per
/// datagram); <c>default</c> means unknown, and such a path sends as the kernel chooses.
/// </summary>
public readonly struct UdpLocalAddress : IEquatable<UdpLocalAddress>
{
    private readonly ulong _high; // the address bytes, network order, as two big-endian halves (IPv4 in _low's top 4)
    private readonly ulong _low;

    private UdpLocalAddress(AddressFamily family, ulong high, ulong low, int interfaceIndex)
    {
        Family = family;
        _high = high;
        _low = low;
        InterfaceIndex = interfaceIndex;
    }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>; Unspecified when unknown.</summary>
    public AddressFamily Family { get; }

    /// <summary>The interface the datagram came in on (used when sending from an IPv6 link-local address).</summary>
    public int InterfaceIndex { get; }

    public bool IsKnown => Family != AddressFamily.Unspecified;

    /// <summary>An IPv4 address from its 4 bytes in network order.</summary>
    public static UdpLocalAddress FromIPv4(ReadOnlySpan<byte> address) =>
        new(AddressFamily.InterNetwork, 0, (ulong)BinaryPrimitives.ReadUInt32BigEndian(address) << 32, 0);

    /// <summary>An IPv6 address from its 16 bytes in network order, received on interface <paramref name="interfaceIndex"/>.</summary>
    public static UdpLocalAddress FromIPv6(ReadOnlySpan<byte> address, int interfaceIndex) =>
        new(AddressFamily.InterNetworkV6, BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]), interfaceIndex);

    /// <summary>The local address <paramref name="address"/> (cold path: tests, configuration).</summary>
    public static UdpLocalAddress From(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return address.AddressFamily == AddressFamily.InterNetwork
            ? FromIPv4(bytes[..written])
            : FromIPv6(bytes, (int)address.ScopeId);
    }

    /// <summary>Writes the 4 (IPv4) or 16 (IPv6) address bytes in network order; returns how many.</summary>
    public int WriteAddress(Span<byte> destination)
    {
        if (Family == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(_low >> 32));
            return 4;
        }
        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
        return 16;
    }

    /// <summary>The address as an <see cref="IPAddress"/> (allocates: diagnostics and tests), or null when unknown.</summary>
    public IPAddress? ToIPAddress()
    {
        if (!IsKnown) return null;
        Span<byte> bytes = stackalloc byte[16];
        var length = WriteAddress(bytes);
        return Family == AddressFamily.InterNetwork ? new IPAddress(bytes[..length]) : new IPAddress(bytes, InterfaceIndex);
    }

    /// <summary>Same family and address (the interface index is not compared: on Linux a datagram from this host to
    /// its own non-loopback address comes in on the loopback interface, and the address is what the peer chose).</summary>
    public bool Equals(UdpLocalAddress other) => Family == other.Family && _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is UdpLocalAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Family, _high, _low);

    public static bool operator ==(UdpLocalAddress left, UdpLocalAddress right) => left.Equals(right);

    public static bool operator !=(UdpLocalAddress left, UdpLocalAddress right) => !left.Equals(right);

    public override string ToString() => ToIPAddress()?.ToString() ?? "unknown";
}
