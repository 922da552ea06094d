using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class RetransmissionBufferTests
{
    [Fact]
    public void StoresAndReturnsPacketsBySeq()
    {
        var b = new RetransmissionBuffer(capacity: 8);
        var p1 = MakeRtp(7, 100, 1, payloadLength: 50);
        var p2 = MakeRtp(7, 101, 2, payloadLength: 70);
        Assert.True(b.Store(p1, Ms(0)));
        Assert.True(b.Store(p2, Ms(1)));
        Assert.True(b.TryGet(100, Ms(2), out var got));
        Assert.Equal(p1, got.ToArray());
        Assert.True(b.TryGet(7, 101, Ms(2), out got));
        Assert.Equal(p2, got.ToArray());
        Assert.False(b.TryGet(102, Ms(2), out _));
        Assert.False(b.TryGet(8, 101, Ms(2), out _)); // other SSRC
        Assert.Equal((uint?)7, b.Ssrc);
    }

    [Fact]
    public void IsMissingOnlyForGapsInsideTheWindow()
    {
        var b = new RetransmissionBuffer(capacity: 8);
        foreach (ushort s in new ushort[] { 100, 101, 103 }) Assert.True(b.Store(MakeRtp(7, s, s), Ms(s)));
        Assert.True(b.IsMissing(7, 102));
        Assert.False(b.IsMissing(7, 101));  // held
        Assert.False(b.IsMissing(7, 104));  // not reached yet
        Assert.False(b.IsMissing(8, 102));  // another source
        for (ushort s = 104; s < 120; s++) b.Store(MakeRtp(7, s, s), Ms(s));
        Assert.False(b.IsMissing(7, 102));  // older than the ring covers
    }

    [Fact]
    public void OverwritesOldestWhenFull()
    {
        var b = new RetransmissionBuffer(capacity: 4);
        for (ushort s = 0; s < 6; s++) Assert.True(b.Store(MakeRtp(1, s, s), Ms(s)));
        Assert.False(b.TryGet(0, Ms(6), out _));
        Assert.False(b.TryGet(1, Ms(6), out _));
        for (ushort s = 2; s < 6; s++)
        {
            Assert.True(b.TryGet(s, Ms(6), out var p));
            Assert.Equal(s, Seq(p));
        }
        // A late packet whose slot already holds a newer one is refused.
        Assert.False(b.Store(MakeRtp(1, 1, 1), Ms(7)));
        Assert.True(b.TryGet(5, Ms(7), out _));
    }

    [Fact]
    public void HandlesSequenceWrap()
    {
        var b = new RetransmissionBuffer(capacity: 16);
        for (int i = 0; i < 10; i++) b.Store(MakeRtp(1, (ushort)(65530 + i), 0), Ms(i));
        for (int i = 0; i < 10; i++)
        {
            Assert.True(b.TryGet((ushort)(65530 + i), Ms(10), out var p));
            Assert.Equal((ushort)(65530 + i), Seq(p));
        }
    }

    [Fact]
    public void ReorderedPacketIsStoredInItsSlot()
    {
        var b = new RetransmissionBuffer(capacity: 16);
        b.Store(MakeRtp(1, 10, 0), Ms(0));
        b.Store(MakeRtp(1, 12, 0), Ms(1));
        Assert.False(b.TryGet(11, Ms(2), out _));
        Assert.True(b.Store(MakeRtp(1, 11, 0), Ms(2)));
        Assert.True(b.TryGet(11, Ms(2), out var p));
        Assert.Equal((ushort)11, Seq(p));
    }

    [Fact]
    public void PacketsOlderThanMaxAgeAreNotReturned()
    {
        var b = new RetransmissionBuffer(capacity: 16, maxAge: TimeSpan.FromSeconds(1));
        b.Store(MakeRtp(1, 1, 0), Ms(0));
        b.Store(MakeRtp(1, 2, 0), Ms(500));
        Assert.True(b.TryGet(1, Ms(1000), out _));
        Assert.False(b.TryGet(1, Ms(1001), out _));
        Assert.True(b.TryGet(2, Ms(1001), out _));
    }

    [Fact]
    public void NewSsrcClearsTheBuffer()
    {
        var b = new RetransmissionBuffer(capacity: 16);
        b.Store(MakeRtp(1, 1, 0), Ms(0));
        b.Store(MakeRtp(2, 1000, 0), Ms(1));
        Assert.False(b.TryGet(1, 1, Ms(1), out _));
        Assert.True(b.TryGet(2, 1000, Ms(1), out _));
    }

    [Fact]
    public void RejectsTooShortOrTooLargePackets()
    {
        var b = new RetransmissionBuffer(capacity: 16, maxPacketSize: 100);
        Assert.False(b.Store(new byte[11], Ms(0)));
        Assert.False(b.Store(MakeRtp(1, 1, 0, payloadLength: 89), Ms(0)));
        Assert.True(b.Store(MakeRtp(1, 1, 0, payloadLength: 88), Ms(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetransmissionBuffer(capacity: 100));
    }
}
