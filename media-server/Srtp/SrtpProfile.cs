namespace TeleRehab.Media.Srtp;

/// <summary>
/// SRTP protection profiles supported by this implementation. The numeric value of each member is the
/// DTLS-SRTP "use_srtp" protection profile identifier (RFC 5764 §4.1.2, RFC 7714 §14.2).
/// </summary>
public enum SrtpProfile : ushort
{
    /// <summary>SRTP_AES128_CM_HMAC_SHA1_80: AES-128 counter mode, 80-bit HMAC-SHA1 tag for SRTP and SRTCP.</summary>
    AesCm128HmacSha1_80 = 0x0001,

    /// <summary>SRTP_AES128_CM_HMAC_SHA1_32: as above but a 32-bit SRTP tag (SRTCP keeps 80 bits, RFC 5764 §4.1.2).</summary>
    AesCm128HmacSha1_32 = 0x0002,

    /// <summary>SRTP_AEAD_AES_128_GCM: AES-128-GCM with a 16-byte tag and a 12-byte salt (RFC 7714).</summary>
    AeadAes128Gcm = 0x0007,
}

/// <summary>Per-profile parameters (key/salt/tag lengths) and the mapping from the DTLS use_srtp identifier.</summary>
public static class SrtpProfiles
{
    /// <summary>Session and master key length in bytes (all supported profiles use AES-128).</summary>
    public static int GetMasterKeyLength(this SrtpProfile profile) => profile switch
    {
        SrtpProfile.AesCm128HmacSha1_80 or SrtpProfile.AesCm128HmacSha1_32 or SrtpProfile.AeadAes128Gcm => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };

    /// <summary>Master (and session) salt length in bytes: 14 for AES-CM (RFC 3711 §8.2), 12 for GCM (RFC 7714 §11).</summary>
    public static int GetMasterSaltLength(this SrtpProfile profile) => profile switch
    {
        SrtpProfile.AesCm128HmacSha1_80 or SrtpProfile.AesCm128HmacSha1_32 => 14,
        SrtpProfile.AeadAes128Gcm => 12,
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };

    /// <summary>Length of the SRTP authentication tag appended to each RTP packet.</summary>
    public static int GetRtpAuthTagLength(this SrtpProfile profile) => profile switch
    {
        SrtpProfile.AesCm128HmacSha1_80 => 10,
        SrtpProfile.AesCm128HmacSha1_32 => 4,
        SrtpProfile.AeadAes128Gcm => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };

    /// <summary>Length of the SRTCP authentication tag (80 bits for both HMAC profiles, RFC 5764 §4.1.2).</summary>
    public static int GetRtcpAuthTagLength(this SrtpProfile profile) => profile switch
    {
        SrtpProfile.AesCm128HmacSha1_80 or SrtpProfile.AesCm128HmacSha1_32 => 10,
        SrtpProfile.AeadAes128Gcm => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };

    /// <summary>Bytes added to an RTP packet by protection (the tag; no MKI is used).</summary>
    public static int GetRtpOverhead(this SrtpProfile profile) => profile.GetRtpAuthTagLength();

    /// <summary>Bytes added to an RTCP packet by protection: E flag + 31-bit SRTCP index (4 bytes) and the tag.</summary>
    public static int GetRtcpOverhead(this SrtpProfile profile) => 4 + profile.GetRtcpAuthTagLength();

    /// <summary>True for the AEAD (GCM) profiles.</summary>
    public static bool IsAead(this SrtpProfile profile) => profile == SrtpProfile.AeadAes128Gcm;

    /// <summary>Number of bytes to request from the DTLS exporter ("EXTRACTOR-dtls_srtp", RFC 5764 §4.2).</summary>
    public static int GetKeyingMaterialLength(this SrtpProfile profile) =>
        2 * (profile.GetMasterKeyLength() + profile.GetMasterSaltLength());

    /// <summary>The DTLS use_srtp protection profile identifier (RFC 5764 §4.1.2).</summary>
    public static ushort ToDtlsProfileId(this SrtpProfile profile) => (ushort)profile;

    /// <summary>Maps a DTLS use_srtp protection profile identifier to a supported profile.</summary>
    public static bool TryFromDtlsProfileId(ushort id, out SrtpProfile profile)
    {
        switch (id)
        {
            case 0x0001: profile = SrtpProfile.AesCm128HmacSha1_80; return true;
            case 0x0002: profile = SrtpProfile.AesCm128HmacSha1_32; return true;
            case 0x0007: profile = SrtpProfile.AeadAes128Gcm; return true;
            default: profile = default; return false;
        }
    }

    /// <summary>True when the profile value is one this implementation supports.</summary>
    public static bool IsSupported(this SrtpProfile profile) => TryFromDtlsProfileId((ushort)profile, out _);
}
