using System.Net;

namespace TeleRehab.Media.Net;

/// <summary>One way back to a remote transport address: a UDP 5-tuple on the shared socket or one ICE-TCP connection.
/// <see cref="Send"/> is safe to call from any thread and never blocks on the network.</summary>
public interface IPacketPath
{
    IPEndPoint Remote { get; }

    bool IsTcp { get; }

    /// <summary>Sends one datagram (for TCP, one RFC 4571 frame). Returns false if the path is gone.</summary>
    bool Send(ReadOnlySpan<byte> datagram);
}

/// <summary>A UDP path, with its remote as a <see cref="System.Net.SocketAddress"/> so per-packet code compares
/// addresses without making endpoint objects.</summary>
public interface IUdpPacketPath : IPacketPath
{
    System.Net.SocketAddress Address { get; }

    /// <summary>True when this path and <paramref name="other"/> are one candidate pair: the same remote and the same
    /// local address (RFC 8445 §6.1.2.2). A path that knows no local address compares remotes only.</summary>
    bool IsSamePair(IUdpPacketPath other) => Address.Equals(other.Address);
}
