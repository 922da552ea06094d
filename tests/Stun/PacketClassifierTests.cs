using CsCheck;
using TeleRehab.Media.Net;

namespace TeleRehab.Media.Tests.Stun;

public class PacketClassifierTests
{
    [Theory]
    [InlineData(0, PacketKind.Stun)]
    [InlineData(1, PacketKind.Stun)]
    [InlineData(3, PacketKind.Stun)]
    [InlineData(4, PacketKind.Unknown)]
    [InlineData(16, PacketKind.Unknown)] // ZRTP
    [InlineData(19, PacketKind.Unknown)]
    [InlineData(20, PacketKind.Dtls)]
    [InlineData(22, PacketKind.Dtls)]    // handshake
    [InlineData(23, PacketKind.Dtls)]    // application data
    [InlineData(63, PacketKind.Dtls)]
    [InlineData(64, PacketKind.Unknown)] // TURN channel
    [InlineData(127, PacketKind.Unknown)]
    [InlineData(192, PacketKind.Unknown)]
    [InlineData(255, PacketKind.Unknown)]
    public void ClassifiesByFirstByte(int first, PacketKind expected) =>
        Assert.Equal(expected, PacketClassifier.Classify([(byte)first, 0, 0, 0]));

    [Theory]
    [InlineData(0x80, 96, PacketKind.Rtp)]          // VP8, no marker
    [InlineData(0x80, 96 | 0x80, PacketKind.Rtp)]   // marker set -> 224
    [InlineData(0x90, 111, PacketKind.Rtp)]         // extension bit
    [InlineData(0x80, 200, PacketKind.Rtcp)]        // SR
    [InlineData(0x81, 201, PacketKind.Rtcp)]        // RR
    [InlineData(0x8F, 205, PacketKind.Rtcp)]        // RTPFB
    [InlineData(0x8F, 206, PacketKind.Rtcp)]        // PSFB
    [InlineData(0x80, 192, PacketKind.Rtcp)]
    [InlineData(0x80, 223, PacketKind.Rtcp)]
    [InlineData(0xBF, 191, PacketKind.Rtp)]
    [InlineData(0xBF, 224, PacketKind.Rtp)]
    public void SplitsRtpAndRtcpByPayloadType(int first, int second, PacketKind expected) =>
        Assert.Equal(expected, PacketClassifier.Classify([(byte)first, (byte)second, 0, 0]));

    [Fact]
    public void EmptyOrOneByteRtpIsUnknown()
    {
        Assert.Equal(PacketKind.Unknown, PacketClassifier.Classify([]));
        Assert.Equal(PacketKind.Unknown, PacketClassifier.Classify([0x80]));
    }

    [Fact]
    public void Rfc5769RequestIsStun() =>
        Assert.Equal(PacketKind.Stun, PacketClassifier.Classify(Rfc5769Vectors.Request));

    [Fact]
    public void EveryByteValueHasTheRfc7983Kind()
    {
        Gen.Byte.Array[1, 20].Sample(bytes =>
        {
            var kind = PacketClassifier.Classify(bytes);
            byte b = bytes[0];
            if (b <= 3) Assert.Equal(PacketKind.Stun, kind);
            else if (b is >= 20 and <= 63) Assert.Equal(PacketKind.Dtls, kind);
            else if (b is >= 128 and <= 191 && bytes.Length >= 2) Assert.True(kind is PacketKind.Rtp or PacketKind.Rtcp);
            else Assert.Equal(PacketKind.Unknown, kind);
        });
    }
}
