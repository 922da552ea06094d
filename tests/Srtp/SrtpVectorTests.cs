using System.Security.Cryptography;
using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.Tests.Srtp;

/// <summary>Published test vectors: RFC 3711 B.2/B.3, RFC 7714 §16/§17, and the libsrtp reference packets.</summary>
public class SrtpVectorTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));

    [Fact]
    public void Rfc3711_B2_AesCmKeystream()
    {
        using var aes = Aes.Create();
        aes.Key = Hex("2B7E151628AED2A6ABF7158809CF4F3C");
        byte[] keystream = new byte[65536 * 16];
        SrtpKeyDerivation.GenerateKeystream(aes, Hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), keystream);
        Assert.Equal(Hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0"),
            keystream[..48]);
        Assert.Equal(Hex("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44"),
            keystream[(0xFEFF * 16)..(0xFF02 * 16)]);
    }

    /// <summary>HMAC-SHA1 backends for the AES-CM vectors: the default (libcrypto where loadable) and the fallback.</summary>
    public static TheoryData<string> HmacBackends => new() { "Auto", "IncrementalHash" };

    private static HmacSha1Backend Backend(string name) => Enum.Parse<HmacSha1Backend>(name);

    [Theory]
    [MemberData(nameof(HmacBackends))]
    public void Rfc3711_B2_KeystreamThroughThePacketPath(string backend)
    {
        // Session key/salt of B.2, SSRC 0, ROC 0, SEQ 0: a zero payload encrypts to the keystream itself.
        var keys = new SrtpSessionKeys
        {
            RtpKey = Hex("2B7E151628AED2A6ABF7158809CF4F3C"), RtpSalt = Hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"), RtpAuthKey = new byte[20],
            RtcpKey = new byte[16], RtcpSalt = new byte[14], RtcpAuthKey = new byte[20],
        };
        using var ctx = SrtpContext.CreateFromSessionKeys(SrtpProfile.AesCm128HmacSha1_80, keys, hmacBackend: Backend(backend));
        byte[] packet = new byte[12 + 48 + 10];
        packet[0] = 0x80;
        int n = ctx.ProtectRtp(packet, 12 + 48);
        Assert.Equal(70, n);
        Assert.Equal(Hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0"),
            packet[12..60]);
    }

    [Fact]
    public void Rfc3711_B3_KeyDerivation()
    {
        byte[] key = Hex("E1F97A0D3E018BE0D64FA32C06DE4139"), salt = Hex("0EC675AD498AFEEBB6960B3AABE6");
        byte[] cipher = new byte[16], auth = new byte[94], sessionSalt = new byte[14];
        SrtpKeyDerivation.Derive(key, salt, SrtpKeyDerivation.LabelRtpEncryption, cipher);
        SrtpKeyDerivation.Derive(key, salt, SrtpKeyDerivation.LabelRtpAuthentication, auth);
        SrtpKeyDerivation.Derive(key, salt, SrtpKeyDerivation.LabelRtpSalt, sessionSalt);
        Assert.Equal(Hex("C61E7A93744F39EE10734AFE3FF7A087"), cipher);
        Assert.Equal(Hex("30CBBC08863D8C85D49DB34A9AE1"), sessionSalt);
        Assert.Equal(Hex("CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE E049646C43D9327AD175578EF7227098"
            + "6371C10C9A369AC2F94A8C5FBCDDDC25 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"), auth);

        var session = SrtpSessionKeys.Derive(SrtpProfile.AesCm128HmacSha1_80, key, salt);
        Assert.Equal(cipher, session.RtpKey);
        Assert.Equal(auth[..20], session.RtpAuthKey);
        Assert.Equal(sessionSalt, session.RtpSalt);
    }

    [Fact]
    public void Rfc7714_Section11_GcmKeyDerivationPadsTheTwelveByteSalt()
    {
        var keys = SrtpSessionKeys.Derive(SrtpProfile.AeadAes128Gcm, Hex("000102030405060708090a0b0c0d0e0f"), Hex("a0a1a2a3a4a5a6a7a8a9aaab"));
        Assert.Equal(Hex("077c6143cb221bc355ff23d5f984a16e"), keys.RtpKey);
        Assert.Equal(Hex("9af3e95364ebac9c99c5a7c4"), keys.RtpSalt);
        Assert.Equal(Hex("615dcd9042600666f6fd4d9e4fe4519f"), keys.RtcpKey);
        Assert.Equal(Hex("fcca937b9112a500dac72269"), keys.RtcpSalt);
        Assert.Empty(keys.RtpAuthKey);
    }

    // libsrtp srtp_driver reference packet (RFC 3711 B.3 master key/salt, SSRC cafebabe, SEQ 0x1234).
    private const string MasterKey = "E1F97A0D3E018BE0D64FA32C06DE4139", MasterSalt = "0EC675AD498AFEEBB6960B3AABE6";
    private const string CmRtpPlain = "800f1234decafbadcafebabeabababababababababababababababab";
    private const string CmRtpProtected = "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb";
    private const string CmRtcpPlain = "81c8000bcafebabeabababababababababababababababab";
    private const string CmRtcpProtected = "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798";

    [Theory]
    [MemberData(nameof(HmacBackends))]
    public void AesCm80_ReferenceRtpPacket_ProtectAndUnprotect(string backend)
    {
        using var tx = SrtpContext.CreateWithHmacBackend(SrtpProfile.AesCm128HmacSha1_80, Hex(MasterKey), Hex(MasterSalt), Backend(backend));
        byte[] buffer = new byte[64];
        Hex(CmRtpPlain).CopyTo(buffer, 0);
        int n = tx.ProtectRtp(buffer, Hex(CmRtpPlain).Length);
        Assert.Equal(Hex(CmRtpProtected), buffer[..n]);

        using var rx = SrtpContext.CreateWithHmacBackend(SrtpProfile.AesCm128HmacSha1_80, Hex(MasterKey), Hex(MasterSalt), Backend(backend));
        byte[] wire = Hex(CmRtpProtected);
        Assert.True(rx.TryUnprotectRtp(wire, wire.Length, out int plain));
        Assert.Equal(Hex(CmRtpPlain), wire[..plain]);
    }

    [Theory]
    [MemberData(nameof(HmacBackends))]
    public void AesCm80_ReferenceRtcpPacket_ProtectAndUnprotect(string backend)
    {
        using var tx = SrtpContext.CreateWithHmacBackend(SrtpProfile.AesCm128HmacSha1_80, Hex(MasterKey), Hex(MasterSalt), Backend(backend));
        tx.NextSrtcpIndex = 1; // the reference packet carries SRTCP index 1
        byte[] buffer = new byte[64];
        Hex(CmRtcpPlain).CopyTo(buffer, 0);
        int n = tx.ProtectRtcp(buffer, Hex(CmRtcpPlain).Length);
        Assert.Equal(Hex(CmRtcpProtected), buffer[..n]);

        using var rx = SrtpContext.CreateWithHmacBackend(SrtpProfile.AesCm128HmacSha1_80, Hex(MasterKey), Hex(MasterSalt), Backend(backend));
        byte[] wire = Hex(CmRtcpProtected);
        Assert.True(rx.TryUnprotectRtcp(wire, wire.Length, out int plain));
        Assert.Equal(Hex(CmRtcpPlain), wire[..plain]);
    }

    // RFC 7714 §16 / §17: session key 00..0f, session salt "Quid pro quo".
    private static SrtpContext GcmVectorContext(bool intrinsics = true) => SrtpContext.CreateFromSessionKeys(SrtpProfile.AeadAes128Gcm, new SrtpSessionKeys
    {
        RtpKey = Hex("000102030405060708090a0b0c0d0e0f"), RtpSalt = Hex("517569642070726f2071756f"), RtpAuthKey = [],
        RtcpKey = Hex("000102030405060708090a0b0c0d0e0f"), RtcpSalt = Hex("517569642070726f2071756f"), RtcpAuthKey = [],
    }, intrinsics);

    private const string GcmRtpPlain = "8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
    private const string GcmRtpProtected = "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce";
    private const string GcmRtcpPlain = "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
    private const string GcmRtcpProtected = "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4";
    private const string GcmRtcpTagOnly = "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef841dd9683dd78ec92ae58790125f62b3000005d4";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rfc7714_Section16_1_SrtpEncryptAndDecrypt(bool intrinsics)
    {
        using var tx = GcmVectorContext(intrinsics);
        byte[] buffer = new byte[128];
        Hex(GcmRtpPlain).CopyTo(buffer, 0);
        int n = tx.ProtectRtp(buffer, Hex(GcmRtpPlain).Length);
        Assert.Equal(Hex(GcmRtpProtected), buffer[..n]);

        using var rx = GcmVectorContext(intrinsics);
        byte[] wire = Hex(GcmRtpProtected);
        Assert.True(rx.TryUnprotectRtp(wire, wire.Length, out int plain));
        Assert.Equal(Hex(GcmRtpPlain), wire[..plain]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rfc7714_Section17_1_SrtcpEncryptAndDecrypt(bool intrinsics)
    {
        using var tx = GcmVectorContext(intrinsics);
        tx.NextSrtcpIndex = 0x5d4;
        byte[] buffer = new byte[128];
        Hex(GcmRtcpPlain).CopyTo(buffer, 0);
        int n = tx.ProtectRtcp(buffer, Hex(GcmRtcpPlain).Length);
        Assert.Equal(Hex(GcmRtcpProtected), buffer[..n]);

        using var rx = GcmVectorContext(intrinsics);
        byte[] wire = Hex(GcmRtcpProtected);
        Assert.True(rx.TryUnprotectRtcp(wire, wire.Length, out int plain));
        Assert.Equal(Hex(GcmRtcpPlain), wire[..plain]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rfc7714_Section17_3_SrtcpAuthenticatedOnly(bool intrinsics)
    {
        using var rx = GcmVectorContext(intrinsics);
        byte[] wire = Hex(GcmRtcpTagOnly);
        Assert.True(rx.TryUnprotectRtcp(wire, wire.Length, out int plain));
        Assert.Equal(Hex(GcmRtcpPlain), wire[..plain]);

        using var rx2 = GcmVectorContext(intrinsics);
        byte[] forged = Hex(GcmRtcpTagOnly);
        forged[20] ^= 1;
        Assert.False(rx2.TryUnprotectRtcp(forged, forged.Length, out _));
    }
}
