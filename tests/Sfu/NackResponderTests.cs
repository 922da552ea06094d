using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class NackResponderTests
{
    private const uint PublisherSsrc = 0x11111111;
    private const uint OutSsrc = 0x22222222;
    private const uint RtxSsrc = 0x33333333;

    private static readonly CodecDescription[] PublisherCodecs =
    [
        new(100, "VP8", 90000), new(101, "rtx", 90000, Fmtp: "apt=100"),
    ];

    private static readonly CodecDescription[] SubscriberCodecs =
    [
        new(96, "VP8", 90000), new(97, "rtx", 90000, Fmtp: "apt=96"),
    ];

    private sealed class Setup
    {
        public readonly RetransmissionBuffer Buffer = new(capacity: 64);
        public readonly RtpStreamRewriter Rewriter = new(OutSsrc, 90000, initialSequenceNumber: 0, initialTimestamp: 1000);
        public readonly NackResponder Responder;

        public Setup(bool rtx)
        {
            var pt = PayloadTypeMap.Build(PublisherCodecs, SubscriberCodecs);
            var ext = ExtensionIdMap.Build([new(3, "urn:a")], [new(5, "urn:a")]);
            Responder = new NackResponder(Rewriter, pt, ext);
            if (rtx) Responder.EnableRtx(RtxSsrc, PayloadTypeMap.GetRtxPairs(SubscriberCodecs), initialRtxSequenceNumber: 0x1234);
        }

        /// <summary>What the forward path does: store the plaintext, then rewrite a copy for the subscriber.</summary>
        public ushort Publish(byte[] packet, TimeSpan now)
        {
            Assert.True(Buffer.Store(packet, now));
            var copy = (byte[])packet.Clone();
            Assert.True(Rewriter.TryRewrite(copy, now, out ushort outSeq));
            return outSeq;
        }
    }

    // V=2, P=1, X=1, M=1, PT=100, seq 5000, ts 90000, SSRC 0x11111111, one-byte extension id 3 = AB, payload 00..09, 4 bytes padding.
    private static byte[] Original() =>
        MakeRtp(PublisherSsrc, 5000, 90000, pt: 100, payloadLength: 10, marker: true, extensions: [(3, [0xAB])], padding: 4);

    [Fact]
    public void OriginalPacketIsWhatTheTestExpects() =>
        Assert.Equal(Convert.FromHexString("B0E41388" + "00015F90" + "11111111" + "BEDE0001" + "30AB0000" + "00010203040506070809" + "00000004"),
            Original());

    /// <summary>Browsers NACK a lost packet again every round trip: the first request for an outgoing seq is told
    /// apart from the repeats (the SFU counts a packet it held once, however often it is asked for).</summary>
    [Fact]
    public void TellsTheFirstRequestForASeqFromItsRepeats()
    {
        var s = new Setup(rtx: true);
        Assert.True(s.Responder.NoteRequest(10));
        Assert.False(s.Responder.NoteRequest(10));
        Assert.False(s.Responder.NoteRequest(10));
        Assert.True(s.Responder.NoteRequest(11));
        Assert.True(s.Responder.NoteRequest(10 + 1024)); // the same slot, a newer seq
        Assert.True(s.Responder.NoteRequest(10));        // ... which pushed the old one out of the history
    }

    [Fact]
    public void ResendsRewrittenAsForwarded()
    {
        var s = new Setup(rtx: false);
        ushort outSeq = s.Publish(Original(), Ms(0));
        var dest = new byte[1500];
        int n = s.Responder.TryBuildRetransmission(outSeq, s.Buffer, Ms(50), dest);
        // PT 100 -> 96, seq 0, ts 1000, SSRC 0x22222222, extension id 3 -> 5, padding kept.
        Assert.Equal(Convert.FromHexString("B0E00000" + "000003E8" + "22222222" + "BEDE0001" + "50AB0000" + "00010203040506070809" + "00000004"),
            dest[..n]);
    }

    [Fact]
    public void ResendsAsRtxPerRfc4588()
    {
        var s = new Setup(rtx: true);
        s.Publish(MakeRtp(PublisherSsrc, 4999, 87000, pt: 100), Ms(0));
        ushort outSeq = s.Publish(Original(), Ms(33));
        Assert.Equal((ushort)1, outSeq);
        var dest = new byte[1500];
        int n = s.Responder.TryBuildRetransmission(outSeq, s.Buffer, Ms(50), dest);
        // RTX PT 97, RTX seq 0x1234, media ts (1000 + 3000), RTX SSRC, same extensions, OSN 0x0001, payload, no padding.
        Assert.Equal(Convert.FromHexString("90E11234" + "00000FA0" + "33333333" + "BEDE0001" + "50AB0000" + "0001" + "00010203040506070809"),
            dest[..n]);
        // Next RTX packet uses the next RTX seq.
        n = s.Responder.TryBuildRetransmission(0, s.Buffer, Ms(50), dest);
        Assert.Equal(Convert.FromHexString("80611235" + "000003E8" + "33333333" + "0000"), dest[..14]);
        Assert.Equal(2, s.Responder.RetransmittedCount);
    }

    [Fact]
    public void SameSeqIsResentAtMostOncePerInterval()
    {
        var s = new Setup(rtx: false);
        ushort outSeq = s.Publish(Original(), Ms(0));
        var dest = new byte[1500];
        Assert.True(s.Responder.TryBuildRetransmission(outSeq, s.Buffer, Ms(10), dest) > 0);
        Assert.Equal(0, s.Responder.TryBuildRetransmission(outSeq, s.Buffer, Ms(109), dest));
        Assert.True(s.Responder.TryBuildRetransmission(outSeq, s.Buffer, Ms(110), dest) > 0);
    }

    [Fact]
    public void NothingToSendForUnknownExpiredOrUnmappedPackets()
    {
        var s = new Setup(rtx: false);
        ushort outSeq = s.Publish(Original(), Ms(0));
        s.Publish(MakeRtp(PublisherSsrc, 5001, 93000, pt: 111), Ms(1)); // PT the subscriber does not have
        var dest = new byte[1500];
        Assert.Equal(0, s.Responder.TryBuildRetransmission((ushort)(outSeq + 5), s.Buffer, Ms(2), dest)); // never sent
        Assert.Equal(0, s.Responder.TryBuildRetransmission((ushort)(outSeq + 1), s.Buffer, Ms(2), dest)); // unmapped PT
        Assert.Equal(0, s.Responder.TryBuildRetransmission(outSeq, s.Buffer, Ms(1001), dest));             // too old
        Assert.Equal(0, s.Responder.TryBuildRetransmission(outSeq, s.Buffer, Ms(2), new byte[20]));        // no room
    }

    [Fact]
    public void AnswersEveryLostSeqOfAParsedNack()
    {
        var s = new Setup(rtx: false);
        for (ushort i = 0; i < 20; i++) s.Publish(MakeRtp(PublisherSsrc, (ushort)(7000 + i), 90000u * i, pt: 100), Ms(i));
        var wire = new byte[64];
        NackPair[] pairs = [new(3, 0b101)]; // 3, 4, 6
        int len = new TransportLayerNack(1, OutSsrc, pairs).WriteTo(wire);
        Assert.True(TransportLayerNack.TryParse(wire.AsSpan(0, len), out var nack));
        var dest = new byte[1500];
        var resent = new List<(ushort Seq, uint Ts)>();
        foreach (ushort seq in nack.LostSequenceNumbers)
        {
            int n = s.Responder.TryBuildRetransmission(seq, s.Buffer, Ms(30), dest);
            if (n > 0) resent.Add((Seq(dest), Ts(dest)));
        }
        Assert.Equal([(3, 1000u + 270000u), (4, 1000u + 360000u), (6, 1000u + 540000u)], resent);
    }

    [Fact]
    public void ResendsFromTheSourceAPacketWasForwardedFrom()
    {
        var oldBuffer = new RetransmissionBuffer(16);
        var newBuffer = new RetransmissionBuffer(16);
        var sources = new TwoSources(oldBuffer, newBuffer);
        var rewriter = new RtpStreamRewriter(OutSsrc, 90000, 0, 0);
        var responder = new NackResponder(rewriter);
        var a = MakeRtp(0xA, 10, 0);
        oldBuffer.Store(a, Ms(0));
        rewriter.TryRewrite((byte[])a.Clone(), Ms(0), out _);
        var b = MakeRtp(0xB, 500, 0);
        newBuffer.Store(b, Ms(10));
        rewriter.TryRewrite((byte[])b.Clone(), Ms(10), out _);
        var dest = new byte[1500];
        Assert.True(responder.TryBuildRetransmission(0, sources, Ms(20), dest) > 0);
        Assert.Equal((OutSsrc, (ushort)0), (Ssrc(dest), Seq(dest)));
        Assert.True(responder.TryBuildRetransmission(1, sources, Ms(20), dest) > 0);
        Assert.Equal((OutSsrc, (ushort)1), (Ssrc(dest), Seq(dest)));
    }

    private sealed class TwoSources(RetransmissionBuffer a, RetransmissionBuffer b) : IRetransmissionSource
    {
        public bool TryGet(uint ssrc, ushort sequenceNumber, TimeSpan now, out ReadOnlySpan<byte> packet) =>
            a.TryGet(ssrc, sequenceNumber, now, out packet) || b.TryGet(ssrc, sequenceNumber, now, out packet);
    }
}
