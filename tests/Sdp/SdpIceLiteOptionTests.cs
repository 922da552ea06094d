using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.Tests.Sdp;

public sealed class SdpIceLiteOptionTests
{
    private static SdpLocalParameters Local(bool iceLite) => new()
    {
        IceUfrag = "abcd1234",
        IcePwd = "abcdefghijklmnopqrstuvwx",
        Fingerprint = "sha-256 " + string.Join(':', Enumerable.Repeat("AB", 32)),
        IceLite = iceLite,
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Offer_says_ice_lite_only_for_a_lite_agent(bool iceLite)
    {
        var offer = new SdpOfferer(Local(iceLite)).CreateOffer([new SdpTransceiver("audio", "0", SdpDirection.SendRecv)]);
        Assert.Equal(iceLite, offer.Description.IceLite);
        Assert.Equal(iceLite, offer.Sdp.Contains("a=ice-lite\r\n"));
    }
}
