using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.WebRtc;

/// <summary>What a <see cref="PeerConnection"/> shares with its host: the DTLS certificate made at start-up and the
/// bounded handshake pool.</summary>
public sealed class PeerConnectionOptions
{
    public required DtlsCertificate Certificate { get; init; }

    /// <summary>The bounded pool that runs DTLS handshakes; null uses <see cref="DtlsHandshakeScheduler.Shared"/>.</summary>
    public DtlsHandshakeScheduler? HandshakeScheduler { get; init; }

    public DtlsSessionOptions? Dtls { get; init; }

    /// <summary>A connection that is not up (ICE and DTLS) this long after <see cref="PeerConnection.Start"/> fails, so a
    /// peer that negotiated but never connected frees its resources.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>RFC 7675 §5.1: consent expires after 30 s without a check or response.</summary>
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The server's shared data channel counters (for /metrics); null counts nothing server-wide.</summary>
    public DataChannelStats? DataChannelStats { get; init; }
}
