using TeleRehab.Media.Net;
namespace TeleRehab.Media.Hosting;

/// <summary>A peer as the host sees it: a sans-I/O state machine fed with datagrams and time by its worker.
/// All members except <see cref="LocalUfrag"/> are called on the owning worker's thread only.</summary>
public interface IMediaPeer
{
    /// <summary>The ICE username fragment the server gave this peer; the demultiplexer finds new addresses by it.</summary>
    string LocalUfrag { get; }

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
