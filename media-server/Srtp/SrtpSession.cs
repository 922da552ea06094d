namespace TeleRehab.Media.Srtp;

/// <summary>
/// Both directions of one DTLS-SRTP session: a protect context keyed with this endpoint's write keys and an
/// unprotect context keyed with the peer's. Same threading rule as <see cref="SrtpContext"/>: each of the two
/// contexts may be used by one thread at a time (sending and receiving may run on different threads).
/// </summary>
public sealed class SrtpSession : IDisposable
{
    public SrtpSession(SrtpKeyingMaterial keyingMaterial)
    {
        ArgumentNullException.ThrowIfNull(keyingMaterial);
        Profile = keyingMaterial.Profile;
        Protector = keyingMaterial.CreateProtectContext();
        Unprotector = keyingMaterial.CreateUnprotectContext();
    }

    /// <summary>Creates a session from the DTLS exporter output (RFC 5764 §4.2) for this endpoint's DTLS role.</summary>
    public static SrtpSession FromDtlsExporter(SrtpProfile profile, ReadOnlySpan<byte> exporterOutput, bool isDtlsClient) =>
        new(SrtpKeyingMaterial.FromDtlsExporter(profile, exporterOutput, isDtlsClient));

    public SrtpProfile Profile { get; }

    /// <summary>Protects outgoing RTP/RTCP.</summary>
    public SrtpContext Protector { get; }

    /// <summary>Unprotects incoming SRTP/SRTCP.</summary>
    public SrtpContext Unprotector { get; }

    /// <summary>Room to leave after a packet for <see cref="ProtectRtp"/> / <see cref="ProtectRtcp"/>.</summary>
    public int MaxOverhead => Protector.MaxOverhead;

    public int ProtectRtp(Span<byte> packet, int length) => Protector.ProtectRtp(packet, length);

    public bool TryUnprotectRtp(Span<byte> packet, int length, out int plainLength) =>
        Unprotector.TryUnprotectRtp(packet, length, out plainLength);

    public int ProtectRtcp(Span<byte> packet, int length) => Protector.ProtectRtcp(packet, length);

    public bool TryUnprotectRtcp(Span<byte> packet, int length, out int plainLength) =>
        Unprotector.TryUnprotectRtcp(packet, length, out plainLength);

    public void Dispose()
    {
        Protector.Dispose();
        Unprotector.Dispose();
    }
}
