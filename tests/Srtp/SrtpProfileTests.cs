using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.Tests.Srtp;

public class SrtpProfileTests
{
    [Theory]
    [InlineData((ushort)0x0001, SrtpProfile.AesCm128HmacSha1_80, 16, 14, 10, 10)]
    [InlineData((ushort)0x0002, SrtpProfile.AesCm128HmacSha1_32, 16, 14, 4, 10)]
    [InlineData((ushort)0x0007, SrtpProfile.AeadAes128Gcm, 16, 12, 16, 16)]
    public void ParametersFollowRfc5764AndRfc7714(ushort id, SrtpProfile expected, int key, int salt, int rtpTag, int rtcpTag)
    {
        Assert.True(SrtpProfiles.TryFromDtlsProfileId(id, out var profile));
        Assert.Equal(expected, profile);
        Assert.Equal(id, profile.ToDtlsProfileId());
        Assert.Equal(key, profile.GetMasterKeyLength());
        Assert.Equal(salt, profile.GetMasterSaltLength());
        Assert.Equal(rtpTag, profile.GetRtpAuthTagLength());
        Assert.Equal(rtcpTag, profile.GetRtcpAuthTagLength());
        Assert.Equal(2 * (key + salt), profile.GetKeyingMaterialLength());
    }

    [Theory]
    [InlineData((ushort)0x0000)]
    [InlineData((ushort)0x0005)]
    [InlineData((ushort)0x0008)]
    [InlineData((ushort)0xFFFF)]
    public void UnsupportedDtlsIdsAreRejected(ushort id) => Assert.False(SrtpProfiles.TryFromDtlsProfileId(id, out _));

    [Theory]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80, 14)]
    [InlineData(SrtpProfile.AesCm128HmacSha1_32, 14)]
    [InlineData(SrtpProfile.AeadAes128Gcm, 20)]
    public void MaxOverheadCoversRtpAndRtcp(SrtpProfile profile, int expected)
    {
        using var ctx = SrtpContext.CreateForProtect(profile, new byte[16], new byte[profile.GetMasterSaltLength()]);
        Assert.Equal(expected, ctx.MaxOverhead);
        Assert.Equal(profile.GetRtpAuthTagLength(), ctx.RtpOverhead);
    }

    [Theory]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80)]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    public void KeyingMaterialIsSplitPerRfc5764Section4_2(SrtpProfile profile)
    {
        int k = profile.GetMasterKeyLength(), s = profile.GetMasterSaltLength();
        byte[] exported = new byte[SrtpKeyingMaterial.GetExporterLength(profile)];
        for (int i = 0; i < exported.Length; i++) exported[i] = (byte)i;
        byte[] clientKey = exported[..k], serverKey = exported[k..(2 * k)];
        byte[] clientSalt = exported[(2 * k)..(2 * k + s)], serverSalt = exported[(2 * k + s)..];

        var client = SrtpKeyingMaterial.FromDtlsExporter(profile, exported, isDtlsClient: true);
        Assert.Equal(clientKey, client.LocalMasterKey.ToArray());
        Assert.Equal(clientSalt, client.LocalMasterSalt.ToArray());
        Assert.Equal(serverKey, client.RemoteMasterKey.ToArray());
        Assert.Equal(serverSalt, client.RemoteMasterSalt.ToArray());

        var server = SrtpKeyingMaterial.FromDtlsExporter(profile, exported, isDtlsClient: false);
        Assert.Equal(serverKey, server.LocalMasterKey.ToArray());
        Assert.Equal(serverSalt, server.LocalMasterSalt.ToArray());
        Assert.Equal(clientKey, server.RemoteMasterKey.ToArray());
        Assert.Equal(clientSalt, server.RemoteMasterSalt.ToArray());

        Assert.Throws<ArgumentException>(() => SrtpKeyingMaterial.FromDtlsExporter(profile, exported.AsSpan(1), true));
    }

    [Fact]
    public void SessionsOfBothRolesTalkToEachOther()
    {
        byte[] exported = new byte[SrtpKeyingMaterial.GetExporterLength(SrtpProfile.AesCm128HmacSha1_80)];
        new Random(7).NextBytes(exported);
        using var client = SrtpSession.FromDtlsExporter(SrtpProfile.AesCm128HmacSha1_80, exported, isDtlsClient: true);
        using var server = SrtpSession.FromDtlsExporter(SrtpProfile.AesCm128HmacSha1_80, exported, isDtlsClient: false);
        byte[] rtp = new byte[100 + client.MaxOverhead];
        rtp[0] = 0x80;
        rtp[20] = 42;
        int n = client.ProtectRtp(rtp, 100);
        Assert.True(server.TryUnprotectRtp(rtp, n, out int plain));
        Assert.Equal(100, plain);
        Assert.Equal(42, rtp[20]);
        // The client cannot unprotect its own packets: the two directions use different keys.
        n = client.ProtectRtp(rtp, 100);
        Assert.False(client.TryUnprotectRtp(rtp, n, out _));

        byte[] rtcp = new byte[28 + server.MaxOverhead];
        rtcp[0] = 0x80;
        rtcp[1] = 200;
        n = server.ProtectRtcp(rtcp, 28);
        Assert.True(client.TryUnprotectRtcp(rtcp, n, out plain));
        Assert.Equal(28, plain);
    }
}
