using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TeleRehab.Media.Srtp;

/// <summary>
/// The SRTP key derivation function (RFC 3711 §4.3): the AES-CM PRF keyed with the master key, with
/// key_derivation_rate 0 (so r = 0). Also used, unchanged, by AEAD_AES_128_GCM (RFC 7714 §11), whose
/// 12-byte master salt is zero-padded on the right to the 14-byte width of the PRF input.
/// </summary>
public static class SrtpKeyDerivation
{
    /// <summary>Key derivation labels (RFC 3711 §4.3.1 and §4.3.2).</summary>
    public const byte LabelRtpEncryption = 0x00, LabelRtpAuthentication = 0x01, LabelRtpSalt = 0x02,
        LabelRtcpEncryption = 0x03, LabelRtcpAuthentication = 0x04, LabelRtcpSalt = 0x05;

    /// <summary>HMAC-SHA1 session authentication key length (160 bits, RFC 3711 §4.2.1).</summary>
    public const int AuthKeyLength = 20;

    /// <summary>
    /// PRF_n(k_master, x) with x = (label || r) XOR master_salt, r = 0 (RFC 3711 §4.3.1): writes
    /// <paramref name="output"/>.Length bytes of AES-CM keystream started at IV = x * 2^16.
    /// </summary>
    public static void Derive(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, byte label, Span<byte> output)
    {
        if (masterKey.Length is not (16 or 24 or 32)) throw new ArgumentException("AES master key must be 16, 24 or 32 bytes.", nameof(masterKey));
        if (masterSalt.Length > 14) throw new ArgumentException("Master salt must be at most 14 bytes.", nameof(masterSalt));
        Span<byte> iv = stackalloc byte[16];
        iv.Clear();
        masterSalt.CopyTo(iv);      // left-aligned: a 12-byte GCM salt is padded with zeros (RFC 7714 §11)
        iv[7] ^= label;             // key_id = label || r(48 bits, = 0), right-aligned with the 112-bit salt
        using var aes = Aes.Create();
        aes.Key = masterKey.ToArray();
        GenerateKeystream(aes, iv, output);
    }

    /// <summary>
    /// AES in counter mode as SRTP defines it (RFC 3711 §4.1.1): block j of the keystream is
    /// E(k, IV + j) where j is added to the low 16 bits (the IV's low 16 bits are always zero in SRTP).
    /// Not a per-packet path: the packet path builds its counter blocks in a per-context buffer.
    /// </summary>
    internal static void GenerateKeystream(Aes aes, ReadOnlySpan<byte> iv, Span<byte> output)
    {
        int blocks = (output.Length + 15) / 16;
        if (blocks > 65536) throw new ArgumentException("Keystream is limited to 2^16 blocks.", nameof(output));
        byte[] counters = new byte[blocks * 16];
        for (int j = 0; j < blocks; j++)
        {
            Span<byte> block = counters.AsSpan(j * 16, 16);
            iv.CopyTo(block);
            ushort low = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(block[14..]) + j);
            BinaryPrimitives.WriteUInt16BigEndian(block[14..], low);
        }
        byte[] stream = aes.EncryptEcb(counters, PaddingMode.None);
        stream.AsSpan(0, output.Length).CopyTo(output);
    }
}

/// <summary>The session keys of one direction of an SRTP session (RFC 3711 §4.3): encryption, authentication, salt.</summary>
internal sealed class SrtpSessionKeys
{
    public required byte[] RtpKey { get; init; }
    public required byte[] RtpAuthKey { get; init; }
    public required byte[] RtpSalt { get; init; }
    public required byte[] RtcpKey { get; init; }
    public required byte[] RtcpAuthKey { get; init; }
    public required byte[] RtcpSalt { get; init; }

    public static SrtpSessionKeys Derive(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
    {
        if (!profile.IsSupported()) throw new ArgumentOutOfRangeException(nameof(profile));
        if (masterKey.Length != profile.GetMasterKeyLength()) throw new ArgumentException($"Master key must be {profile.GetMasterKeyLength()} bytes for {profile}.", nameof(masterKey));
        if (masterSalt.Length != profile.GetMasterSaltLength()) throw new ArgumentException($"Master salt must be {profile.GetMasterSaltLength()} bytes for {profile}.", nameof(masterSalt));
        int keyLen = profile.GetMasterKeyLength(), saltLen = profile.GetMasterSaltLength();
        bool aead = profile.IsAead();
        byte[] key = masterKey.ToArray(), salt = masterSalt.ToArray();
        byte[] Make(byte label, int length)
        {
            var b = new byte[length];
            SrtpKeyDerivation.Derive(key, salt, label, b);
            return b;
        }
        return new SrtpSessionKeys
        {
            RtpKey = Make(SrtpKeyDerivation.LabelRtpEncryption, keyLen),
            RtpAuthKey = aead ? [] : Make(SrtpKeyDerivation.LabelRtpAuthentication, SrtpKeyDerivation.AuthKeyLength),
            RtpSalt = Make(SrtpKeyDerivation.LabelRtpSalt, saltLen),
            RtcpKey = Make(SrtpKeyDerivation.LabelRtcpEncryption, keyLen),
            RtcpAuthKey = aead ? [] : Make(SrtpKeyDerivation.LabelRtcpAuthentication, SrtpKeyDerivation.AuthKeyLength),
            RtcpSalt = Make(SrtpKeyDerivation.LabelRtcpSalt, saltLen),
        };
    }
}
