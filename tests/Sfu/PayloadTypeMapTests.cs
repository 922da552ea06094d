using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class PayloadTypeMapTests
{
    private static readonly CodecDescription[] Publisher =
    [
        new(111, "opus", 48000, 2, "minptime=10;useinbandfec=1"),
        new(96, "VP8", 90000),
        new(97, "rtx", 90000, Fmtp: "apt=96"),
        new(102, "H264", 90000, Fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
        new(103, "rtx", 90000, Fmtp: "apt=102"),
        new(104, "H264", 90000, Fmtp: "packetization-mode=0;profile-level-id=42e01f"),
        new(106, "H264", 90000, Fmtp: "packetization-mode=1;profile-level-id=640c1f"),
        new(98, "VP9", 90000, Fmtp: "profile-id=2"),
        new(45, "AV1", 90000),
    ];

    private static readonly CodecDescription[] Subscriber =
    [
        new(109, "OPUS", 48000, 2),
        new(120, "vp8", 90000),
        new(121, "rtx", 90000, Fmtp: "apt=120"),
        new(125, "H264", 90000, Fmtp: "profile-level-id=42E034; packetization-mode=1"),
        new(107, "rtx", 90000, Fmtp: "apt=125"),
        new(100, "VP9", 90000, Fmtp: "profile-id=0"),
    ];

    [Theory]
    [InlineData(111, 109)] // opus, name case-insensitive
    [InlineData(96, 120)]
    [InlineData(97, 121)]  // rtx follows its apt
    [InlineData(102, 125)] // H.264 same profile and packetization mode, other level
    [InlineData(103, 107)]
    public void MapsMatchingCodecs(byte from, byte to)
    {
        var map = PayloadTypeMap.Build(Publisher, Subscriber);
        Assert.True(map.TryMap(from, out byte mapped));
        Assert.Equal(to, mapped);
    }

    [Theory]
    [InlineData(104)] // packetization-mode 0 vs 1
    [InlineData(106)] // High profile vs constrained baseline
    [InlineData(98)]  // VP9 profile 2 vs 0
    [InlineData(45)]  // not offered to the subscriber
    [InlineData(0)]
    [InlineData(200)] // not a payload type
    public void RejectsUnmatchedCodecs(byte from)
    {
        var map = PayloadTypeMap.Build(Publisher, Subscriber);
        Assert.False(map.TryMap(from, out _));
    }

    [Fact]
    public void ChannelsAndClockRateMustMatch()
    {
        var map = PayloadTypeMap.Build([new(111, "opus", 48000, 2), new(0, "PCMU", 8000)], [new(111, "opus", 48000, 1), new(0, "PCMU", 16000)]);
        Assert.False(map.TryMap(111, out _));
        Assert.False(map.TryMap(0, out _));
    }

    [Fact]
    public void RewritesPayloadTypeKeepingMarker()
    {
        var map = PayloadTypeMap.Build(Publisher, Subscriber);
        var p = MakeRtp(1, 1, 1, pt: 96, marker: true);
        Assert.True(map.TryRewrite(p));
        Assert.Equal(0x80 | 120, p[1]);
        var q = MakeRtp(1, 1, 1, pt: 45);
        Assert.False(map.TryRewrite(q));
        Assert.Equal(45, q[1]);
        Assert.False(map.TryRewrite(new byte[4]));
    }

    [Fact]
    public void ListsRtxPairs() =>
        Assert.Equal([(120, 121), (125, 107)], PayloadTypeMap.GetRtxPairs(Subscriber).Select(p => ((int)p.MediaPayloadType, (int)p.RtxPayloadType)));
}

public class ExtensionIdMapTests
{
    private const string Mid = "urn:ietf:params:rtp-hdrext:sdes:mid";
    private const string AbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    private const string Twcc = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    private const string AudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

    private static ExtensionIdMap Build() => ExtensionIdMap.Build(
        [new(1, AudioLevel), new(3, Twcc), new(4, Mid), new(9, AbsSendTime)],
        [new(2, Twcc), new(3, AbsSendTime), new(10, AudioLevel)]);

    [Fact]
    public void MapsByUriAndDropsUnnegotiated()
    {
        var map = Build();
        Assert.True(map.TryMap(1, out byte id));
        Assert.Equal(10, id);
        Assert.True(map.TryMap(3, out id));
        Assert.Equal(2, id);
        Assert.True(map.TryMap(9, out id));
        Assert.Equal(3, id);
        Assert.False(map.TryMap(4, out _));
        Assert.False(map.TryMap(0, out _));
        Assert.Equal(256, map.Table.Length);
    }

    [Fact]
    public void RewritesPacketIdsAndPadsOutRemovedElements()
    {
        var map = Build();
        var p = MakeRtp(1, 1, 1, extensions: [(3, [0x00, 0x07]), (4, [(byte)'a']), (9, [1, 2, 3])]);
        Assert.True(map.TryRewrite(p));
        Assert.True(RtpPacketReader.TryParse(p, out var reader));
        var ids = new List<(int, byte[])>();
        foreach (var e in reader.Extensions) ids.Add((e.Id, e.Value.ToArray()));
        Assert.Equal(2, ids.Count);
        Assert.Equal(2, ids[0].Item1);
        Assert.Equal(new byte[] { 0, 7 }, ids[0].Item2);
        Assert.Equal(3, ids[1].Item1);
        Assert.Equal(new byte[] { 1, 2, 3 }, ids[1].Item2);
        Assert.Equal(20, reader.PayloadLength);
    }
}
