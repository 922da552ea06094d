using TeleRehab.Media.Net;
namespace TeleRehab.Media.Hosting;

/// <summary>A peer as the host sees it: a sans-I/O state machine fed with datagrams and time by its worker.
/// All members except <see cref="LocalUfrag"/> and <see cref="IsAuthenticCheck"/> are called on the owning worker's
/// thread only.</summary>
public interface IMediaPeer
{
    /// <summary>The ICE username fragment the server gives this peer now (the one it is registered with, at first); the
    /// demultiplexer finds new addresses by it, and by the ufrag an ICE restart adds (<see cref="MediaServer.AddUfrag"/>).</summary>
    string LocalUfrag { get; }

    /// <summary>True when <paramref name="request"/> is a STUN Binding request with a valid FINGERPRINT, this peer's
    /// USERNAME and MESSAGE-INTEGRITY keyed with this peer's local ICE password (RFC 8445 §7.2.2). Called from any
    /// thread (the ICE-TCP listener attaches a connection to a peer only after such a check); must change nothing.</summary>
    bool IsAuthenticCheck(ReadOnlySpan<byte> request);

    /// <summary>One received datagram in <paramref name="buffer"/>[..<paramref name="length"/>]. The buffer is the peer's to modify in
    /// place until it returns (decrypt, rewrite, re-encrypt and send without a copy); it is larger than the datagram.</summary>
    void HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now);

    void HandleTimeout(TimeSpan now);

    /// <summary>When the peer next wants <see cref="HandleTimeout"/>; null when it has no timer.</summary>
    TimeSpan? NextTimeout { get; }

    /// <summary>True once the peer is finished; the worker then unregisters it and calls <see cref="Dispose"/>.</summary>
    bool IsClosed { get; }

    /// <summary>Asks the peer to close (e.g. the echo time limit or server shutdown).</summary>
    void Close(string reason);

    void Dispose();
}
