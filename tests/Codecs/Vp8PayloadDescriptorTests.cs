using CsCheck;
using TeleRehab.Media.Codecs;

namespace TeleRehab.Media.Tests.Codecs;

public class Vp8PayloadDescriptorTests
{
    /// <summary>A VP8 key frame's first 10 bytes (RFC 6386 §9.1): frame tag with P=0, start code, width, height (LE, 2-bit scale on top).</summary>
    internal static byte[] KeyframeHeader(int width, int height, int hScale = 0, int vScale = 0) =>
    [
        0x50, 0x12, 0x00, // size0=2|H=1|VER=0|P=0, size1, size2
        0x9D, 0x01, 0x2A,
        (byte)width, (byte)((width >> 8) | (hScale << 6)),
        (byte)height, (byte)((height >> 8) | (vScale << 6)),
    ];

    internal static readonly byte[] InterframeHeader = [0x31, 0x05, 0x00, 0xAA, 0xBB];

    private static Vp8PayloadDescriptor Parse(byte[] payload)
    {
        Assert.True(Vp8PayloadDescriptor.TryParse(payload, out var d));
        return d;
    }

    // RFC 7741 §4.6 draws its examples as bit diagrams; these are those descriptors as bytes.

    [Fact]
    public void Rfc7741KeyFrameInASinglePacket()
    {
        // §4.6.1: X=1, S=1, PID=0; I=1; PictureID=17 (7-bit), then the key frame.
        byte[] p = [0x90, 0x80, 0x11, .. KeyframeHeader(176, 144)];
        var d = Parse(p);
        Assert.Equal(17, d.PictureId);
        Assert.False(d.HasLongPictureId || d.HasTl0PicIdx || d.HasTemporalId || d.HasKeyIdx);
        Assert.True(d.IsKeyframe);
        Assert.True(d.TryGetKeyframeSize(out int w, out int h, out _, out _));
        Assert.Equal((176, 144), (w, h));
    }

    [Fact]
    public void Rfc7741InterFrameWithoutPictureId()
    {
        // §4.6.2: a non-discardable inter frame in a single packet, no PictureID: X=0, N=0, S=1, PID=0.
        var d = Parse([0x10, .. InterframeHeader]);
        Assert.False(d.HasExtension || d.IsNonReference || d.IsKeyframe);
        Assert.True(d.IsFrameStart);
    }

    [Fact]
    public void Rfc7741PartitionsInSeparatePackets()
    {
        // §4.6.3: each partition starts a packet, S=1 with PID 0, 1, ...; PictureID 17 in each.
        var first = Parse([0x90, 0x80, 0x11, .. KeyframeHeader(320, 240)]);
        var second = Parse([0x91, 0x80, 0x11, 0xAB, 0xCD]);
        var continuation = Parse([0x81, 0x80, 0x11, 0xEF]);
        Assert.True(first.IsFrameStart && first.IsKeyframe);
        Assert.True(second.IsPartitionStart);
        Assert.Equal(1, second.PartitionIndex);
        Assert.False(second.IsFrameStart || second.IsKeyframe);
        Assert.False(continuation.IsPartitionStart);
        Assert.Equal(17, continuation.PictureId);
    }

    [Fact]
    public void Rfc7741LongPictureId()
    {
        // §4.6.5: M=1, PictureID 4711 (0x1267) in two octets.
        var d = Parse([0x90, 0x80, 0x92, 0x67, .. InterframeHeader]);
        Assert.True(d.HasLongPictureId);
        Assert.Equal(4711, d.PictureId);
    }

    [Fact]
    public void MandatoryOctetOnly()
    {
        // X=0, N=1, S=1, PID=0 then the payload.
        byte[] p = [0x30, .. InterframeHeader];
        var d = Parse(p);
        Assert.False(d.HasExtension);
        Assert.True(d.IsNonReference);
        Assert.True(d.IsPartitionStart);
        Assert.True(d.IsFrameStart);
        Assert.Equal(0, d.PartitionIndex);
        Assert.False(d.HasPictureId || d.HasTl0PicIdx || d.HasTemporalId || d.HasKeyIdx);
        Assert.Equal(1, d.PayloadHeaderOffset);
        Assert.False(d.IsKeyframe); // P=1
    }

    [Fact]
    public void PartitionIndexAndContinuation()
    {
        var d = Parse([0x03, 0x11, 0x22]); // S=0, PID=3
        Assert.False(d.IsPartitionStart);
        Assert.Equal(3, d.PartitionIndex);
        Assert.False(d.IsFrameStart);
        var e = Parse([0x12, 0x00]); // S=1, PID=2: a partition start but not the frame's
        Assert.True(e.IsPartitionStart);
        Assert.False(e.IsFrameStart);
        Assert.False(e.IsKeyframe); // P=0 in the first byte, but not partition 0
    }

    [Fact]
    public void SevenBitPictureId()
    {
        var d = Parse([0x90, 0x80, 0x55, .. InterframeHeader]); // X,S | I | M=0 PictureID=0x55
        Assert.True(d.HasPictureId);
        Assert.False(d.HasLongPictureId);
        Assert.Equal(0x55, d.PictureId);
        Assert.Equal(2, d.PictureIdOffset);
        Assert.Equal(3, d.PayloadHeaderOffset);
    }

    [Fact]
    public void FifteenBitPictureId()
    {
        var d = Parse([0x90, 0x80, 0xB2, 0x34, .. InterframeHeader]); // M=1, PictureID=0x3234
        Assert.True(d.HasLongPictureId);
        Assert.Equal(0x3234, d.PictureId);
        Assert.Equal(4, d.PayloadHeaderOffset);
    }

    [Fact]
    public void AllFieldsAsLibwebrtcSendsThem()
    {
        // I, L, T set: 15-bit PictureID 0x7FFF, TL0PICIDX 0xFE, TID=2 Y=1 (KEYIDX bits ignored: K=0).
        var d = Parse([0x90, 0xE0, 0xFF, 0xFF, 0xFE, 0xBF, .. InterframeHeader]);
        Assert.Equal(0x7FFF, d.PictureId);
        Assert.True(d.HasTl0PicIdx);
        Assert.Equal(0xFE, d.Tl0PicIdx);
        Assert.Equal(4, d.Tl0PicIdxOffset);
        Assert.True(d.HasTemporalId);
        Assert.Equal(2, d.TemporalId);
        Assert.True(d.IsLayerSync);
        Assert.False(d.HasKeyIdx);
        Assert.Equal(0, d.KeyIdx);
        Assert.Equal(5, d.TidKeyIdxOffset);
        Assert.Equal(6, d.PayloadHeaderOffset);
    }

    [Fact]
    public void KeyIdxWithoutTidIgnoresTidAndY()
    {
        var d = Parse([0x90, 0x10, 0xF7, .. InterframeHeader]); // K only: TID|Y bits set but must be ignored
        Assert.True(d.HasKeyIdx);
        Assert.Equal(0x17, d.KeyIdx);
        Assert.False(d.HasTemporalId);
        Assert.Equal(0, d.TemporalId);
        Assert.False(d.IsLayerSync);
        Assert.Equal(3, d.PayloadHeaderOffset);
    }

    [Fact]
    public void TidAndKeyIdxTogetherWithoutPictureId()
    {
        var d = Parse([0x90, 0x70, 0x07, 0x45, .. InterframeHeader]); // L,T,K: TL0=7, TID=1 Y=0 KEYIDX=5
        Assert.False(d.HasPictureId);
        Assert.Equal(7, d.Tl0PicIdx);
        Assert.Equal(1, d.TemporalId);
        Assert.False(d.IsLayerSync);
        Assert.Equal(5, d.KeyIdx);
        Assert.Equal(4, d.PayloadHeaderOffset);
    }

    [Fact]
    public void ExtensionOctetWithNoFields()
    {
        var d = Parse([0x90, 0x00, .. InterframeHeader]);
        Assert.True(d.HasExtension);
        Assert.Equal(2, d.PayloadHeaderOffset);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x10 })]                          // no VP8 payload
    [InlineData(new byte[] { 0x90 })]                          // X without the extension octet
    [InlineData(new byte[] { 0x90, 0x80 })]                    // I without PictureID
    [InlineData(new byte[] { 0x90, 0x80, 0x80 })]              // M=1 without the second octet
    [InlineData(new byte[] { 0x90, 0x80, 0x80, 0x01 })]        // 15-bit PictureID, no payload
    [InlineData(new byte[] { 0x90, 0x60, 0x01 })]              // L,T without the TID octet
    [InlineData(new byte[] { 0x90, 0x40, 0x01, 0x00, 0x00 })]  // L without T (§4.2: L requires T)
    [InlineData(new byte[] { 0x90, 0x10 })]                    // K without its octet
    public void RejectsTruncatedAndInconsistent(byte[] payload) =>
        Assert.False(Vp8PayloadDescriptor.TryParse(payload, out _));

    [Theory]
    [InlineData(640, 360)]
    [InlineData(320, 180)]
    [InlineData(160, 90)]
    [InlineData(1280, 720)]
    [InlineData(16383, 16383)]
    public void KeyframeSize(int width, int height)
    {
        byte[] p = [0x90, 0xE0, 0x80, 0x01, 0x00, 0x00, .. KeyframeHeader(width, height, 1, 3), 0xEE];
        var d = Parse(p);
        Assert.True(d.IsKeyframe);
        Assert.True(d.TryGetKeyframeSize(out int w, out int h, out int hs, out int vs));
        Assert.Equal((width, height, 1, 3), (w, h, hs, vs));
    }

    [Fact]
    public void KeyframeSizeFromHandBuiltBytes()
    {
        // 640 = 0x0280, 360 = 0x0168, little-endian, no scaling.
        byte[] p = [0x10, 0x50, 0x12, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01];
        var d = Parse(p);
        Assert.True(d.TryGetKeyframeSize(out int w, out int h, out _, out _));
        Assert.Equal((640, 360), (w, h));
    }

    [Fact]
    public void KeyframeNeedsPartitionZeroStartAndP0()
    {
        byte[] header = KeyframeHeader(320, 180);
        Assert.True(Parse([0x10, .. header]).IsKeyframe);
        Assert.False(Parse([0x00, .. header]).IsKeyframe); // S=0: a continuation
        Assert.False(Parse([0x11, .. header]).IsKeyframe); // PID=1
        header[0] |= 0x01;                                  // P=1: an inter frame
        Assert.False(Parse([0x10, .. header]).IsKeyframe);
    }

    [Fact]
    public void KeyframeSizeNeedsStartCodeAndTenBytes()
    {
        byte[] header = KeyframeHeader(320, 180);
        var truncated = Parse([0x10, .. header[..9]]);
        Assert.True(truncated.IsKeyframe);
        Assert.False(truncated.TryGetKeyframeSize(out _, out _, out _, out _));
        header[4] = 0x02;
        Assert.False(Parse([0x10, .. header]).TryGetKeyframeSize(out _, out _, out _, out _));
    }

    [Fact]
    public void SetPictureIdKeepsFieldWidth()
    {
        byte[] shortId = [0x90, 0x80, 0x05, 0x01];
        Assert.True(Vp8PayloadDescriptor.TrySetPictureId(shortId, 0x7F));
        Assert.Equal(0x7F, Parse(shortId).PictureId);
        Assert.False(Vp8PayloadDescriptor.TrySetPictureId(shortId, 0x80)); // a 15-bit value in a 7-bit field
        Assert.Equal(0x7F, Parse(shortId).PictureId);

        byte[] longId = [0x90, 0xC0 | 0x20, 0x80, 0x05, 0x09, 0x00, 0x01];
        Assert.True(Vp8PayloadDescriptor.TrySetPictureId(longId, 0x7ABC));
        var d = Parse(longId);
        Assert.True(d.HasLongPictureId);
        Assert.Equal(0x7ABC, d.PictureId);
        Assert.Equal(9, d.Tl0PicIdx); // neighbours untouched
        Assert.False(Vp8PayloadDescriptor.TrySetPictureId(longId, 0x8000));

        byte[] none = [0x10, 0x01];
        Assert.False(Vp8PayloadDescriptor.TrySetPictureId(none, 1));
    }

    [Fact]
    public void SetTl0PicIdxAndKeyIdx()
    {
        byte[] p = [0x90, 0xF0, 0x80, 0x05, 0x09, 0xA3, 0x01];
        Assert.True(Vp8PayloadDescriptor.TrySetTl0PicIdx(p, 200));
        Assert.True(Vp8PayloadDescriptor.TrySetKeyIdx(p, 30));
        var d = Parse(p);
        Assert.Equal(200, d.Tl0PicIdx);
        Assert.Equal(30, d.KeyIdx);
        Assert.Equal(2, d.TemporalId);
        Assert.True(d.IsLayerSync);
        Assert.Equal(5, d.PictureId);
        Assert.False(Vp8PayloadDescriptor.TrySetTl0PicIdx([0x10, 0x01], 1));
    }

    [Fact]
    public void RandomBytesNeverThrowAndParsedOffsetsStayInside()
    {
        Gen.Byte.Array[0, 24].Sample(bytes =>
        {
            if (!Vp8PayloadDescriptor.TryParse(bytes, out var d)) return;
            Assert.InRange(d.PayloadHeaderOffset, 1, bytes.Length - 1);
            _ = (d.PictureId, d.Tl0PicIdx, d.TemporalId, d.KeyIdx, d.IsLayerSync, d.IsKeyframe);
            d.TryGetKeyframeSize(out _, out _, out _, out _);
            var copy = (byte[])bytes.Clone();
            Vp8PayloadDescriptor.TrySetPictureId(copy, 0x1234);
            Vp8PayloadDescriptor.TrySetTl0PicIdx(copy, 7);
            Vp8PayloadDescriptor.TrySetKeyIdx(copy, 3);
            Assert.True(Vp8PayloadDescriptor.TryParse(copy, out var e)); // rewriting keeps it valid
            Assert.Equal(d.PayloadHeaderOffset, e.PayloadHeaderOffset);
        }, iter: 20000);
    }

    [Fact]
    public void RandomDescriptorsRoundTrip()
    {
        var gen = Gen.Select(Gen.Bool, Gen.Bool, Gen.Bool, Gen.Bool, Gen.Int[0, 0x7FFF], Gen.Byte, Gen.Int[0, 3], Gen.Int[0, 31]);
        gen.Sample((i, l, k, m, pid, tl0, tid, keyIdx) =>
        {
            bool t = l || tid > 0;
            var bytes = new List<byte> { 0x90, (byte)((i ? 0x80 : 0) | (l ? 0x40 : 0) | (t ? 0x20 : 0) | (k ? 0x10 : 0)) };
            if (i)
            {
                if (m) { bytes.Add((byte)(0x80 | pid >> 8)); bytes.Add((byte)pid); }
                else bytes.Add((byte)(pid & 0x7F));
            }
            if (l) bytes.Add(tl0);
            if (t || k) bytes.Add((byte)(tid << 6 | keyIdx));
            bytes.Add(0x01);
            var d = Parse(bytes.ToArray());
            Assert.Equal(i ? (m ? pid : pid & 0x7F) : 0, d.PictureId);
            Assert.Equal(l ? tl0 : 0, d.Tl0PicIdx);
            Assert.Equal(t ? tid : 0, d.TemporalId);
            Assert.Equal(k ? keyIdx : 0, d.KeyIdx);
            Assert.Equal(bytes.Count - 1, d.PayloadHeaderOffset);
        });
    }
}
