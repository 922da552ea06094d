using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.Tests.Sdp;

/// <summary>One payload type per codec across the BUNDLE group (RFC 8843 §9.1.2), as a client with many receive
/// sections needs: the offerer must not run out of dynamic payload types, and renegotiations keep the numbers.</summary>
public class SdpOffererPayloadTypeTests
{
    private static readonly SdpLocalStream AudioOut = new(0x11110000, "client", "client", "client-audio");
    private static readonly SdpLocalStream VideoOut = new(0x22220000, "client", "client", "client-video", 0x22220001);

    /// <summary>Like WebRtcClient: a full ICE agent with the default codecs, a fresh offerer per offer.</summary>
    private static SdpLocalParameters Client(IReadOnlyList<SdpCodecCapability>? codecs = null, ulong version = 2) => new()
    {
        IceUfrag = "cliU",
        IcePwd = "clientIcePassword0123456789",
        Fingerprint = SdpSamples.ChromeFingerprint,
        IceLite = false,
        AcceptDataChannels = false,
        Codecs = codecs ?? SdpCodecCapability.Defaults,
        SessionVersion = version,
    };

    /// <summary>The client's two send sections then <paramref name="participants"/> remote participants, each with one
    /// recvonly audio and one recvonly video section (mids "2", "3", ...).</summary>
    private static List<SdpTransceiver> Sections(int participants, IReadOnlyList<SdpCodecCapability>? codecs = null)
    {
        var list = new List<SdpTransceiver>
        {
            new("audio", "0", SdpDirection.SendOnly) { LocalStream = AudioOut, Codecs = codecs },
            new("video", "1", SdpDirection.SendOnly) { LocalStream = VideoOut, Codecs = codecs },
        };
        for (int i = 0; i < participants; i++)
        {
            list.Add(new("audio", (2 + 2 * i).ToString(), SdpDirection.RecvOnly) { Codecs = codecs });
            list.Add(new("video", (3 + 2 * i).ToString(), SdpDirection.RecvOnly) { Codecs = codecs });
        }
        return list;
    }

    /// <summary>payload type -> every meaning it has anywhere in the description ("VP8/90000/1 fmtp", "rtx/90000 apt=96").</summary>
    private static Dictionary<int, HashSet<string>> Meanings(SessionDescription sdp)
    {
        var result = new Dictionary<int, HashSet<string>>();
        foreach (var m in sdp.Media.Where(m => !m.IsRejected && m.Protocol.Contains("RTP", StringComparison.Ordinal)))
        {
            foreach (var map in m.RtpMaps)
            {
                string meaning = $"{map.EncodingName.ToUpperInvariant()}/{map.ClockRate}/{map.Channels ?? 1} {m.GetFmtp(map.PayloadType)?.Parameters}";
                if (!result.TryGetValue(map.PayloadType, out var set)) result[map.PayloadType] = set = [];
                set.Add(meaning);
            }
        }
        return result;
    }

    /// <summary>codec name (upper case) -> payload types used for it across the description.</summary>
    private static Dictionary<string, HashSet<int>> PayloadTypesByCodec(SessionDescription sdp)
        => sdp.Media.Where(m => !m.IsRejected && m.Kind != "application").SelectMany(m => m.RtpMaps)
            .Where(r => !r.EncodingName.Equals("rtx", StringComparison.OrdinalIgnoreCase))
            .GroupBy(r => r.EncodingName.ToUpperInvariant())
            .ToDictionary(g => g.Key, g => g.Select(r => r.PayloadType).ToHashSet());

    private static void AssertOneMeaningPerPayloadType(SessionDescription sdp)
    {
        foreach (var (pt, meanings) in Meanings(sdp))
            Assert.True(meanings.Count == 1, $"payload type {pt} has {meanings.Count} meanings: {string.Join(" | ", meanings)}");
    }

    [Fact]
    public void SixtyParticipants_OfferBuildsAndSharesPayloadTypes()
    {
        // 60 participants used to need 2 + 4 * 60 = 242 payload types; the dynamic ranges hold 61.
        var offer = new SdpOfferer(Client()).CreateOffer(Sections(60));
        AssertSharedPayloadTypes(offer.Description, 60);
    }

    [Fact]
    public void LargestOfferThatFitsTheParser_RoundTripsAsText()
    {
        // SessionDescription.MaxLength (64 KiB) now bounds the section count before payload types do.
        int n = LargestParticipantCountThatFits(n => new SdpOfferer(Client()).CreateOffer(Sections(n)).Sdp.Length);
        Assert.True(n > 19, $"only {n} participants fit"); // 19 was the payload type limit
        var offer = new SdpOfferer(Client()).CreateOffer(Sections(n));
        Assert.True(SessionDescription.TryParse(offer.Sdp, out var sdp, out var error), error);
        Assert.Equal(offer.Sdp, sdp!.ToString());
        AssertSharedPayloadTypes(sdp, n);
    }

    private static int LargestParticipantCountThatFits(Func<int, int> length)
    {
        int n = 1;
        while (n < 200 && length(n + 1) <= SessionDescription.MaxLength) n++;
        return n;
    }

    private static void AssertSharedPayloadTypes(SessionDescription sdp, int participants)
    {
        Assert.Equal(2 + 2 * participants, sdp.Media.Count);
        Assert.Equal(2 + 2 * participants, sdp.BundleMids.Count);
        Assert.Equal(1 + participants, sdp.Media.Count(m => m.Kind == "audio"));
        Assert.Equal(1 + participants, sdp.Media.Count(m => m.Kind == "video"));

        // Same formats, same rtpmap/fmtp/rtx lines in every section of a kind.
        var audio = sdp.Media.Where(m => m.Kind == "audio").ToList();
        var video = sdp.Media.Where(m => m.Kind == "video").ToList();
        Assert.All(audio, m => Assert.Equal(["111"], m.Formats));
        Assert.All(video, m => Assert.Equal(["96", "97", "102", "103"], m.Formats));
        Assert.All(audio, m => Assert.Equal(audio[0].RtpMaps, m.RtpMaps));
        Assert.All(video, m => Assert.Equal(video[0].RtpMaps, m.RtpMaps));
        Assert.All(video, m => Assert.Equal(video[0].Fmtps, m.Fmtps));
        Assert.All(video, m => Assert.Equal("apt=96", m.GetFmtp(97)!.Parameters));
        Assert.All(video, m => Assert.Equal("apt=102", m.GetFmtp(103)!.Parameters));
        Assert.All(sdp.Media.Skip(2), m => Assert.Equal(SdpDirection.RecvOnly, m.Direction));

        Assert.All(PayloadTypesByCodec(sdp), kv => Assert.Single(kv.Value));
        AssertOneMeaningPerPayloadType(sdp);
        Assert.Equal(5, Meanings(sdp).Count); // 111, 96/97, 102/103 in all
    }

    [Fact]
    public void ReOffers_KeepPayloadTypes_WhenSectionsAreAdded()
    {
        // WebRtcClient makes a new offerer per offer from equal parameters (only the session version moves).
        var first = SessionDescription.Parse(new SdpOfferer(Client(version: 2)).CreateOffer(Sections(0)).Sdp);
        var second = SessionDescription.Parse(new SdpOfferer(Client(version: 3)).CreateOffer(Sections(5)).Sdp);
        var third = new SdpOfferer(Client(version: 4)).CreateOffer(Sections(60)).Description;

        foreach (var later in new[] { second, third })
        {
            for (int i = 0; i < first.Media.Count; i++)
            {
                Assert.Equal(first.Media[i].Formats, later.Media[i].Formats);
                Assert.Equal(first.Media[i].RtpMaps, later.Media[i].RtpMaps);
                Assert.Equal(first.Media[i].Fmtps, later.Media[i].Fmtps);
            }
            Assert.Equal(
                PayloadTypesByCodec(first).ToDictionary(kv => kv.Key, kv => kv.Value.Single()),
                PayloadTypesByCodec(later).ToDictionary(kv => kv.Key, kv => kv.Value.Single()));
        }
        // The same offerer instance asked again gives the same numbers too.
        var offerer = new SdpOfferer(Client());
        Assert.Equal(offerer.CreateOffer(Sections(3)).Sdp, offerer.CreateOffer(Sections(3)).Sdp);
    }

    [Fact]
    public void ReOffers_KeepVideoPayloadTypes_WhenTheFirstOfferHadOnlyAudio()
    {
        var audioOnly = SessionDescription.Parse(new SdpOfferer(Client()).CreateOffer([new SdpTransceiver("audio", "0", SdpDirection.SendRecv)]).Sdp);
        var later = SessionDescription.Parse(new SdpOfferer(Client()).CreateOffer(
        [
            new SdpTransceiver("audio", "0", SdpDirection.SendOnly),
            new SdpTransceiver("video", "1", SdpDirection.RecvOnly),
        ]).Sdp);
        var together = SessionDescription.Parse(new SdpOfferer(Client()).CreateOffer(Sections(1)).Sdp);
        Assert.Equal(audioOnly.Media[0].Formats, later.Media[0].Formats);
        Assert.Equal(together.Media[1].Formats, later.Media[1].Formats);
    }

    [Fact]
    public void CustomCodecList_IsStableAndConsistent()
    {
        // A client configured with its own codec list (WebRtcClientOptions.Codecs): H264 before VP8, Opus with a
        // non-default preference, and a second VP8 preferring a number VP8 already took.
        SdpCodecCapability[] codecs =
        [
            SdpCodecCapability.H264,
            SdpCodecCapability.Vp8,
            SdpCodecCapability.Opus with { PreferredPayloadType = 109 },
            new("audio", "PCMU", 8000, null, null, [], PreferredPayloadType: 96),
        ];
        var a = SessionDescription.Parse(new SdpOfferer(Client(codecs)).CreateOffer(Sections(30, codecs)).Sdp);
        var b = SessionDescription.Parse(new SdpOfferer(Client(codecs)).CreateOffer(Sections(2, codecs)).Sdp);
        AssertOneMeaningPerPayloadType(a);
        Assert.All(PayloadTypesByCodec(a), kv => Assert.Single(kv.Value));
        Assert.Equal(PayloadTypesByCodec(b), PayloadTypesByCodec(a), new SetDictionaryComparer());
        Assert.Equal(109, PayloadTypesByCodec(a)["OPUS"].Single());
        Assert.Equal(102, PayloadTypesByCodec(a)["H264"].Single());
        Assert.Equal(96, PayloadTypesByCodec(a)["VP8"].Single());
        int pcmu = PayloadTypesByCodec(a)["PCMU"].Single();
        Assert.DoesNotContain(pcmu, new[] { 96, 97, 102, 103, 109 });
    }

    [Fact]
    public void SameNameDifferentFmtp_GetsDifferentPayloadTypes()
    {
        var baseline = SdpCodecCapability.H264;
        var mode0 = SdpCodecCapability.H264 with { Fmtp = "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f" };
        var stereo = new SdpCodecCapability("audio", "opus", 48000, 2, "stereo=1", [], PreferredPayloadType: 111);
        SdpCodecCapability[] codecs = [SdpCodecCapability.Opus, stereo, baseline, mode0];
        var sdp = SessionDescription.Parse(new SdpOfferer(Client(codecs)).CreateOffer(Sections(10)).Sdp);
        AssertOneMeaningPerPayloadType(sdp);
        var h264 = sdp.Media[1].RtpMaps.Where(r => r.EncodingName == "H264").Select(r => r.PayloadType).ToList();
        Assert.Equal(2, h264.Distinct().Count());
        Assert.Equal(2, sdp.Media[0].RtpMaps.Count(r => r.EncodingName == "opus"));
        Assert.Equal(2, sdp.Media[1].RtpMaps.Count(r => r.EncodingName == "rtx")); // one rtx per H264 variant
        Assert.All(sdp.Media.Where(m => m.Kind == "video"), m => Assert.Equal(sdp.Media[1].Formats, m.Formats));
    }

    [Fact]
    public void SectionSpecificCodecs_ShareTheTableWithLocalCodecs()
    {
        var vp9 = new SdpCodecCapability("video", "VP9", 90000, null, "profile-id=0", SdpCodecCapability.VideoFeedback, PreferredPayloadType: 96);
        var sdp = SessionDescription.Parse(new SdpOfferer(Client()).CreateOffer(
        [
            new SdpTransceiver("video", "0", SdpDirection.RecvOnly),
            new SdpTransceiver("video", "1", SdpDirection.RecvOnly) { Codecs = [vp9, SdpCodecCapability.Vp8] },
            new SdpTransceiver("video", "2", SdpDirection.RecvOnly) { Codecs = [SdpCodecCapability.Vp8, SdpCodecCapability.Vp8] },
        ]).Sdp);
        AssertOneMeaningPerPayloadType(sdp);
        int vp9Pt = sdp.Media[1].RtpMaps.Single(r => r.EncodingName == "VP9").PayloadType;
        Assert.DoesNotContain(SdpText.Inv(vp9Pt), sdp.Media[0].Formats);
        Assert.Equal(96, sdp.Media[1].RtpMaps.Single(r => r.EncodingName == "VP8").PayloadType);
        Assert.Equal(["96", "97"], sdp.Media[2].Formats); // a codec listed twice appears once
    }

    [Fact]
    public void TooManyDistinctCodecs_Throws()
    {
        // 31 video codecs need 62 payload types (each with rtx): one more than the 61 dynamic ones.
        var codecs = Enumerable.Range(0, 31).Select(i => new SdpCodecCapability("video", "X" + i, 90000, null, null, [])).ToList();
        var offerer = new SdpOfferer(Client(codecs));
        var ex = Assert.Throws<InvalidOperationException>(() => offerer.CreateOffer([new SdpTransceiver("video", "0", SdpDirection.RecvOnly)]));
        Assert.Contains("out of dynamic payload types", ex.Message);
        // The 30 that fit still offer, with PTs in the dynamic ranges (96-127, 35-63) and one meaning each.
        var sdp = SessionDescription.Parse(new SdpOfferer(Client(codecs.Take(30).ToList()))
            .CreateOffer([new SdpTransceiver("video", "0", SdpDirection.RecvOnly), new SdpTransceiver("video", "1", SdpDirection.RecvOnly)]).Sdp);
        Assert.Equal(60, sdp.Media[0].Formats.Count);
        Assert.All(sdp.Media[0].RtpMaps, r => Assert.True(r.PayloadType is (>= 96 and <= 127) or (>= 35 and <= 63)));
        Assert.Equal(60, sdp.Media[0].RtpMaps.Select(r => r.PayloadType).Distinct().Count());
        Assert.Equal(sdp.Media[0].Formats, sdp.Media[1].Formats);
    }

    [Fact]
    public void Table_IsDeterministicAndHonoursPreferences()
    {
        var t1 = new SdpPayloadTypeTable(SdpCodecCapability.Defaults);
        var t2 = new SdpPayloadTypeTable(SdpCodecCapability.Defaults.Concat(SdpCodecCapability.Defaults));
        foreach (var c in SdpCodecCapability.Defaults)
        {
            Assert.True(t1.TryGet(c, out int pt1, out int? rtx1));
            Assert.True(t2.TryGet(c, out int pt2, out int? rtx2));
            Assert.Equal((pt1, rtx1), (pt2, rtx2));
        }
        Assert.True(t1.TryGet(SdpCodecCapability.Opus, out int opus, out int? opusRtx));
        Assert.Equal((111, (int?)null), (opus, opusRtx));
        // Name case and surrounding fmtp whitespace do not make a new codec.
        Assert.True(t1.TryGet(SdpCodecCapability.Vp8 with { Name = "vp8" }, out int vp8, out int? vp8Rtx));
        Assert.Equal((96, (int?)97), (vp8, vp8Rtx));
        Assert.False(t1.TryGet(new SdpCodecCapability("video", "AV1", 90000, null, null, []), out _, out _));
        Assert.Equal(5, t1.AssignedPayloadTypes.Distinct().Count());
    }

    private static Dictionary<string, SdpLocalStream> ServerStreams(SdpOffer offer)
    {
        // The server sends one stream on each receive section (the room's remote tracks).
        var streams = new Dictionary<string, SdpLocalStream>();
        foreach (var t in offer.Transceivers.Where(t => t.Direction == SdpDirection.RecvOnly))
        {
            uint ssrc = 0x10000000u + uint.Parse(t.Mid) * 2;
            streams[t.Mid] = new SdpLocalStream(ssrc, "sfu", "peer" + t.Mid, "track" + t.Mid, t.Kind == "video" ? ssrc + 1 : null);
        }
        return streams;
    }

    private static void AssertAnswerConsistent(SdpOffer offer, SdpAnswer answer)
    {
        int count = offer.Transceivers.Count;
        Assert.Equal(count, answer.Description.Media.Count);
        Assert.Equal(count, answer.Description.BundleMids.Count);
        Assert.All(answer.Description.Media, m => Assert.False(m.IsRejected));
        AssertOneMeaningPerPayloadType(answer.Description);
        Assert.All(PayloadTypesByCodec(answer.Description), kv => Assert.Single(kv.Value));
        Assert.Equal(count, answer.Session.Media.Count);
        foreach (var media in answer.Session.Media.Skip(2))
        {
            Assert.Equal(SdpDirection.SendOnly, media.Direction); // the server's view
            Assert.Equal(media.Kind == "audio" ? [111] : new[] { 96, 102 }, media.Codecs.Select(c => c.PayloadType));
        }
    }

    [Fact]
    public void OurAnswererAnswersSixtyParticipantOffer()
    {
        var offer = new SdpOfferer(Client()).CreateOffer(Sections(60));
        var answerer = new SdpAnswerer(SdpSamples.Server(ServerStreams(offer), dataChannels: false));
        Assert.True(answerer.TryCreateAnswer(offer.Description, out var answer, out var error), error);
        AssertAnswerConsistent(offer, answer!);
    }

    [Fact]
    public void OurAnswererAnswersTheLargestTextOffer_AndTheClientAppliesIt()
    {
        var client = Client();
        int n = LargestParticipantCountThatFits(n =>
        {
            var o = new SdpOfferer(client).CreateOffer(Sections(n));
            var a = new SdpAnswerer(SdpSamples.Server(ServerStreams(o), dataChannels: false)).TryCreateAnswer(o.Description, out var ans, out _);
            return Math.Max(o.Sdp.Length, a ? ans!.Sdp.Length : int.MaxValue);
        });
        Assert.True(n > 19, $"only {n} participants fit");
        var offer = new SdpOfferer(client).CreateOffer(Sections(n));
        var streams = ServerStreams(offer);
        var answer = new SdpAnswerer(SdpSamples.Server(streams, dataChannels: false)).CreateAnswer(offer.Sdp);
        AssertAnswerConsistent(offer, answer);
        Assert.True(SessionDescription.TryParse(answer.Sdp, out _, out var error), error);

        var session = new SdpOfferer(client).ApplyAnswer(offer, answer.Sdp);
        Assert.Equal(2 + 2 * n, session.Media.Count);
        Assert.Equal(SdpDirection.SendOnly, session.FindMedia("0")!.Direction);
        Assert.Equal(SdpDirection.SendOnly, session.FindMedia("1")!.Direction);
        foreach (var t in offer.Transceivers.Skip(2))
        {
            var media = session.FindMedia(t.Mid)!;
            Assert.Equal(SdpDirection.RecvOnly, media.Direction);
            Assert.Contains(streams[t.Mid].Ssrc, media.RemoteSsrcIds);
            if (t.Kind == "audio")
            {
                Assert.Equal(111, Assert.Single(media.Codecs).PayloadType);
                Assert.Empty(media.RtxPayloadTypes);
            }
            else
            {
                Assert.Equal([96, 102], media.Codecs.Select(c => c.PayloadType));
                Assert.Equal(new Dictionary<int, int> { [97] = 96, [103] = 102 }, media.RtxPayloadTypes);
                Assert.Contains(streams[t.Mid].RtxSsrc!.Value, media.RemoteSsrcGroups.Single().Ssrcs);
            }
            // Both ends agree on what each section negotiated.
            Assert.Equal(answer.Session.FindMedia(t.Mid)!.Codecs.Select(c => (c.PayloadType, c.Name, c.RtxPayloadType)),
                media.Codecs.Select(c => (c.PayloadType, c.Name, c.RtxPayloadType)));
            Assert.Equal(answer.Session.FindMedia(t.Mid)!.HeaderExtensions, media.HeaderExtensions);
        }
    }

    [Fact]
    public void ApplyAnswer_IgnoresRtxThatWasNotOffered()
    {
        var offer = new SdpOfferer(Client()).CreateOffer([new SdpTransceiver("video", "0", SdpDirection.RecvOnly)]);
        string answer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
            + "m=video 9 UDP/TLS/RTP/SAVPF 96 98\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:answerPasswordAnswerPwd1\r\n"
            + "a=fingerprint:" + SdpSamples.ServerFingerprint + "\r\na=setup:passive\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
            + "a=rtpmap:96 VP8/90000\r\na=rtpmap:98 rtx/90000\r\na=fmtp:98 apt=96\r\n";
        var session = new SdpOfferer(Client()).ApplyAnswer(offer, answer);
        var vp8 = Assert.Single(session.FindMedia("0")!.Codecs);
        Assert.Null(vp8.RtxPayloadType);
        Assert.Empty(session.FindMedia("0")!.RtxPayloadTypes);
    }

    private sealed class SetDictionaryComparer : IEqualityComparer<Dictionary<string, HashSet<int>>>
    {
        public bool Equals(Dictionary<string, HashSet<int>>? x, Dictionary<string, HashSet<int>>? y)
            => x is not null && y is not null && x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && v.SetEquals(kv.Value));

        public int GetHashCode(Dictionary<string, HashSet<int>> obj) => obj.Count;
    }
}
