using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.Tests.Dtls;

public class DtlsRoleNegotiationTests
{
    [Theory]
    [InlineData("actpass", DtlsRole.Client, DtlsSetup.Active)]
    [InlineData("a=setup:actpass", DtlsRole.Client, DtlsSetup.Active)]
    [InlineData("passive", DtlsRole.Client, DtlsSetup.Active)]
    [InlineData("ACTIVE", DtlsRole.Server, DtlsSetup.Passive)]
    public void Answerer_role_follows_rfc5763(string remoteOffer, DtlsRole role, DtlsSetup answer)
    {
        Assert.True(DtlsRoleNegotiation.TryParseSetup(remoteOffer, out var setup));
        Assert.True(DtlsRoleNegotiation.TryDecideAsAnswerer(setup, out var decided, out var answerSetup));
        Assert.Equal(role, decided);
        Assert.Equal(answer, answerSetup);
        Assert.True(DtlsRoleNegotiation.TryDecide(remoteOffer, weAreOfferer: false, out var viaText));
        Assert.Equal(role, viaText);
    }

    [Theory]
    [InlineData("active", DtlsRole.Server)]
    [InlineData("passive", DtlsRole.Client)]
    public void Offerer_role_follows_the_answer(string remoteAnswer, DtlsRole role)
    {
        Assert.True(DtlsRoleNegotiation.TryDecide(remoteAnswer, weAreOfferer: true, out var decided));
        Assert.Equal(role, decided);
    }

    [Theory]
    [InlineData("actpass", true)]   // not allowed in an answer
    [InlineData("holdconn", true)]
    [InlineData("holdconn", false)]
    [InlineData("bogus", false)]
    [InlineData("", true)]
    public void Invalid_setup_is_rejected(string remote, bool weAreOfferer)
        => Assert.False(DtlsRoleNegotiation.TryDecide(remote, weAreOfferer, out _));

    [Fact]
    public void Setup_tokens_round_trip()
    {
        foreach (var setup in Enum.GetValues<DtlsSetup>())
        {
            Assert.True(DtlsRoleNegotiation.TryParseSetup(DtlsRoleNegotiation.ToSdp(setup), out var parsed));
            Assert.Equal(setup, parsed);
        }
    }

    [Fact]
    public void Rfc7983_demultiplexing_accepts_20_to_63()
    {
        Assert.False(DtlsSession.IsDtlsPacket([]));
        Assert.False(DtlsSession.IsDtlsPacket([19]));
        Assert.True(DtlsSession.IsDtlsPacket([20]));
        Assert.True(DtlsSession.IsDtlsPacket([63]));
        Assert.False(DtlsSession.IsDtlsPacket([64]));
        Assert.False(DtlsSession.IsDtlsPacket([128])); // RTP
        Assert.False(DtlsSession.IsDtlsPacket([0]));   // STUN
    }

    [Fact]
    public void Srtp_profile_lengths_follow_rfc5764_and_rfc7714()
    {
        Assert.Equal(60, SrtpProtectionProfiles.GetKeyingMaterialLength(SrtpProtectionProfiles.AesCm128HmacSha1_80));
        Assert.Equal(60, SrtpProtectionProfiles.GetKeyingMaterialLength(SrtpProtectionProfiles.AesCm128HmacSha1_32));
        Assert.Equal(56, SrtpProtectionProfiles.GetKeyingMaterialLength(SrtpProtectionProfiles.AeadAes128Gcm));
        Assert.Equal(
            [SrtpProtectionProfiles.AeadAes128Gcm, SrtpProtectionProfiles.AesCm128HmacSha1_80, SrtpProtectionProfiles.AesCm128HmacSha1_32],
            SrtpProtectionProfiles.Preference.ToArray());
    }
}
