namespace TeleRehab.Media.Dtls;

/// <summary>Tunables of a <see cref="DtlsSession"/>.</summary>
public sealed class DtlsSessionOptions
{
    public static DtlsSessionOptions Default { get; } = new();

    /// <summary>Overall handshake deadline (default 15 s). The handshake fails with <see cref="DtlsFailureReason.Timeout"/> after it.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Initial flight retransmission timer, doubled on each retransmission (RFC 6347 §4.2.4.1: 1 s).</summary>
    public TimeSpan InitialRetransmitTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Largest datagram we send (default 1200): handshake messages are fragmented to fit, and the records of one
    /// handshake flight are packed together up to it (RFC 6347 §4.1.1).
    /// </summary>
    public int Mtu { get; init; } = 1200;

    /// <summary>Largest datagram we accept (default 1500).</summary>
    public int MaxReceiveDatagramSize { get; init; } = 1500;

    /// <summary>Datagrams buffered for this peer before further ones are dropped (default 64).</summary>
    public int ReceiveQueueCapacity { get; init; } = 64;

    /// <summary>SRTP protection profiles offered/accepted, most preferred first (default: GCM, _80, _32).</summary>
    public int[] SrtpProfiles { get; init; } = SrtpProtectionProfiles.Preference.ToArray();
}
