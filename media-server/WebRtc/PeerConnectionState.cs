namespace TeleRehab.Media.WebRtc;

/// <summary>Where a <see cref="PeerConnection"/> is, like RTCPeerConnectionState.</summary>
public enum PeerConnectionState
{
    /// <summary>Made, nothing received or sent yet.</summary>
    New,
    /// <summary>ICE connectivity checks under way.</summary>
    Checking,
    /// <summary>ICE selected a pair; the DTLS handshake runs.</summary>
    Connecting,
    /// <summary>DTLS done, SRTP keys in place: media flows.</summary>
    Connected,
    /// <summary>Closed on purpose (either side).</summary>
    Closed,
    /// <summary>Lost: ICE consent, a DTLS failure (e.g. fingerprint mismatch) or a timeout.</summary>
    Failed,
}

/// <summary>The layer that failed a <see cref="PeerConnection"/> (for metrics and diagnostics).</summary>
public enum PeerFailure
{
    None,
    /// <summary>ICE: no pair succeeded, the connect timeout passed, or consent was lost.</summary>
    Ice,
    /// <summary>DTLS: handshake failure, fingerprint mismatch, timeout or an unusable SRTP profile.</summary>
    Dtls,
}
