using CsCheck;
using TeleRehab.Media.Codecs;

namespace TeleRehab.Media.Tests.Codecs;

public class H264KeyframeTests
{
    [Theory]
    [InlineData(new byte[] { 0x65, 0x88, 0x84 }, true)]   // single NAL unit: IDR slice (nal_ref_idc 3, type 5)
    [InlineData(new byte[] { 0x67, 0x42, 0xC0 }, true)]   // SPS
    [InlineData(new byte[] { 0x68, 0xCE }, false)]        // PPS alone
    [InlineData(new byte[] { 0x41, 0x9A }, false)]        // non-IDR slice
    [InlineData(new byte[] { 0x06, 0x05 }, false)]        // SEI
    [InlineData(new byte[] { 0x7C, 0x85, 0xB8 }, true)]   // FU-A, S=1, type 5
    [InlineData(new byte[] { 0x7C, 0x05, 0xB8 }, false)]  // FU-A middle fragment of an IDR
    [InlineData(new byte[] { 0x7C, 0x45, 0xB8 }, false)]  // FU-A end fragment of an IDR
    [InlineData(new byte[] { 0x7C, 0x81, 0xB8 }, false)]  // FU-A, S=1, non-IDR slice
    [InlineData(new byte[] { 0x7C, 0x87 }, true)]         // FU-A start of an SPS (unusual but a key frame start)
    [InlineData(new byte[] { 0x7C }, false)]              // FU-A without its header
    [InlineData(new byte[] { }, false)]
    public void SingleAndFragmented(byte[] payload, bool expected) =>
        Assert.Equal(expected, H264Keyframe.IsKeyframe(payload));

    [Fact]
    public void StapAWithSpsPpsIdr()
    {
        // §5.7.1: STAP-A header (type 24), then [size][NAL] units: SPS (3 bytes), PPS (2 bytes).
        byte[] p = [0x78, 0x00, 0x03, 0x67, 0x42, 0xC0, 0x00, 0x02, 0x68, 0xCE];
        Assert.True(H264Keyframe.IsKeyframe(p));
    }

    [Fact]
    public void StapAWithIdrSecond()
    {
        byte[] p = [0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x65, 0x88];
        Assert.True(H264Keyframe.IsKeyframe(p));
    }

    [Fact]
    public void StapAWithoutKeyUnitsOrMalformed()
    {
        Assert.False(H264Keyframe.IsKeyframe([0x78, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x02, 0x41, 0x9A]));
        Assert.False(H264Keyframe.IsKeyframe([0x78, 0x00, 0x09, 0x65, 0x88])); // size beyond the packet
        Assert.False(H264Keyframe.IsKeyframe([0x78, 0x00, 0x00, 0x65]));       // zero size
        Assert.False(H264Keyframe.IsKeyframe([0x78, 0x00]));
    }

    [Fact]
    public void RandomBytesNeverThrow() =>
        Gen.Byte.Array[0, 40].Sample(bytes => { H264Keyframe.IsKeyframe(bytes); }, iter: 20000);
}
