using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.Tests.Sdp;

public class SdpParserTests
{
    [Theory]
    [MemberData(nameof(SdpSamples.Names), MemberType = typeof(SdpSamples))]
    public void RealOffers_RoundTripExactly(string name)
    {
        string text = SdpSamples.ByName(name);
        Assert.True(SessionDescription.TryParse(text, out var sdp, out var error), error);
        Assert.Equal(text, sdp!.ToString());
    }

    [Fact]
    public void LfOnlyInput_IsAcceptedAndWrittenWithCrlf()
    {
        string lf = SdpSamples.Chrome.Replace("\r\n", "\n");
        var sdp = SessionDescription.Parse(lf);
        Assert.Equal(SdpSamples.Chrome, sdp.ToString());
        Assert.DoesNotContain("\n", sdp.ToString().Replace("\r\n", ""));
    }

    [Fact]
    public void Chrome_SessionLevelAccessors()
    {
        var sdp = SessionDescription.Parse(SdpSamples.Chrome);
        Assert.Equal(0, sdp.Version);
        Assert.Equal("4215775240449105457", sdp.Origin.SessionId);
        Assert.Equal("2", sdp.Origin.SessionVersion);
        Assert.Equal("127.0.0.1", sdp.Origin.Address);
        Assert.Equal(["0", "1", "2"], sdp.BundleMids);
        Assert.Equal("WMS", sdp.MsidSemantic!.Semantic);
        Assert.Equal(["7b2c1d3e-5f60-4a71-8b92-a3b4c5d6e7f8"], sdp.MsidSemantic.Identifiers);
        Assert.True(sdp.ExtmapAllowMixed);
        Assert.False(sdp.IceLite);
        Assert.Equal(3, sdp.Media.Count);
        Assert.Equal(["audio", "video", "application"], sdp.Media.Select(m => m.Kind));
    }

    [Fact]
    public void Chrome_AudioSectionAccessors()
    {
        var audio = SessionDescription.Parse(SdpSamples.Chrome).Media[0];
        Assert.Equal(9, audio.Port);
        Assert.Equal("UDP/TLS/RTP/SAVPF", audio.Protocol);
        Assert.Equal(["111", "63", "9", "0", "8", "13", "110", "126"], audio.Formats);
        Assert.True(audio.IsRtp);
        Assert.Equal("0", audio.Mid);
        Assert.Equal("Xk3n", audio.IceUfrag);
        Assert.Equal("8Yq1s0F1Jc2eQe0zY8f9fZ7h", audio.IcePwd);
        Assert.Equal(["trickle"], audio.IceOptions);
        Assert.Equal("sha-256", audio.Fingerprint!.Algorithm);
        Assert.StartsWith("49:66:12", audio.Fingerprint.Value);
        Assert.Equal(SdpSetupRole.ActPass, audio.Setup);
        Assert.Equal(SdpDirection.SendRecv, audio.Direction);
        Assert.True(audio.RtcpMux);
        Assert.True(audio.RtcpReducedSize);
        Assert.Equal(new SdpRtpMap(111, "opus", 48000, 2), audio.GetRtpMap(111));
        Assert.Equal(new SdpRtpMap(0, "PCMU", 8000, null), audio.GetRtpMap(0));
        Assert.Equal("minptime=10;useinbandfec=1", audio.GetFmtp(111)!.Parameters);
        Assert.Equal("1", audio.GetFmtp(111)!.ToDictionary()["useinbandfec"]);
        Assert.Equal([new SdpRtcpFeedback(111, "transport-cc", null)], audio.GetRtcpFeedback(111));
        Assert.Equal(4, audio.Extmaps.Count);
        Assert.Equal(new SdpExtmap(1, null, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"), audio.Extmaps[0]);
        Assert.Equal(new SdpSsrc(3735928559, "cname", "Yq4cXo3RkTGtJxVb"), audio.Ssrcs[0]);
        Assert.Equal("msid", audio.Ssrcs[1].Attribute);
        Assert.Equal(new SdpMsid("7b2c1d3e-5f60-4a71-8b92-a3b4c5d6e7f8", "0f5c1a2b-1111-4222-8333-444455556666"), audio.Msids[0]);
        Assert.Equal("IN IP4 0.0.0.0", audio.Connection!.ToString());
    }

    [Fact]
    public void Chrome_VideoAndDataSectionAccessors()
    {
        var sdp = SessionDescription.Parse(SdpSamples.Chrome);
        var video = sdp.Media[1];
        Assert.Equal(5, video.GetRtcpFeedback(96).Count);
        Assert.Contains(new SdpRtcpFeedback(96, "nack", "pli"), video.RtcpFeedbacks);
        Assert.Equal("nack pli", video.RtcpFeedbacks.First(f => f.Parameter == "pli").Kind);
        Assert.Equal("apt=96", video.GetFmtp(97)!.Parameters);
        var fid = Assert.Single(video.SsrcGroups);
        Assert.Equal("FID", fid.Semantics);
        Assert.Equal([2541098696u, 3215547008u], fid.Ssrcs);
        Assert.Equal(4, video.Ssrcs.Count);
        Assert.Contains(video.Extmaps, e => e.Id == 10 && e.Uri == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id");

        var data = sdp.Media[2];
        Assert.False(data.IsRtp);
        Assert.Equal(["webrtc-datachannel"], data.Formats);
        Assert.Equal(5000, data.SctpPort);
        Assert.Equal(262144L, data.MaxMessageSize);
    }

    [Fact]
    public void ChromeSimulcast_RidsAndSimulcast()
    {
        var video = SessionDescription.Parse(SdpSamples.ChromeSimulcast).Media[1];
        Assert.Equal(SdpDirection.SendOnly, video.Direction);
        Assert.Equal(["h", "m", "l"], video.Rids.Select(r => r.Id));
        Assert.All(video.Rids, r => Assert.Equal(SdpRidDirection.Send, r.Direction));
        var sim = video.Simulcast!;
        Assert.Empty(sim.Recv);
        Assert.Equal(["h", "m", "l"], sim.Send.Select(s => Assert.Single(s).Rid));
        Assert.Empty(video.Ssrcs);
    }

    [Fact]
    public void Firefox_SessionLevelFingerprintAndExtmapDirection()
    {
        var sdp = SessionDescription.Parse(SdpSamples.Firefox);
        Assert.Equal("mozilla...THIS_IS_SDPARTA-99.0", sdp.Origin.Username);
        Assert.Equal("sha-256", sdp.Fingerprint!.Algorithm);
        Assert.Null(sdp.Media[0].Fingerprint);
        Assert.Equal(["trickle"], sdp.IceOptions);
        Assert.Equal("*", Assert.Single(sdp.MsidSemantic!.Identifiers));
        var ext = sdp.Media[0].Extmaps[1];
        Assert.Equal(2, ext.Id);
        Assert.Equal(SdpDirection.RecvOnly, ext.Direction);
        Assert.Equal("urn:ietf:params:rtp-hdrext:csrc-audio-level", ext.Uri);
        Assert.Equal(new SdpRtpMap(9, "G722", 8000, 1), sdp.Media[0].GetRtpMap(9));
        Assert.Equal("5f1e2d3c", sdp.Media[1].IceUfrag);
    }

    [Fact]
    public void Aiortc_CandidatesAndEndOfCandidates()
    {
        var audio = SessionDescription.Parse(SdpSamples.Aiortc).Media[0];
        Assert.Equal(50412, audio.Port);
        Assert.Equal("192.168.1.20", audio.Connection!.Address);
        Assert.Equal(2, audio.Candidates.Count);
        Assert.Equal("3b6a0a4f1f5c6e7d8a9b0c1d2e3f4a5b 1 udp 2130706431 192.168.1.20 50412 typ host", audio.Candidates[0]);
        Assert.True(audio.EndOfCandidates);
    }

    [Theory]
    [InlineData("send 1,~4;2;3 recv c", 3, 1)]
    [InlineData("recv h;m;l", 0, 3)]
    [InlineData(" send rid=h;m", 2, 0)]
    public void Simulcast_ParsesAlternativesAndPaused(string text, int send, int recv)
    {
        Assert.True(SdpSimulcast.TryParse(text, out var sim, out var error), error);
        Assert.Equal(send, sim!.Send.Count);
        Assert.Equal(recv, sim.Recv.Count);
        if (text.StartsWith("send 1,~4"))
        {
            Assert.Equal([new SdpSimulcastRid("1", false), new SdpSimulcastRid("4", true)], sim.Send[0]);
            Assert.Equal("send 1,~4;2;3 recv c", sim.ToString());
        }
    }

    [Fact]
    public void Rid_ParsesPayloadTypesAndRestrictions()
    {
        Assert.True(SdpRid.TryParse("h send pt=96,97;max-width=1280;max-height=720", out var rid, out var error), error);
        Assert.Equal("h", rid!.Id);
        Assert.Equal([96, 97], rid.PayloadTypes);
        Assert.Equal([new("max-width", "1280"), new KeyValuePair<string, string?>("max-height", "720")], rid.Restrictions);
        Assert.Equal("h recv pt=96,97;max-width=1280;max-height=720", rid.WithDirection(SdpRidDirection.Recv).ToString());
    }

    [Fact]
    public void UnknownAttributes_SurviveRoundTrip()
    {
        string text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x-google-flag:conference\r\na=weird:value with  two  spaces \r\n"
            + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nb=AS:2000\r\na=mid:v\r\na=x-custom:1 2 3\r\na=bundle-only\r\n";
        var sdp = SessionDescription.Parse(text);
        Assert.Equal(text, sdp.ToString());
        Assert.Equal("conference", sdp.GetAttributeValue("x-google-flag"));
        Assert.Equal(["AS:2000"], sdp.Media[0].Bandwidths);
        Assert.True(sdp.Media[0].BundleOnly);
    }

    [Fact]
    public void Serialiser_UsesRfc8866Order()
    {
        var sdp = new SessionDescription { SessionName = "x", Connection = SdpConnection.Ip4Any, Information = "info" };
        sdp.AddAttribute("ice-lite");
        sdp.Bandwidths.Add("AS:100");
        var m = new SdpMediaDescription("audio", 9, "UDP/TLS/RTP/SAVPF", ["111"]);
        m.AddAttribute("mid", "0");
        m.Connections.Add(SdpConnection.Ip4Any);
        m.Bandwidths.Add("TIAS:64000");
        sdp.Media.Add(m);
        Assert.Equal("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\ni=info\r\nc=IN IP4 0.0.0.0\r\nb=AS:100\r\nt=0 0\r\na=ice-lite\r\n"
            + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\nb=TIAS:64000\r\na=mid:0\r\n", sdp.ToString());
    }

    private const string Head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

    [Theory]
    [InlineData("", "empty")]
    [InlineData("o=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", "line 1: expected 'v=0'")]
    [InlineData("a=group:BUNDLE 0\r\nv=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", "line 1: expected 'v=0'")]
    [InlineData("v=0\r\na=ice-lite\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", "line 2: expected the 'o=' origin line")]
    [InlineData("v=1\r\n", "line 1: unsupported version")]
    [InlineData("v=0\r\n", "missing 'o=' line")]
    [InlineData("v=0\r\no=- 1 IN IP4 0.0.0.0\r\ns=-\r\n", "line 2: origin")]
    [InlineData(Head + "m=audio abc UDP/TLS/RTP/SAVPF 111\r\n", "line 5: bad media line 'm=audio abc UDP/TLS/RTP/SAVPF 111': port 'abc'")]
    [InlineData(Head + "m=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n", "line 5: bad media line")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF opus\r\n", "line 5: bad media line 'm=audio 9 UDP/TLS/RTP/SAVPF opus': payload type 'opus'")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 200\r\n", "payload type '200' is not a number 0-127")]
    [InlineData(Head + "m=audio 9\r\n", "line 5: bad media line")]
    [InlineData(Head + "hello world\r\n", "line 5: 'hello world' is not a '<type>=<value>' line")]
    [InlineData(Head + "x=unknown\r\n", "line 5: unknown line type 'x='")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nt=0 0\r\n", "line 6: 't=' is a session-level line")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:abc opus/48000/2\r\n", "line 6: invalid 'a=rtpmap:abc opus/48000/2': payload type 'abc'")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus\r\n", "line 6: invalid 'a=rtpmap:111 opus'")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fmtp:x minptime=10\r\n", "line 6: invalid 'a=fmtp")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:0 urn:x\r\n", "extension id '0'")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:3/sideways urn:x\r\n", "extension direction 'sideways'")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ssrc:-5 cname:x\r\n", "ssrc '-5'")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ssrc-group:FID 1 x\r\n", "ssrc 'x'")]
    [InlineData(Head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rid:h sideways\r\n", "rid direction 'sideways'")]
    [InlineData(Head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=simulcast:up h;m\r\n", "simulcast direction 'up'")]
    [InlineData(Head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=simulcast:send h;;m\r\n", "empty rid")]
    [InlineData(Head + "a=fingerprint:sha-256 ZZ:11\r\n", "line 5: invalid 'a=fingerprint")]
    [InlineData(Head + "a=setup:sometimes\r\n", "setup must be")]
    [InlineData(Head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:\r\n", "mid must be")]
    [InlineData(Head + "a=\r\n", "line 5: attribute")]
    [InlineData(Head + "a=rtpmap:111 opus/48000/2\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "line 5: media-level attribute 'a=rtpmap:111 opus/48000/2' appears before any m= section")]
    [InlineData(Head + "a=mid:0\r\n", "line 5: media-level attribute 'a=mid:0'")]
    [InlineData(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-lite\r\n", "line 6: session-level attribute 'a=ice-lite' appears inside a media section")]
    [InlineData(Head + "\r\na=ice-lite\r\n", "line 5: empty line")]
    [InlineData(Head + "a=ice-lite\u0001\r\n", "line 5: control character")]
    [InlineData(Head + "r=7d 1h 0 25h\r\n" + "o=- 1 1 IN IP4 0.0.0.0\r\n", "line 6: duplicate 'o=' line")]
    public void MalformedSdp_FailsWithReasonNamingTheLine(string text, string expected)
    {
        Assert.False(SessionDescription.TryParse(text, out var sdp, out var error));
        Assert.Null(sdp);
        Assert.Contains(expected, error);
        var ex = Assert.Throws<SdpParseException>(() => SessionDescription.Parse(text));
        Assert.Equal(error, ex.Reason);
    }

    [Fact]
    public void HugeInput_IsRejected()
    {
        string text = Head + string.Concat(Enumerable.Repeat("a=x-padding:0123456789012345678901234567890123456789\r\n", 2000));
        Assert.False(SessionDescription.TryParse(text, out _, out var error));
        Assert.Contains("more than the 65536 allowed", error);
    }

    [Fact]
    public void NullInput_IsRejected()
    {
        Assert.False(SessionDescription.TryParse(null, out _, out var error));
        Assert.Equal("empty SDP", error);
    }

    [Theory]
    [InlineData("packetization-mode=1;profile-level-id=42e01f", true)]
    [InlineData("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f", true)]
    [InlineData("packetization-mode=1;profile-level-id=42c01f", true)]
    [InlineData("packetization-mode=0;profile-level-id=42e01f", false)]
    [InlineData("profile-level-id=42e01f", false)]
    [InlineData("packetization-mode=1;profile-level-id=4d001f", false)]
    [InlineData("packetization-mode=1;profile-level-id=64001f", false)]
    [InlineData("packetization-mode=1;profile-level-id=zz", false)]
    [InlineData("packetization-mode=1", true)]
    public void H264_FmtpCompatibility(string fmtp, bool compatible)
        => Assert.Equal(compatible, SdpCodecCapability.IsCompatibleH264(fmtp));
}
