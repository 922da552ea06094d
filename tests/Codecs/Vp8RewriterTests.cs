using CsCheck;
using TeleRehab.Media.Codecs;

namespace TeleRehab.Media.Tests.Codecs;

public class Vp8RewriterTests
{
    private const uint A = 0xA, B = 0xB;

    internal static byte[] Vp8(int pictureId, byte tl0, int tid, bool longId = true, bool start = true, int keyIdx = -1)
    {
        var p = new List<byte> { (byte)(0x80 | (start ? 0x10 : 0)), (byte)(0xE0 | (keyIdx >= 0 ? 0x10 : 0)) };
        if (longId) { p.Add((byte)(0x80 | pictureId >> 8)); p.Add((byte)pictureId); }
        else p.Add((byte)(pictureId & 0x7F));
        p.Add(tl0);
        p.Add((byte)(tid << 6 | Math.Max(keyIdx, 0)));
        p.Add(0x01); // VP8 payload header of an inter frame
        return p.ToArray();
    }

    private static (int Pic, byte Tl0, int KeyIdx) Read(byte[] p)
    {
        Assert.True(Vp8PayloadDescriptor.TryParse(p, out var d));
        return (d.PictureId, d.Tl0PicIdx, d.KeyIdx);
    }

    private static (int Pic, byte Tl0) Forward(Vp8Rewriter r, uint ssrc, int pic, byte tl0, int tid = 0, bool longId = true)
    {
        var p = Vp8(pic, tl0, tid, longId);
        Assert.True(r.TryRewrite(p, ssrc));
        var (outPic, outTl0, _) = Read(p);
        return (outPic, outTl0);
    }

    [Fact]
    public void FirstPacketTakesInitialValuesThenFollowsTheSource()
    {
        var r = new Vp8Rewriter(initialPictureId: 1000, initialTl0PicIdx: 50);
        Assert.Equal((1000, (byte)50), Forward(r, A, 20000, 9));
        Assert.Equal((1001, (byte)50), Forward(r, A, 20001, 9, tid: 1));
        Assert.Equal((1002, (byte)51), Forward(r, A, 20002, 10));
        Assert.Equal((1004, (byte)52), Forward(r, A, 20004, 11)); // a lost source picture stays a gap
        Assert.Equal(1004, r.HighestOutgoingPictureId);
        Assert.Equal((byte)52, r.HighestOutgoingTl0PicIdx);
    }

    [Fact]
    public void DroppedTemporalFramesLeaveNoGap()
    {
        // L1T3 pattern TID 0,2,1,2,...; the subscriber gets T0+T1 only.
        var r = new Vp8Rewriter(initialPictureId: 10, initialTl0PicIdx: 0);
        int[] tids = [0, 2, 1, 2, 0, 2, 1, 2, 0];
        var outIds = new List<int>();
        byte tl0 = 100;
        for (int i = 0; i < tids.Length; i++)
        {
            if (tids[i] == 0 && i > 0) tl0++;
            for (int packet = 0; packet < 2; packet++) // two packets per frame
            {
                var p = Vp8(300 + i, tl0, tids[i], start: packet == 0);
                if (tids[i] > 1) r.OnDropped(p, A);
                else
                {
                    Assert.True(r.TryRewrite(p, A));
                    if (packet == 0) outIds.Add(Read(p).Pic);
                    Assert.Equal((byte)(tl0 - 100), Read(p).Tl0);
                }
            }
        }
        Assert.Equal([10, 11, 12, 13, 14], outIds);
    }

    [Fact]
    public void ReorderedPacketOfAnEarlierPictureKeepsItsNumber()
    {
        var r = new Vp8Rewriter(initialPictureId: 0);
        Assert.Equal(0, Forward(r, A, 500, 1).Pic);
        r.OnDropped(Vp8(501, 1, 2), A);
        Assert.Equal(1, Forward(r, A, 502, 1, tid: 1).Pic);
        Assert.Equal(0, Forward(r, A, 500, 1).Pic);      // late second packet of picture 500
        r.OnDropped(Vp8(501, 1, 2, start: false), A);    // late packet of the dropped picture: no second shift
        Assert.Equal(3, Forward(r, A, 504, 2).Pic);      // 503 was lost upstream: its number (2) stays a gap
    }

    [Fact]
    public void SourceSwitchContinuesNumbering()
    {
        var r = new Vp8Rewriter(initialPictureId: 7, initialTl0PicIdx: 3, initialKeyIdx: 4);
        Forward(r, A, 100, 40);
        Forward(r, A, 101, 40, tid: 1);
        Forward(r, A, 102, 41); // out 9, tl0 4
        Assert.False(r.TryRewrite(Vp8(31000, 200, 0), B)); // not the source until switched to
        r.SwitchSource(B);
        var key = Vp8(31000, 200, 0, keyIdx: 17);
        Assert.True(r.TryRewrite(key, B));
        Assert.Equal((10, (byte)5, 4), Read(key)); // first KEYIDX seen: the initial value
        Assert.Equal((uint?)B, r.CurrentSourceSsrc);
        Assert.Equal((11, (byte)5), Forward(r, B, 31001, 200, tid: 2));
        Assert.False(r.TryRewrite(Vp8(103, 41, 0), A)); // the previous source is dropped
        Assert.False(r.TryRewrite(Vp8(30999, 199, 0), B)); // older than the new source's first picture
        // Back to A (a later switch): continues again, KEYIDX moves on by one.
        r.SwitchSource(A);
        var back = Vp8(110, 45, 0, keyIdx: 0);
        Assert.True(r.TryRewrite(back, A));
        Assert.Equal((12, (byte)6, 5), Read(back));
    }

    [Fact]
    public void FifteenBitWraparoundOnBothSides()
    {
        var r = new Vp8Rewriter(initialPictureId: 32766);
        Assert.Equal(32766, Forward(r, A, 32765, 0).Pic);
        Assert.Equal(32767, Forward(r, A, 32766, 0).Pic);
        r.OnDropped(Vp8(32767, 0, 2), A); // the dropped picture sits on the source's wrap
        Assert.Equal(0, Forward(r, A, 0, 0).Pic);
        Assert.Equal(1, Forward(r, A, 1, 1).Pic);
        Assert.Equal(1, r.HighestOutgoingPictureId);
    }

    [Fact]
    public void Tl0PicIdxWraparound()
    {
        var r = new Vp8Rewriter(initialTl0PicIdx: 254);
        Assert.Equal((byte)254, Forward(r, A, 1, 10).Tl0);
        Assert.Equal((byte)255, Forward(r, A, 2, 11).Tl0);
        Assert.Equal((byte)0, Forward(r, A, 3, 12).Tl0);
        // Switch with the source itself wrapping.
        r.SwitchSource(B);
        Assert.Equal((byte)1, Forward(r, B, 900, 255).Tl0);
        Assert.Equal((byte)2, Forward(r, B, 901, 0).Tl0);
        Assert.Equal((byte)2, r.HighestOutgoingTl0PicIdx);
    }

    [Fact]
    public void SevenBitPictureIdStaysSevenBit()
    {
        var r = new Vp8Rewriter(initialPictureId: 126);
        Assert.Equal(126, Forward(r, A, 5, 0, longId: false).Pic);
        Assert.Equal(127, Forward(r, A, 6, 0, longId: false).Pic);
        Assert.Equal(0, Forward(r, A, 7, 0, longId: false).Pic); // outgoing wraps at the field's width
        Assert.Equal(1, Forward(r, A, 8, 0, longId: false).Pic);
    }

    [Fact]
    public void MalformedPayloadIsRejectedUntouched()
    {
        var r = new Vp8Rewriter();
        byte[] p = [0x90, 0x80];
        Assert.False(r.TryRewrite(p, A));
        Assert.Equal([0x90, 0x80], p);
        r.OnDropped(p, A); // ignored, no throw
    }

    /// <summary>
    /// Random frame streams (random TIDs, lost pictures, a target temporal layer changing, source switches at
    /// key frames, wrapping counters): every forwarded picture's outgoing PictureID is the previous one + 1
    /// (+ the pictures lost upstream), and every forwarded base layer frame's TL0PICIDX is the previous + 1.
    /// </summary>
    [Fact]
    public void ForwardedPicturesStayConsecutive()
    {
        var gen = Gen.Select(Gen.Int[0, 0x7FFF], Gen.Byte, Gen.Int[0, 2].Array[50, 400], Gen.Int[0, 99].Array[50, 400]);
        gen.Sample((startPic, startTl0, tids, events) =>
        {
            var r = new Vp8Rewriter(initialPictureId: startPic, initialTl0PicIdx: startTl0);
            int target = 2;
            uint ssrc = 1;
            int srcPic = events[0] * 300, lastOut = -1, lostSinceLast = 0, lastTl0 = -1;
            byte srcTl0 = (byte)events[0];
            bool first = true, tl0Lost = false;
            for (int i = 0; i < tids.Length; i++)
            {
                int e = events[i % events.Length];
                int tid = tids[i];
                bool switched = e < 3 && i > 0;
                if (switched) { ssrc++; r.SwitchSource(ssrc); srcPic = (srcPic + 5000 * e) & 0x7FFF; srcTl0 += 77; tid = 0; }
                if (e is >= 3 and < 6) target = e - 3;
                srcPic = (srcPic + 1) & 0x7FFF;
                if (tid == 0) srcTl0++;
                if (e is >= 90 and < 93 && !switched)
                {
                    // Lost upstream: the rewriter never learns whether it would have been forwarded, so its number stays a gap.
                    lostSinceLast++;
                    tl0Lost |= tid == 0;
                    continue;
                }
                var p = Vp8(srcPic, srcTl0, tid);
                if (tid > target && !switched) { r.OnDropped(p, ssrc); continue; }
                Assert.True(r.TryRewrite(p, ssrc));
                var (pic, tl0, _) = Read(p);
                int expectedPic = first ? startPic : (lastOut + 1 + (switched ? 0 : lostSinceLast)) & 0x7FFF;
                Assert.Equal(expectedPic, pic);
                if (tid == 0 && !first && (switched || !tl0Lost)) Assert.Equal((byte)(lastTl0 + 1), tl0);
                lastTl0 = tl0; // packets above TID 0 carry the TL0PICIDX of the base frame before them
                if (tid == 0) tl0Lost = false;
                lastOut = pic;
                lostSinceLast = 0;
                first = false;
            }
        });
    }
}
