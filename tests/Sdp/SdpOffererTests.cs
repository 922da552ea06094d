using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.Tests.Sdp;

public class SdpOffererTests
{
    private static readonly SdpLocalStream AudioOut = new(0xA0A0A0A0, "srv", "room", "audio-out");
    private static readonly SdpLocalStream VideoOut = new(0xB0B0B0B0, "srv", "room", "video-out", 0xB1B1B1B1);

    private static SdpTransceiver[] Transceivers() =>
    [
        new("audio", "0", SdpDirection.SendOnly) { LocalStream = AudioOut },
        new("video", "1", SdpDirection.SendOnly) { LocalStream = VideoOut },
        new("video", "2", SdpDirection.RecvOnly) { ReceiveRids = ["h", "m", "l"] },
        new("application", "3", SdpDirection.SendRecv),
    ];

    internal static SdpOffer Offer() => new SdpOfferer(SdpSamples.Server()).CreateOffer(Transceivers());

    [Fact]
    public void Offer_HasIceLiteActpassBundleAndRoundTrips()
    {
        var offer = Offer();
        Assert.True(SessionDescription.TryParse(offer.Sdp, out var sdp, out var error), error);
        Assert.Equal(offer.Sdp, sdp!.ToString());
        Assert.True(sdp.IceLite);
        Assert.Equal(["0", "1", "2", "3"], sdp.BundleMids);
        Assert.Equal(["audio", "video", "video", "application"], sdp.Media.Select(m => m.Kind));
        Assert.All(sdp.Media, m => Assert.Equal(SdpSetupRole.ActPass, m.Setup));
        Assert.All(sdp.Media, m => Assert.Equal(40000, m.Port));
        Assert.All(sdp.Media, m => Assert.Equal(SdpSamples.ServerFingerprint, m.Fingerprint!.ToString()));
        Assert.Equal(2, sdp.Media[0].Candidates.Count);
        Assert.Equal([SdpDirection.SendOnly, SdpDirection.SendOnly, SdpDirection.RecvOnly], sdp.Media.Take(3).Select(m => m.Direction));
    }

    [Fact]
    public void Offer_CodecsPayloadTypesAndExtensionIdsAreConsistentAcrossBundle()
    {
        var sdp = SessionDescription.Parse(Offer().Sdp);
        Assert.Equal(["111"], sdp.Media[0].Formats);
        Assert.Equal("minptime=10;useinbandfec=1;usedtx=1", sdp.Media[0].GetFmtp(111)!.Parameters);
        Assert.Equal(["96", "97", "102", "103"], sdp.Media[1].Formats);
        Assert.Equal("apt=96", sdp.Media[1].GetFmtp(97)!.Parameters);
        Assert.Equal("H264", sdp.Media[1].GetRtpMap(102)!.EncodingName);
        // The second video section reuses the same payload types: one meaning per PT across the BUNDLE (RFC 8843 §9.1.2).
        Assert.Equal(sdp.Media[1].Formats, sdp.Media[2].Formats);
        var byId = sdp.Media.SelectMany(m => m.Extmaps).GroupBy(e => e.Id);
        Assert.All(byId, g => Assert.Single(g.Select(e => e.Uri).Distinct()));
        var byUri = sdp.Media.SelectMany(m => m.Extmaps).GroupBy(e => e.Uri);
        Assert.All(byUri, g => Assert.Single(g.Select(e => e.Id).Distinct()));
        Assert.Contains(sdp.Media[0].Extmaps, e => e.Uri == SdpHeaderExtensionCapability.AudioLevel);
        Assert.DoesNotContain(sdp.Media[1].Extmaps, e => e.Uri == SdpHeaderExtensionCapability.AudioLevel);
        Assert.Contains(sdp.Media[2].Extmaps, e => e.Uri == SdpHeaderExtensionCapability.RtpStreamId);
    }

    [Fact]
    public void Offer_LocalStreamsAndReceiveSimulcast()
    {
        var sdp = SessionDescription.Parse(Offer().Sdp);
        Assert.Equal(new SdpMsid("room", "video-out"), Assert.Single(sdp.Media[1].Msids));
        Assert.Equal([0xB0B0B0B0u, 0xB1B1B1B1u], Assert.Single(sdp.Media[1].SsrcGroups).Ssrcs);
        Assert.Contains(new SdpSsrc(0xA0A0A0A0, "cname", "srv"), sdp.Media[0].Ssrcs);
        Assert.Empty(sdp.Media[2].Ssrcs);
        Assert.Equal(["h", "m", "l"], sdp.Media[2].Rids.Select(r => r.Id));
        Assert.All(sdp.Media[2].Rids, r => Assert.Equal(SdpRidDirection.Recv, r.Direction));
        Assert.Equal(3, sdp.Media[2].Simulcast!.Recv.Count);
        Assert.Equal("webrtc-datachannel", Assert.Single(sdp.Media[3].Formats));
        Assert.Equal(5000, sdp.Media[3].SctpPort);
    }

    internal static string BrowserAnswer(string setup = "active") =>
        ("v=0\r\no=- 555 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2 3\r\na=msid-semantic: WMS\r\n"
        + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:brU1\r\na=ice-pwd:browserPasswordBrowserPwd\r\n"
        + "a=fingerprint:" + SdpSamples.ChromeFingerprint + "\r\na=setup:SETUP\r\na=mid:0\r\n"
        + "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=recvonly\r\na=rtcp-mux\r\n"
        + "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
        + "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:9 urn:x-not-offered\r\n"
        + "a=recvonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 x-unknown\r\n"
        + "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
        + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sendonly\r\na=msid:cam camtrack\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
        + "a=rid:h send\r\na=rid:m send\r\na=rid:l send\r\na=simulcast:send h;m;l\r\n"
        + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\na=sctp-port:5000\r\na=max-message-size:65536\r\n")
        .Replace("SETUP", setup);

    [Fact]
    public void ApplyAnswer_ProducesNegotiatedSession()
    {
        var offer = Offer();
        var offerer = new SdpOfferer(SdpSamples.Server());
        Assert.True(offerer.TryApplyAnswer(offer, BrowserAnswer(), out var session, out var error), error);
        Assert.Equal("brU1", session!.RemoteIceUfrag);
        Assert.Equal(SdpSetupRole.Active, session.RemoteSetup);
        Assert.Equal(SdpSetupRole.Passive, session.LocalSetup);
        Assert.Equal(["0", "1", "2", "3"], session.BundleMids);

        var audio = session.FindMedia("0")!;
        Assert.Equal(SdpDirection.SendOnly, audio.Direction);
        Assert.Equal(AudioOut, audio.LocalStream);
        Assert.Equal(111, Assert.Single(audio.Codecs).PayloadType);
        Assert.Equal(2, audio.HeaderExtensions.Count);

        var video = session.FindMedia("1")!;
        Assert.Equal(SdpDirection.SendOnly, video.Direction);
        var vp8 = Assert.Single(video.Codecs);
        Assert.Equal(97, vp8.RtxPayloadType);
        Assert.Equal(["nack", "nack pli"], vp8.RtcpFeedback.Select(f => f.Kind)); // x-unknown was never offered
        Assert.Equal(new Dictionary<int, string> { [1] = SdpHeaderExtensionCapability.Mid }, video.HeaderExtensions);

        var recv = session.FindMedia("2")!;
        Assert.Equal(SdpDirection.RecvOnly, recv.Direction);
        Assert.Null(recv.LocalStream);
        Assert.Equal(["h", "m", "l"], recv.RemoteRids.Select(r => r.Id));
        Assert.Equal(3, recv.RemoteSimulcast!.Send.Count);
        Assert.Equal(["h", "m", "l"], recv.ReceiveRids);
        Assert.Equal(2, recv.GetSimulcastStreamIndex("l"));
        Assert.Equal("camtrack", Assert.Single(recv.RemoteMsids).TrackId);

        Assert.Equal(65536L, session.FindMedia("3")!.MaxMessageSize);
    }

    [Fact]
    public void ApplyAnswer_PassiveBrowserMakesServerActive()
    {
        var session = new SdpOfferer(SdpSamples.Server()).ApplyAnswer(Offer(), BrowserAnswer("passive"));
        Assert.Equal(SdpSetupRole.Active, session.LocalSetup);
    }

    [Theory]
    [InlineData("a=setup:active", "a=setup:actpass", "not allowed in an answer")]
    [InlineData("a=mid:1\r\n", "a=mid:7\r\n", "answer m-line 1 has mid '7'")]
    [InlineData("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", "m=video 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", "answer m-line 3 is 'video'")]
    [InlineData("m=video 9 UDP/TLS/RTP/SAVPF 96 97", "m=video 9 UDP/TLS/RTP/SAVPF 45", "accepts none of the offered payload types")]
    [InlineData("a=ice-ufrag:brU1\r\n", "", "no a=ice-ufrag")]
    [InlineData("v=0", "v=9", "answer does not parse")]
    public void ApplyAnswer_RejectsInvalidAnswers(string find, string replace, string expected)
    {
        var offerer = new SdpOfferer(SdpSamples.Server());
        Assert.False(offerer.TryApplyAnswer(Offer(), BrowserAnswer().Replace(find, replace), out var session, out var error));
        Assert.Null(session);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void ApplyAnswer_WrongMLineCount_Fails()
    {
        string answer = BrowserAnswer();
        answer = answer[..answer.IndexOf("m=application", StringComparison.Ordinal)];
        Assert.False(new SdpOfferer(SdpSamples.Server()).TryApplyAnswer(Offer(), answer, out _, out var error));
        Assert.Contains("answer has 3 m-lines but the offer had 4", error);
    }

    [Fact]
    public void ApplyAnswer_RejectedSection()
    {
        string answer = BrowserAnswer().Replace("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n");
        var session = new SdpOfferer(SdpSamples.Server()).ApplyAnswer(Offer(), answer);
        Assert.True(session.FindMedia("2")!.IsRejected);
    }

    [Fact]
    public void OurAnswererAnswersOurOffer_EndToEnd()
    {
        var offer = Offer();
        var peer = new SdpLocalParameters { IceUfrag = "peer", IcePwd = "peerPasswordPeerPassword", Fingerprint = SdpSamples.ChromeFingerprint };
        var answer = new SdpAnswerer(peer).CreateAnswer(offer.Sdp);
        var session = new SdpOfferer(SdpSamples.Server()).ApplyAnswer(offer, answer.Sdp);
        Assert.Equal("peer", session.RemoteIceUfrag);
        Assert.Equal(SdpSetupRole.Passive, session.RemoteSetup);
        Assert.Equal(SdpSetupRole.Active, session.LocalSetup);
        Assert.Equal(SdpDirection.SendOnly, session.FindMedia("0")!.Direction);
        Assert.Equal(SdpDirection.Inactive, session.FindMedia("2")!.Direction); // peer has nothing to send on the recv section
        Assert.Equal([96, 102], session.FindMedia("1")!.Codecs.Select(c => c.PayloadType));
        Assert.Equal(answer.Session.FindMedia("1")!.HeaderExtensions, session.FindMedia("1")!.HeaderExtensions);
    }

    [Fact]
    public void CreateOffer_RejectsDuplicateMids()
    {
        var offerer = new SdpOfferer(SdpSamples.Server());
        Assert.Throws<ArgumentException>(() => offerer.CreateOffer([new("audio", "a", SdpDirection.SendOnly), new("video", "a", SdpDirection.SendOnly)]));
    }
}
