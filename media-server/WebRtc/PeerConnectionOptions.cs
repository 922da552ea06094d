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

    /// <summary>RFC 7675 §5.1: consent expires after 30 s without a check or response.</summary>
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
