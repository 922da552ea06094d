namespace TeleRehab.Media.Dtls;

/// <summary>SRTP protection profiles negotiated through use_srtp (RFC 5764 §4.1.2, RFC 7714 §14.2).</summary>
public static class SrtpProtectionProfiles
{
    public const int AesCm128HmacSha1_80 = 0x0001;
    public const int AesCm128HmacSha1_32 = 0x0002;
    public const int AeadAes128Gcm = 0x0007;

    /// <summary>Profiles we offer/accept, most preferred first: GCM, then _80, then _32.</summary>
    public static ReadOnlySpan<int> Preference => [AeadAes128Gcm, AesCm128HmacSha1_80, AesCm128HmacSha1_32];

    public static bool IsSupported(int profile) => Preference.Contains(profile);

    /// <summary>SRTP master key length in bytes (16 for all supported profiles).</summary>
    public static int GetMasterKeyLength(int profile) => IsSupported(profile)
        ? 16 : throw new ArgumentOutOfRangeException(nameof(profile));

    /// <summary>SRTP master salt length in bytes: 14 for AES-CM (RFC 3711), 12 for AEAD-GCM (RFC 7714 §12).</summary>
    public static int GetMasterSaltLength(int profile) => profile switch
    {
        AesCm128HmacSha1_80 or AesCm128HmacSha1_32 => 14,
        AeadAes128Gcm => 12,
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };

    /// <summary>Length of the "EXTRACTOR-dtls_srtp" export: 2 * (key + salt) (RFC 5764 §4.2).</summary>
    public static int GetKeyingMaterialLength(int profile) => 2 * (GetMasterKeyLength(profile) + GetMasterSaltLength(profile));

    public static string GetName(int profile) => profile switch
    {
        AesCm128HmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
        AesCm128HmacSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
        AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
        _ => "0x" + profile.ToString("X4"),
    };
}

/// <summary>Why a DTLS handshake (or connection) failed.</summary>
public enum DtlsFailureReason
{
    None,
    /// <summary>The peer's certificate does not match the fingerprint announced in its SDP.</summary>
    FingerprintMismatch,
    /// <summary>The peer presented no certificate.</summary>
    NoPeerCertificate,
    /// <summary>The handshake did not complete within the configured timeout.</summary>
    Timeout,
    /// <summary>The peer sent a fatal alert.</summary>
    AlertReceived,
    /// <summary>We raised a fatal alert (protocol error, negotiation failure, ...).</summary>
    AlertRaised,
    /// <summary>No common SRTP protection profile (or use_srtp missing).</summary>
    NoSrtpProfile,
    /// <summary>The session was closed/disposed locally before the handshake finished.</summary>
    Closed,
    /// <summary>Anything else.</summary>
    Error,
}

/// <summary>
/// Outcome of a DTLS-SRTP handshake. On success carries the negotiated SRTP profile and the keying material
/// exported with label "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2), laid out as
/// <c>client_key | server_key | client_salt | server_salt</c>.
/// </summary>
public sealed class DtlsHandshakeResult
{
    private readonly byte[]? _keyingMaterial;

    private DtlsHandshakeResult(DtlsRole role, bool success, int profile, byte[]? keyingMaterial,
        DtlsFailureReason reason, string? message, DtlsFingerprint? remoteFingerprint)
    {
        Role = role;
        Success = success;
        SrtpProfile = profile;
        _keyingMaterial = keyingMaterial;
        FailureReason = reason;
        FailureMessage = message;
        RemoteFingerprint = remoteFingerprint;
    }

    internal static DtlsHandshakeResult Succeeded(DtlsRole role, int profile, byte[] keyingMaterial, DtlsFingerprint remote)
        => new(role, true, profile, keyingMaterial, DtlsFailureReason.None, null, remote);

    internal static DtlsHandshakeResult Failed(DtlsRole role, DtlsFailureReason reason, string message)
        => new(role, false, 0, null, reason, message, null);

    /// <summary>The role we played.</summary>
    public DtlsRole Role { get; }

    public bool Success { get; }

    /// <summary>Negotiated protection profile id (see <see cref="SrtpProtectionProfiles"/>); 0 on failure.</summary>
    public int SrtpProfile { get; }

    /// <summary>The full exported keying material; empty on failure.</summary>
    public ReadOnlySpan<byte> KeyingMaterial => _keyingMaterial;

    public DtlsFailureReason FailureReason { get; }

    /// <summary>Human-readable failure description; null on success.</summary>
    public string? FailureMessage { get; }

    /// <summary>SHA-256 fingerprint of the certificate the peer presented (success only).</summary>
    public DtlsFingerprint? RemoteFingerprint { get; }

    /// <summary>client_write_SRTP_master_key (RFC 5764 §4.2).</summary>
    public ReadOnlySpan<byte> ClientMasterKey => Part(0);
    /// <summary>server_write_SRTP_master_key.</summary>
    public ReadOnlySpan<byte> ServerMasterKey => Part(1);
    /// <summary>client_write_SRTP_master_salt.</summary>
    public ReadOnlySpan<byte> ClientMasterSalt => Part(2);
    /// <summary>server_write_SRTP_master_salt.</summary>
    public ReadOnlySpan<byte> ServerMasterSalt => Part(3);

    /// <summary>Key protecting what we send (client key if we were the client).</summary>
    public ReadOnlySpan<byte> LocalMasterKey => Role == DtlsRole.Client ? ClientMasterKey : ServerMasterKey;
    public ReadOnlySpan<byte> LocalMasterSalt => Role == DtlsRole.Client ? ClientMasterSalt : ServerMasterSalt;
    /// <summary>Key protecting what the peer sends.</summary>
    public ReadOnlySpan<byte> RemoteMasterKey => Role == DtlsRole.Client ? ServerMasterKey : ClientMasterKey;
    public ReadOnlySpan<byte> RemoteMasterSalt => Role == DtlsRole.Client ? ServerMasterSalt : ClientMasterSalt;

    // RFC 5764 §4.2: client_write_SRTP_master_key[key] | server_write_SRTP_master_key[key] |
    //                 client_write_SRTP_master_salt[salt] | server_write_SRTP_master_salt[salt]
    private ReadOnlySpan<byte> Part(int index)
    {
        if (_keyingMaterial is null)
            throw new InvalidOperationException("The handshake failed; there is no keying material.");
        int key = SrtpProtectionProfiles.GetMasterKeyLength(SrtpProfile);
        int salt = SrtpProtectionProfiles.GetMasterSaltLength(SrtpProfile);
        return index switch
        {
            0 => _keyingMaterial.AsSpan(0, key),
            1 => _keyingMaterial.AsSpan(key, key),
            2 => _keyingMaterial.AsSpan(2 * key, salt),
            _ => _keyingMaterial.AsSpan(2 * key + salt, salt),
        };
    }

    public override string ToString() => Success
        ? $"DTLS {Role} ok, {SrtpProtectionProfiles.GetName(SrtpProfile)}"
        : $"DTLS {Role} failed: {FailureReason}: {FailureMessage}";
}
