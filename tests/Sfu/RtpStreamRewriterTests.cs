using CsCheck;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class RtpStreamRewriterTests
{
    private const uint Out = 0xCAFEBABE;

    private static (bool Ok, ushort Seq, uint Ts, uint Ssrc) Forward(RtpStreamRewriter r, uint ssrc, ushort seq, uint ts, TimeSpan now)
    {
        var p = MakeRtp(ssrc, seq, ts);
        var copy = (byte[])p.Clone();
        bool ok = r.TryRewrite(p, now, out ushort outSeq);
        if (!ok) Assert.Equal(copy, p); // a dropped packet is left untouched
        else Assert.Equal(outSeq, SfuPackets.Seq(p));
        return (ok, outSeq, SfuPackets.Ts(p), SfuPackets.Ssrc(p));
    }

    [Fact]
    public void FirstPacketGetsInitialSeqAndTimestamp()
    {
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 1000, initialTimestamp: 5000);
        var a = Forward(r, 1, 40000, 123456, Ms(0));
        Assert.Equal((true, (ushort)1000, 5000u, Out), a);
        var b = Forward(r, 1, 40001, 123456 + 3000, Ms(33));
        Assert.Equal((true, (ushort)1001, 8000u, Out), b);
        Assert.Equal((uint?)1, r.CurrentSourceSsrc);
    }

    [Fact]
    public void SwitchContinuesSeqAndAdvancesTimestampByElapsedTime()
    {
        var r = new RtpStreamRewriter(Out, 90000, 10, 1000);
        for (int i = 0; i < 5; i++) Forward(r, 1, (ushort)(100 + i), (uint)(9000 + 3000 * i), Ms(33 * i));
        // last: seq 14, ts 1000 + 12000 = 13000 at 132 ms.
        r.SwitchSource(2);
        Assert.False(Forward(r, 1, 105, 24000, Ms(150)).Ok); // old source dropped after the switch
        var first = Forward(r, 2, 7, 777777, Ms(232)); // 100 ms after the last forwarded packet
        Assert.True(first.Ok);
        Assert.Equal((ushort)15, first.Seq);
        Assert.Equal(13000u + 9000u, first.Ts);
        var next = Forward(r, 2, 8, 777777 + 3000, Ms(265));
        Assert.Equal((ushort)16, next.Seq);
        Assert.Equal(13000u + 9000u + 3000u, next.Ts);
    }

    [Fact]
    public void AutoSwitchOnNewSsrcAndDropsPreviousSource()
    {
        var r = new RtpStreamRewriter(Out, 48000, 0, 0);
        Forward(r, 1, 500, 0, Ms(0));
        Forward(r, 1, 501, 960, Ms(20));
        var b = Forward(r, 2, 9, 1234, Ms(40)); // the publisher reconnected with a new SSRC
        Assert.Equal((true, (ushort)2, 960u + 960u, Out), b);
        Assert.False(Forward(r, 1, 502, 1920, Ms(41)).Ok);
        Assert.Equal((uint?)2, r.CurrentSourceSsrc);
        Assert.Equal(1, r.DroppedCount);
    }

    [Fact]
    public void AutoSwitchNeverReturnsToAnEarlierSource()
    {
        var r = new RtpStreamRewriter(Out, 90000, 0, 0);
        Assert.True(Forward(r, 1, 10, 0, Ms(0)).Ok);
        Assert.True(Forward(r, 2, 20, 0, Ms(1)).Ok);
        Assert.True(Forward(r, 3, 30, 0, Ms(2)).Ok);
        Assert.False(Forward(r, 1, 11, 0, Ms(3)).Ok); // a stale packet of the first source
        Assert.False(Forward(r, 2, 21, 0, Ms(3)).Ok);
        Assert.Equal((uint?)3, r.CurrentSourceSsrc);
        r.SwitchSource(1); // an explicit switch back is allowed
        Assert.Equal((ushort)3, Forward(r, 1, 12, 0, Ms(4)).Seq);
    }

    [Fact]
    public void WithoutAutoSwitchOtherSsrcsAreDropped()
    {
        var r = new RtpStreamRewriter(Out, 90000, 0, 0, autoSwitch: false);
        Assert.True(Forward(r, 1, 1, 0, Ms(0)).Ok);
        Assert.False(Forward(r, 2, 1, 0, Ms(1)).Ok);
        r.SwitchSource(2);
        Assert.Equal((ushort)1, Forward(r, 2, 50, 0, Ms(2)).Seq);
    }

    [Fact]
    public void SwitchWithoutElapsedTimeStillAdvancesTimestamp()
    {
        var r = new RtpStreamRewriter(Out, 90000, 0, 100);
        Forward(r, 1, 1, 0, Ms(10));
        var b = Forward(r, 2, 1, 0, Ms(10));
        Assert.Equal(101u, b.Ts);
    }

    [Fact]
    public void WrapsAt65535()
    {
        var r = new RtpStreamRewriter(Out, 90000, 65534, 0);
        Assert.Equal((ushort)65534, Forward(r, 1, 10, 0, Ms(0)).Seq);
        Assert.Equal((ushort)65535, Forward(r, 1, 11, 0, Ms(1)).Seq);
        Assert.Equal((ushort)0, Forward(r, 1, 12, 0, Ms(2)).Seq);
        r.SwitchSource(2);
        Assert.Equal((ushort)1, Forward(r, 2, 65535, 0, Ms(3)).Seq);
        Assert.Equal((ushort)2, Forward(r, 2, 0, 0, Ms(4)).Seq); // source wraps too
        Assert.True(r.TryMapToSource(65535, out uint s, out ushort q));
        Assert.Equal((1u, (ushort)11), (s, q));
        Assert.True(r.TryMapToSource(2, out s, out q));
        Assert.Equal((2u, (ushort)0), (s, q));
    }

    [Fact]
    public void ReorderedPacketsKeepRelativeSeqAndDuplicatesPassThrough()
    {
        var r = new RtpStreamRewriter(Out, 90000, 100, 0);
        Forward(r, 1, 10, 0, Ms(0));
        Forward(r, 1, 12, 6000, Ms(66));
        var late = Forward(r, 1, 11, 3000, Ms(70));
        Assert.Equal((true, (ushort)101, 3000u), (late.Ok, late.Seq, late.Ts));
        var dup = Forward(r, 1, 12, 6000, Ms(80));
        Assert.Equal((true, (ushort)102), (dup.Ok, dup.Seq));
        Assert.Equal((ushort)102, r.HighestOutgoingSequenceNumber);
        Assert.Equal((ushort)103, Forward(r, 1, 13, 9000, Ms(99)).Seq);
    }

    [Fact]
    public void PacketOlderThanSwitchPointIsDropped()
    {
        var r = new RtpStreamRewriter(Out, 90000, 0, 0);
        Forward(r, 1, 1, 0, Ms(0));
        Forward(r, 2, 100, 0, Ms(10));   // switch: out seq 1
        Assert.False(Forward(r, 2, 99, 0, Ms(11)).Ok); // would collide with out seq 0
        Assert.Equal((ushort)2, Forward(r, 2, 101, 0, Ms(12)).Seq);
    }

    [Fact]
    public void MapsOutgoingSeqBackAcrossSwitches()
    {
        var r = new RtpStreamRewriter(Out, 90000, 1000, 0);
        for (ushort i = 0; i < 10; i++) Forward(r, 0xA, (ushort)(500 + i), 0, Ms(i));      // out 1000..1009
        for (ushort i = 0; i < 10; i++) Forward(r, 0xB, (ushort)(60000 + i), 0, Ms(20 + i)); // out 1010..1019
        Assert.True(r.TryMapToSource(1003, out uint ssrc, out ushort seq, out _));
        Assert.Equal((0xAu, (ushort)503), (ssrc, seq));
        Assert.True(r.TryMapToSource(1015, out ssrc, out seq));
        Assert.Equal((0xBu, (ushort)60005), (ssrc, seq));
        Assert.False(r.TryMapToSource(1020, out _, out _)); // not sent yet
        Assert.False(r.TryMapToSource(999, out _, out _));  // before the first packet
    }

    [Fact]
    public void HistoryKeepsOnlyTheLast128Runs()
    {
        var r = new RtpStreamRewriter(Out, 90000, 0, 0);
        for (uint s = 1; s <= 129; s++) Forward(r, s, 0, 0, Ms(s)); // one packet (and run) per source: out seq s-1
        Assert.False(r.TryMapToSource(0, out _, out _));
        Assert.True(r.TryMapToSource(1, out uint ssrc, out _));
        Assert.Equal(2u, ssrc);
    }

    [Fact]
    public void MalformedPacketsAreRejected()
    {
        var r = new RtpStreamRewriter(Out, 90000);
        Assert.False(r.TryRewrite(new byte[11], Ms(0), out _));
        var p = MakeRtp(1, 1, 1);
        p[0] = 0x40; // version 1
        Assert.False(r.TryRewrite(p, Ms(0), out _));
        Gen.Byte.Array[0, 40].Sample(bytes => { new RtpStreamRewriter(Out, 90000).TryRewrite(bytes, Ms(0), out _); });
    }

    [Fact]
    public void InOrderInputGivesConsecutiveOutgoingSeqsAndMonotonicTimestamps()
    {
        // Runs of in-order packets from a sequence of sources (switching at random points, each source starting
        // at a random seq/ts): outgoing seqs are strictly consecutive and timestamps never go backwards.
        var gen = Gen.Select(Gen.UShort, Gen.UInt, Gen.Select(Gen.UShort, Gen.UInt, Gen.Int[1, 40], Gen.Int[0, 3000]).Array[1, 8]);
        gen.Sample((initSeq, initTs, runs) =>
        {
            var r = new RtpStreamRewriter(Out, 90000, initSeq, initTs);
            ushort? last = null;
            long lastTs = -1, tsBase = 0;
            uint prevTs = 0;
            var now = TimeSpan.Zero;
            uint ssrc = 1;
            foreach (var (seq0, ts0, count, stepMs) in runs)
            {
                for (int i = 0; i < count; i++)
                {
                    now += TimeSpan.FromMilliseconds(stepMs % 50);
                    var p = MakeRtp(ssrc, (ushort)(seq0 + i), ts0 + (uint)(i * 3000));
                    Assert.True(r.TryRewrite(p, now, out ushort outSeq));
                    if (last is { } l) Assert.Equal((ushort)(l + 1), outSeq);
                    else Assert.Equal(initSeq, outSeq);
                    last = outSeq;
                    uint ts = SfuPackets.Ts(p);
                    if (lastTs >= 0) tsBase += (int)(ts - prevTs);
                    Assert.True(tsBase > lastTs || lastTs < 0, "timestamp went backwards");
                    lastTs = tsBase;
                    prevTs = ts;
                }
                ssrc++;
            }
        });
    }
}
