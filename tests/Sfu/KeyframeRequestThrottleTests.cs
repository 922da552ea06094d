using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class KeyframeRequestThrottleTests
{
    [Fact]
    public void FirstRequestIsSentAtOnceLaterOnesWaitForTheQuietPeriod()
    {
        var t = new KeyframeRequestThrottle();
        Assert.Null(t.NextTimeout);
        Assert.True(t.OnRequest(Ms(1000)));
        Assert.False(t.OnRequest(Ms(1100)));
        Assert.False(t.OnRequest(Ms(1200))); // coalesced with the pending one
        Assert.True(t.IsPending);
        Assert.Equal(Ms(1300), t.NextTimeout);
        Assert.False(t.Poll(Ms(1299)));
        Assert.True(t.Poll(Ms(1300)));
        Assert.False(t.Poll(Ms(1301)));
        Assert.Null(t.NextTimeout);
        Assert.False(t.OnRequest(Ms(1500)));
        Assert.True(t.Poll(Ms(1600)));
        Assert.True(t.OnRequest(Ms(2000)));
        Assert.Equal(4, t.SentCount);
    }

    [Fact]
    public void KeyframeCancelsAPendingRequest()
    {
        var t = new KeyframeRequestThrottle(minInterval: Ms(500));
        Assert.True(t.OnRequest(Ms(0)));
        Assert.False(t.OnRequest(Ms(10)));
        t.OnKeyframeReceived();
        Assert.Null(t.NextTimeout);
        Assert.False(t.Poll(Ms(600)));
    }

    [Fact]
    public void WritesPli()
    {
        var t = new KeyframeRequestThrottle(KeyframeRequestKind.Pli);
        var dest = new byte[64];
        int n = t.WriteRequest(dest, 0x01020304, 0x0A0B0C0D);
        Assert.Equal(t.GetSerializedLength(), n);
        // RFC 4585 §6.3.1: V=2, FMT=1, PT=206, length 2.
        Assert.Equal(Convert.FromHexString("81CE0002" + "01020304" + "0A0B0C0D"), dest[..n]);
    }

    [Fact]
    public void FirSequenceNumberAdvancesPerRequestAndWraps()
    {
        var t = new KeyframeRequestThrottle(KeyframeRequestKind.Fir) { FirSequenceNumber = 254 };
        var dest = new byte[64];
        int n = t.WriteRequest(dest, 0x01020304, 0x0A0B0C0D);
        Assert.Equal(t.GetSerializedLength(), n);
        // RFC 5104 §4.3.1: FMT=4, PT=206, length 4, media SSRC 0, FCI: SSRC, seq nr, 3 reserved bytes.
        Assert.Equal(Convert.FromHexString("84CE0004" + "01020304" + "00000000" + "0A0B0C0D" + "FE000000"), dest[..n]);
        t.WriteRequest(dest, 1, 2);
        Assert.True(FullIntraRequest.TryParse(dest.AsSpan(0, 20), out var fir));
        Assert.Equal(new FirEntry(2, 255), fir.Entries[0]);
        t.WriteRequest(dest, 1, 2);
        Assert.True(FullIntraRequest.TryParse(dest.AsSpan(0, 20), out fir));
        Assert.Equal((byte)0, fir.Entries[0].SequenceNumber);
    }
}
