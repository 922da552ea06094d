using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.Tests.Sdp;

public class SdpAnswererTests
{
    private static SdpAnswer Answer(string offer, SdpLocalParameters? local = null)
    {
        var answerer = new SdpAnswerer(local ?? SdpSamples.Server());
        Assert.True(answerer.TryCreateAnswer(offer, out var answer, out var error), error);
        return answer!;
    }

    private static SessionDescription Reparse(SdpAnswer answer)
    {
        Assert.True(SessionDescription.TryParse(answer.Sdp, out var sdp, out var error), error);
        Assert.Equal(answer.Sdp, sdp!.ToString());
        return sdp;
    }

    [Theory]
    [MemberData(nameof(SdpSamples.Names), MemberType = typeof(SdpSamples))]
    public void EveryOffer_GetsAnAnswerWithSameMidsInOrder(string name)
    {
        var offer = SessionDescription.Parse(SdpSamples.ByName(name));
        var answer = Answer(SdpSamples.ByName(name));
        var sdp = Reparse(answer);
        Assert.Equal(offer.Media.Select(m => m.Mid), sdp.Media.Select(m => m.Mid));
        Assert.Equal(offer.Media.Select(m => m.Kind), sdp.Media.Select(m => m.Kind));
        Assert.True(sdp.IceLite);
        Assert.Equal(offer.BundleMids, sdp.BundleMids);
        foreach (var m in sdp.Media)
        {
            Assert.Equal(40000, m.Port); // RFC 8843 §7.3.1: one port for all bundled sections
            Assert.Equal("198.51.100.10", m.Connection!.Address);
            Assert.Equal(SdpSetupRole.Passive, m.Setup);
            Assert.Equal(SdpSamples.ServerFingerprint, m.Fingerprint!.ToString());
            Assert.Equal("srvU", m.IceUfrag);
            Assert.Equal("serverIcePassword0123456789", m.IcePwd);
        }
        // JSEP §5.3.1: candidates only in the BUNDLE-tag section.
        Assert.Equal(2, sdp.Media[0].Candidates.Count);
        Assert.True(sdp.Media[0].EndOfCandidates);
        Assert.Contains("2 1 tcp 1518280447 198.51.100.10 443 typ host tcptype passive", sdp.Media[0].Candidates);
        Assert.All(sdp.Media.Skip(1), m => Assert.Empty(m.Candidates));
        Assert.Equal(SdpSetupRole.Passive, answer.Session.LocalSetup);
        Assert.Equal(SdpSetupRole.ActPass, answer.Session.RemoteSetup);
        Assert.EndsWith("\r\n", answer.Sdp);
    }

    [Fact]
    public void Chrome_NegotiatesCodecsPayloadTypesRtxAndFeedback()
    {
        var answer = Answer(SdpSamples.Chrome);
        var sdp = Reparse(answer);
        var audio = sdp.Media[0];
        Assert.Equal(["111"], audio.Formats);
        Assert.Equal(new SdpRtpMap(111, "opus", 48000, 2), audio.GetRtpMap(111));
        Assert.Equal("minptime=10;useinbandfec=1;usedtx=1", audio.GetFmtp(111)!.Parameters);
        Assert.Equal([new SdpRtcpFeedback(111, "transport-cc", null)], audio.RtcpFeedbacks);

        var video = sdp.Media[1];
        // VP8 + rtx, H264 42001f and 42e01f with packetization-mode=1 + rtx; not mode 0, not 4d/64 profiles, not VP9/red/ulpfec.
        Assert.Equal(["96", "97", "102", "103", "106", "107"], video.Formats);
        Assert.Equal("apt=96", video.GetFmtp(97)!.Parameters);
        Assert.Equal("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f", video.GetFmtp(102)!.Parameters);
        Assert.Equal(["transport-cc", "ccm fir", "nack", "nack pli"], video.GetRtcpFeedback(96).Select(f => f.Kind));

        var nv = answer.Session.FindMedia("1")!;
        Assert.Equal("video", nv.Kind);
        Assert.Equal([96, 102, 106], nv.Codecs.Select(c => c.PayloadType));
        Assert.Equal(new Dictionary<int, int> { [97] = 96, [103] = 102, [107] = 106 }, nv.RtxPayloadTypes);
        var vp8 = nv.FindCodec(96)!;
        Assert.Equal("VP8", vp8.Name);
        Assert.Equal(90000, vp8.ClockRate);
        Assert.True(vp8.HasFeedback("nack pli"));
        Assert.True(vp8.HasFeedback("ccm fir"));
        var na = answer.Session.FindMedia("0")!;
        var opus = Assert.Single(na.Codecs);
        Assert.Equal((111, "opus", 48000, 2), (opus.PayloadType, opus.Name, opus.ClockRate, opus.Channels));
        Assert.Null(opus.RtxPayloadType);
    }

    [Fact]
    public void Chrome_NegotiatesHeaderExtensionsAndRemoteInfo()
    {
        var answer = Answer(SdpSamples.Chrome);
        var s = answer.Session;
        Assert.Equal("Xk3n", s.RemoteIceUfrag);
        Assert.Equal("8Yq1s0F1Jc2eQe0zY8f9fZ7h", s.RemoteIcePwd);
        Assert.Equal(SdpSamples.ChromeFingerprint, s.RemoteFingerprint.ToString());
        Assert.Equal(["0", "1", "2"], s.BundleMids);

        var audio = s.FindMedia("0")!;
        Assert.Equal(new Dictionary<int, string>
        {
            [1] = SdpHeaderExtensionCapability.AudioLevel,
            [2] = SdpHeaderExtensionCapability.AbsSendTime,
            [3] = SdpHeaderExtensionCapability.TransportWideCc,
            [4] = SdpHeaderExtensionCapability.Mid,
        }, audio.HeaderExtensions);
        var video = s.FindMedia("1")!;
        Assert.Equal([2, 3, 4, 10, 11], video.HeaderExtensions.Keys.Order());
        Assert.Equal(10, video.FindExtensionId(SdpHeaderExtensionCapability.RtpStreamId));
        Assert.DoesNotContain("toffset", answer.Sdp);
        Assert.DoesNotContain("video-orientation", answer.Sdp);

        Assert.Equal([2541098696u, 3215547008u], video.RemoteSsrcIds);
        Assert.Equal("FID", Assert.Single(video.RemoteSsrcGroups).Semantics);
        Assert.Equal("9a8b7c6d-2222-4333-8444-555566667777", Assert.Single(video.RemoteMsids).TrackId);
        Assert.True(video.RtcpMux);
        Assert.True(video.RtcpReducedSize);
        var sdp = Reparse(answer);
        Assert.True(sdp.Media[1].RtcpMux);
        Assert.True(sdp.Media[1].RtcpReducedSize);
        Assert.True(sdp.ExtmapAllowMixed);
    }

    [Fact]
    public void Chrome_WithoutLocalStreams_IsRecvOnly_AndWithStream_SendRecvWithSsrcs()
    {
        var recvOnly = Answer(SdpSamples.Chrome);
        Assert.Equal(SdpDirection.RecvOnly, recvOnly.Session.FindMedia("1")!.Direction);
        Assert.Equal(SdpDirection.RecvOnly, Reparse(recvOnly).Media[1].Direction);
        Assert.Empty(Reparse(recvOnly).Media[1].Ssrcs);

        var streams = new Dictionary<string, SdpLocalStream> { ["1"] = new(0x11223344, "srvcname", "srvstream", "srvvideo", 0x55667788) };
        var answer = Answer(SdpSamples.Chrome, SdpSamples.Server(streams));
        var video = Reparse(answer).Media[1];
        Assert.Equal(SdpDirection.SendRecv, video.Direction);
        Assert.Equal(new SdpMsid("srvstream", "srvvideo"), Assert.Single(video.Msids));
        Assert.Equal([0x11223344u, 0x55667788u], Assert.Single(video.SsrcGroups).Ssrcs);
        Assert.Contains(new SdpSsrc(0x11223344, "cname", "srvcname"), video.Ssrcs);
        Assert.Equal(SdpDirection.SendRecv, answer.Session.FindMedia("1")!.Direction);
        Assert.Equal(0x11223344u, answer.Session.FindMedia("1")!.LocalStream!.Ssrc);
        Assert.Equal(SdpDirection.RecvOnly, answer.Session.FindMedia("0")!.Direction);
    }

    [Fact]
    public void Chrome_DataChannel_AnsweredWithSctpPortAndMaxMessageSize()
    {
        var answer = Answer(SdpSamples.Chrome);
        var data = Reparse(answer).Media[2];
        Assert.Equal("m=application 40000 UDP/DTLS/SCTP webrtc-datachannel", answer.Sdp.Split("\r\n").First(l => l.StartsWith("m=application")));
        Assert.Equal(5000, data.SctpPort);
        Assert.Equal(262144L, data.MaxMessageSize);
        Assert.Equal(5000, answer.Session.FindMedia("2")!.SctpPort);
    }

    [Fact]
    public void DataChannelOptionOff_RejectsApplicationSection()
    {
        var answer = Answer(SdpSamples.Chrome, SdpSamples.Server(dataChannels: false));
        var sdp = Reparse(answer);
        Assert.Equal(0, sdp.Media[2].Port);
        Assert.Equal(SdpDirection.Inactive, sdp.Media[2].Direction);
        Assert.Equal("2", sdp.Media[2].Mid);
        Assert.Equal(["0", "1"], sdp.BundleMids);
        Assert.True(answer.Session.FindMedia("2")!.IsRejected);
    }

    [Fact]
    public void Simulcast_AnsweredAsRecvWithRidsEchoed()
    {
        var answer = Answer(SdpSamples.ChromeSimulcast);
        var video = Reparse(answer).Media[1];
        Assert.Equal(SdpDirection.RecvOnly, video.Direction);
        Assert.Contains("a=simulcast:recv h;m;l\r\n", answer.Sdp);
        Assert.Contains("a=rid:h recv\r\n", answer.Sdp);
        Assert.Equal(["h", "m", "l"], video.Rids.Select(r => r.Id));
        Assert.All(video.Rids, r => Assert.Equal(SdpRidDirection.Recv, r.Direction));
        Assert.Equal(3, video.Simulcast!.Recv.Count);
        Assert.Empty(video.Simulcast.Send);

        var nm = answer.Session.FindMedia("1")!;
        Assert.Equal(["h", "m", "l"], nm.RemoteRids.Select(r => r.Id));
        Assert.All(nm.RemoteRids, r => Assert.Equal(SdpRidDirection.Send, r.Direction));
        Assert.Equal(3, nm.RemoteSimulcast!.Send.Count);
        Assert.Equal(10, nm.FindExtensionId(SdpHeaderExtensionCapability.RtpStreamId));
        Assert.Equal(11, nm.FindExtensionId(SdpHeaderExtensionCapability.RepairedRtpStreamId));
        Assert.Empty(nm.RemoteSsrcs);
    }

    [Fact]
    public void Simulcast_RidsWithUnsupportedPayloadTypeAreDropped()
    {
        string offer = SdpSamples.ChromeSimulcast
            .Replace("a=rid:l send\r\n", "a=rid:l send pt=98\r\n")
            .Replace("a=rid:h send\r\n", "a=rid:h send pt=96,98;max-width=1280\r\n")
            .Replace("a=simulcast:send h;m;l", "a=simulcast:send h,~m;l");
        var answer = Answer(offer);
        Assert.Contains("a=rid:h recv pt=96;max-width=1280\r\n", answer.Sdp);
        Assert.Contains("a=simulcast:recv h,~m\r\n", answer.Sdp);
        Assert.DoesNotContain("a=rid:l", answer.Sdp);
    }

    [Fact]
    public void ChromeSimulcastQhf_AnsweredRecvInOfferedOrder()
    {
        var answer = Answer(SdpSamples.ChromeSimulcastQhf);
        string sdp = answer.Sdp;
        var video = Reparse(answer).Media[1];
        Assert.Equal(SdpDirection.RecvOnly, video.Direction);
        Assert.Contains("a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n", sdp);
        Assert.Contains("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n", sdp);
        Assert.Contains("a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n", sdp);
        Assert.DoesNotContain("send", video.Attributes.Where(a => a.Name is "rid" or "simulcast").Select(a => a.Value));

        var nm = answer.Session.FindMedia("1")!;
        Assert.Equal(["q", "h", "f"], nm.ReceiveRids);
        Assert.Equal([0, 1, 2, -1], new[] { "q", "h", "f", "x" }.Select(nm.GetSimulcastStreamIndex));
        Assert.Equal("recv q;h;f", nm.ReceiveSimulcast!.ToString());
        Assert.Equal(10, nm.FindExtensionId(SdpHeaderExtensionCapability.RtpStreamId));
        Assert.Equal(11, nm.FindExtensionId(SdpHeaderExtensionCapability.RepairedRtpStreamId));
        Assert.Equal("VP8", nm.Codecs[0].Name);

        var audio = answer.Session.FindMedia("0")!;
        Assert.Empty(audio.ReceiveRids);
        Assert.Null(audio.ReceiveSimulcast);
        Assert.Equal(-1, audio.GetSimulcastStreamIndex("q"));
    }

    private static string WithSimulcast(string rids, string simulcast) =>
        SdpSamples.ChromeSimulcastQhf.Replace("a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n", rids + simulcast);

    // RFC 8853 §5.1 examples: "a=simulcast:send 1;2,3 recv 4" (alternatives) and "send 1;~2" style pauses.
    [Theory]
    [InlineData("a=rid:1 send\r\na=rid:2 send\r\na=rid:3 send\r\na=rid:4 recv\r\n", "a=simulcast:send 1;2,3 recv 4\r\n", "recv 1;2,3", "1,2,3", "0,1,1")]
    [InlineData("a=rid:1 send\r\na=rid:2 send\r\na=rid:3 send\r\n", "a=simulcast:send 1;~2;3\r\n", "recv 1;~2;3", "1,2,3", "0,1,2")]
    [InlineData("a=rid:1 send\r\na=rid:2 send\r\na=rid:3 send\r\na=rid:4 send\r\n", "a=simulcast:send ~1,2;3,~4\r\n", "recv ~1,2;3,~4", "1,2,3,4", "0,0,1,1")]
    [InlineData("a=rid:1 send\r\na=rid:2 send\r\n", "a=simulcast:send 1;2;3\r\n", "recv 1;2", "1,2", "0,1")]       // 3 has no a=rid
    [InlineData("a=rid:1 send\r\na=rid:2 recv\r\n", "a=simulcast:send 1;2\r\n", "recv 1", "1", "0")]                // 2 is not a send rid
    [InlineData("a=rid:1 send\r\na=rid:2 send\r\na=rid:2 send max-width=320\r\n", "a=simulcast:send 1;2\r\n", "recv 1", "1", "0")] // RFC 8851 §6.2: duplicate ids discarded
    public void Rfc8853Examples_MirroredAsRecv(string rids, string simulcast, string expectedLine, string expectedRids, string layers)
    {
        var answer = Answer(WithSimulcast(rids, simulcast));
        var nm = answer.Session.FindMedia("1")!;
        Assert.Contains("a=simulcast:" + expectedLine + "\r\n", answer.Sdp);
        Assert.Equal(expectedRids.Split(','), nm.ReceiveRids);
        Assert.Equal(layers.Split(',').Select(int.Parse), nm.ReceiveRids.Select(nm.GetSimulcastStreamIndex));
        foreach (var rid in nm.ReceiveRids) Assert.Contains($"a=rid:{rid} recv\r\n", answer.Sdp);
        Assert.Equal(nm.ReceiveRids.Count, Reparse(answer).Media[1].Rids.Count);
    }

    [Fact]
    public void RidRestrictions_KnownKept_UnknownAndDependDropped()
    {
        var answer = Answer(WithSimulcast(
            "a=rid:q send pt=96;max-width=320;max-height=180;max-fps=15;x-custom=1\r\na=rid:h send depend=q;max-br=500000\r\na=rid:f send\r\n",
            "a=simulcast:send q;h;f\r\n"));
        Assert.Contains("a=rid:q recv pt=96;max-width=320;max-height=180;max-fps=15\r\n", answer.Sdp);
        Assert.Contains("a=rid:h recv max-br=500000\r\n", answer.Sdp);
        Assert.Contains("a=simulcast:recv q;h;f\r\n", answer.Sdp);
    }

    [Theory]
    [InlineData("a=simulcast:send q;h;q\r\n")]        // a rid listed twice
    [InlineData("a=simulcast:send q,h;f recv h\r\n")] // the same rid in both directions
    [InlineData("a=simulcast:send x;y\r\n")]          // no rid declared
    [InlineData("a=simulcast:recv q;h;f\r\n")]        // the offerer wants to receive simulcast: the server sends one stream
    public void UnusableSimulcast_AnswersOneStreamWithoutSimulcast(string simulcast)
    {
        var answer = Answer(WithSimulcast("a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\n", simulcast));
        var nm = answer.Session.FindMedia("1")!;
        Assert.DoesNotContain("a=simulcast", answer.Sdp);
        Assert.DoesNotContain("a=rid", answer.Sdp);
        Assert.Empty(nm.ReceiveRids);
        Assert.Null(nm.ReceiveSimulcast);
        Assert.Equal(SdpDirection.RecvOnly, nm.Direction);
    }

    [Fact]
    public void SimulcastWithoutRidExtension_AnswersOneStream()
    {
        string offer = SdpSamples.ChromeSimulcastQhf.Replace("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n", "");
        var answer = Answer(offer);
        Assert.DoesNotContain("a=simulcast", answer.Sdp);
        Assert.Empty(answer.Session.FindMedia("1")!.ReceiveRids);
    }

    [Theory]
    [InlineData("a=rid:q sideways\r\n", "a=simulcast:send q\r\n", "rid direction 'sideways'")]
    [InlineData("a=rid:q! send\r\n", "a=simulcast:send q\r\n", "rid id 'q!'")]
    [InlineData("a=rid:q send pt=abc\r\n", "a=simulcast:send q\r\n", "rid payload type 'abc'")]
    [InlineData("a=rid:q send\r\n", "a=simulcast:send q;;h\r\n", "empty rid")]
    [InlineData("a=rid:q send\r\n", "a=simulcast:up q\r\n", "simulcast direction 'up'")]
    [InlineData("a=rid:q send\r\n", "a=simulcast:send\r\n", "has no stream list")]
    public void MalformedRidOrSimulcast_ClearErrorWithoutThrowing(string rids, string simulcast, string expected)
    {
        var answerer = new SdpAnswerer(SdpSamples.Server());
        Assert.False(answerer.TryCreateAnswer(WithSimulcast(rids, simulcast), out var answer, out var error));
        Assert.Null(answer);
        Assert.Contains(expected, error);
        Assert.StartsWith("offer does not parse: line ", error);
    }

    [Theory]
    [InlineData(nameof(SdpSamples.Chrome))]
    [InlineData(nameof(SdpSamples.Firefox))]
    [InlineData(nameof(SdpSamples.Aiortc))]
    public void SectionsWithoutRids_HaveNoReceiveRidsOrSimulcast(string name)
    {
        var answer = Answer(SdpSamples.ByName(name));
        Assert.DoesNotContain("a=rid", answer.Sdp);
        Assert.DoesNotContain("a=simulcast", answer.Sdp);
        Assert.All(answer.Session.Media, m => { Assert.Empty(m.ReceiveRids); Assert.Null(m.ReceiveSimulcast); });
    }

    [Fact]
    public void Aiortc_ExtmapIdWithTwoMeaningsIsAnsweredWithNeither()
    {
        var offer = SessionDescription.Parse(SdpSamples.Aiortc);
        Assert.NotEqual(offer.Media[0].Extmaps.First(e => e.Id == 2).Uri, offer.Media[1].Extmaps.First(e => e.Id == 2).Uri);

        var answer = Answer(SdpSamples.Aiortc);
        var sdp = Reparse(answer);
        var meanings = sdp.Media.SelectMany(m => m.Extmaps).GroupBy(e => e.Id);
        Assert.All(meanings, g => Assert.Single(g.Select(e => e.Uri).Distinct()));
        Assert.Equal(new Dictionary<int, string> { [1] = SdpHeaderExtensionCapability.Mid }, answer.Session.FindMedia("0")!.HeaderExtensions);
        Assert.Equal(new Dictionary<int, string> { [1] = SdpHeaderExtensionCapability.Mid }, answer.Session.FindMedia("1")!.HeaderExtensions);
        Assert.DoesNotContain("abs-send-time", answer.Sdp);
        Assert.DoesNotContain("ssrc-audio-level", answer.Sdp);
    }

    [Fact]
    public void An_extmap_id_is_ambiguous_even_when_the_server_supports_only_one_of_its_meanings()
    {
        // toffset is not one of the server's extensions; the offerer still gives id 2 two meanings, so neither is answered.
        var offer = SdpSamples.Aiortc.Replace("a=extmap:2 " + SdpHeaderExtensionCapability.AbsSendTime, "a=extmap:2 urn:ietf:params:rtp-hdrext:toffset");
        Assert.Contains("toffset", offer);

        var answer = Answer(offer);
        Assert.All(answer.Session.Media, m => Assert.False(m.HeaderExtensions.ContainsKey(2)));
        Assert.DoesNotContain("ssrc-audio-level", answer.Sdp);
    }

    [Fact]
    public void Aiortc_captured_offer_unmodified_answers_neither_meaning_of_its_ambiguous_extmap_id()
    {
        // The real aiortc 1.4.0 offer, byte for byte: id 2 is ssrc-audio-level for mid 0 and abs-send-time for mid 1 of
        // one BUNDLE group (RFC 8843 §9.1 forbids it). aiortc reads its bundle's packets with one id table which, when
        // its transport connects during a renegotiation, holds both meanings: the server's audio level under id 2 was
        // read as abs-send-time and the parse error ended aiortc's media. So the answer has neither meaning.
        var offer = SessionDescription.Parse(SdpSamples.AiortcCaptured);
        Assert.Equal(["0", "1"], offer.BundleMids);
        Assert.Equal(SdpHeaderExtensionCapability.AudioLevel, offer.Media[0].Extmaps.Single(e => e.Id == 2).Uri);
        Assert.Equal(SdpHeaderExtensionCapability.AbsSendTime, offer.Media[1].Extmaps.Single(e => e.Id == 2).Uri);

        var answer = Answer(SdpSamples.AiortcCaptured);
        var sdp = Reparse(answer);
        Assert.Equal(["0", "1"], sdp.BundleMids);
        Assert.All(sdp.Media, m => Assert.Equal([1], m.Extmaps.Select(e => e.Id)));
        Assert.Equal(new Dictionary<int, string> { [1] = SdpHeaderExtensionCapability.Mid }, answer.Session.FindMedia("0")!.HeaderExtensions);
        Assert.Equal(new Dictionary<int, string> { [1] = SdpHeaderExtensionCapability.Mid }, answer.Session.FindMedia("1")!.HeaderExtensions);
        Assert.DoesNotContain("abs-send-time", answer.Sdp);
        Assert.DoesNotContain("ssrc-audio-level", answer.Sdp);
        // The rest of the offer is answered as usual: Opus and VP8/H.264 with RTX, the BUNDLE tag's transport.
        Assert.Equal(96, Assert.Single(answer.Session.FindMedia("0")!.Codecs).PayloadType);
        Assert.Equal([97, 99, 101], answer.Session.FindMedia("1")!.Codecs.Select(c => c.PayloadType));
        Assert.Equal(offer.Media[0].IceUfrag, answer.Session.RemoteIceUfrag);
    }

    [Fact]
    public void Aiortc_CodecsAndRemoteTransport()
    {
        var answer = Answer(SdpSamples.Aiortc);
        var video = answer.Session.FindMedia("1")!;
        Assert.Equal([97, 99, 101], video.Codecs.Select(c => c.PayloadType));
        Assert.Equal(new Dictionary<int, int> { [98] = 97, [100] = 99, [102] = 101 }, video.RtxPayloadTypes);
        Assert.Equal(["nack", "nack pli"], video.FindCodec(97)!.RtcpFeedback.Select(f => f.Kind));
        var audio = answer.Session.FindMedia("0")!;
        var opus = Assert.Single(audio.Codecs);
        Assert.Equal(96, opus.PayloadType);
        Assert.Equal("minptime=10;useinbandfec=1;usedtx=1", opus.Fmtp);
        Assert.Equal("hU3p", answer.Session.RemoteIceUfrag);
        Assert.Equal([1793523340u], audio.RemoteSsrcIds);
        Assert.False(audio.RtcpReducedSize);
        Assert.DoesNotContain("rtcp-rsize", answer.Sdp);
    }

    [Fact]
    public void Firefox_SessionLevelFingerprintAndCodecChoice()
    {
        var answer = Answer(SdpSamples.Firefox);
        Assert.Equal("sha-256", answer.Session.RemoteFingerprint.Algorithm);
        Assert.StartsWith("C3:8B", answer.Session.RemoteFingerprint.Value);
        Assert.Equal("5f1e2d3c", answer.Session.RemoteIceUfrag);
        var video = answer.Session.FindMedia("1")!;
        // 97 has no packetization-mode (defaults to 0, RFC 6184 §8.1) and is not accepted.
        Assert.Equal([120, 126], video.Codecs.Select(c => c.PayloadType));
        Assert.Equal(new Dictionary<int, int> { [124] = 120, [127] = 126 }, video.RtxPayloadTypes);
        Assert.Equal("max-fs=12288;max-fr=60", video.FindCodec(120)!.Fmtp);
        // playout-delay/toffset unsupported; mid, abs-send-time, transport-cc kept with Firefox's ids.
        Assert.Equal([3, 4, 7], video.HeaderExtensions.Keys.Order());
        Assert.Equal([1, 3], answer.Session.FindMedia("0")!.HeaderExtensions.Keys.Order());
        Assert.Equal([109], answer.Session.FindMedia("0")!.Codecs.Select(c => c.PayloadType));
    }

    [Theory]
    [InlineData("actpass", "passive", SdpSetupRole.Passive)]
    [InlineData("active", "passive", SdpSetupRole.Passive)]
    [InlineData("passive", "active", SdpSetupRole.Active)]
    public void SetupRole_FollowsRfc5763(string offered, string answered, SdpSetupRole local)
    {
        var answer = Answer(SdpSamples.Chrome.Replace("a=setup:actpass", "a=setup:" + offered));
        Assert.All(Reparse(answer).Media, m => Assert.Equal("setup:" + answered, "setup:" + m.GetAttributeValue("setup")));
        Assert.Equal(local, answer.Session.LocalSetup);
    }

    [Theory]
    [InlineData("sendrecv", false, SdpDirection.RecvOnly)]
    [InlineData("sendrecv", true, SdpDirection.SendRecv)]
    [InlineData("sendonly", true, SdpDirection.RecvOnly)]
    [InlineData("recvonly", true, SdpDirection.SendOnly)]
    [InlineData("recvonly", false, SdpDirection.Inactive)]
    [InlineData("inactive", true, SdpDirection.Inactive)]
    public void Direction_FollowsRfc3264(string offered, bool serverSends, SdpDirection expected)
    {
        var streams = serverSends ? new Dictionary<string, SdpLocalStream> { ["0"] = new(1234, "c", "s", "t") } : null;
        var answer = Answer(SdpSamples.Aiortc.Replace("a=sendrecv", "a=" + offered), SdpSamples.Server(streams));
        Assert.Equal(expected, Reparse(answer).Media[0].Direction);
        Assert.Equal(expected, answer.Session.FindMedia("0")!.Direction);
        Assert.Equal(expected.Sends(), answer.Sdp.Contains("a=ssrc:1234 cname:c\r\n"));
    }

    [Fact]
    public void UnsupportedVideoOnly_IsRejectedWithPortZeroAndLeavesBundle()
    {
        string offer = SdpSamples.Aiortc
            .Replace("m=video 50412 UDP/TLS/RTP/SAVPF 97 98 99 100 101 102", "m=video 50412 UDP/TLS/RTP/SAVPF 35")
            + "";
        offer = offer.Replace("a=rtpmap:97 VP8/90000", "a=rtpmap:35 AV1/90000");
        var answer = Answer(offer);
        var sdp = Reparse(answer);
        Assert.Equal(0, sdp.Media[1].Port);
        Assert.Equal(SdpDirection.Inactive, sdp.Media[1].Direction);
        Assert.Equal("1", sdp.Media[1].Mid);
        Assert.Equal(["35"], sdp.Media[1].Formats);
        Assert.Equal(["0"], sdp.BundleMids);
        Assert.True(answer.Session.FindMedia("1")!.IsRejected);
        Assert.Empty(sdp.Media[1].Extmaps);
    }

    [Fact]
    public void OfferedRejectedSection_StaysRejected()
    {
        string offer = SdpSamples.Chrome.Replace("m=audio 9 UDP", "m=audio 0 UDP");
        var sdp = Reparse(Answer(offer));
        Assert.Equal(0, sdp.Media[0].Port);
        Assert.Equal(["1", "2"], sdp.BundleMids);
        Assert.Equal(2, sdp.Media[1].Candidates.Count); // the new BUNDLE tag carries the candidates
    }

    [Theory]
    [InlineData("a=ice-ufrag:hU3p\r\n", "", "no a=ice-ufrag")]
    [InlineData("a=fingerprint:sha-256 7E:AB:12:9C:33:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E\r\n", "", "no a=fingerprint")]
    [InlineData("a=mid:1\r\n", "", "m-line 1 (video) has no a=mid")]
    [InlineData("a=mid:1\r\n", "a=mid:0\r\n", "repeats mid '0'")]
    [InlineData("m=video 50412 UDP/TLS/RTP/SAVPF 97", "m=video 50412 UDP/TLS/RTP/SAVPF x97", "offer does not parse: line 27: bad media line")]
    public void BadOffers_FailWithReason(string find, string replace, string expected)
    {
        var answerer = new SdpAnswerer(SdpSamples.Server());
        Assert.False(answerer.TryCreateAnswer(SdpSamples.Aiortc.Replace(find, replace), out var answer, out var error));
        Assert.Null(answer);
        Assert.Contains(expected, error);
        Assert.Throws<SdpNegotiationException>(() => answerer.CreateAnswer(SdpSamples.Aiortc.Replace(find, replace)));
    }

    [Fact]
    public void OfferWithoutMedia_Fails()
    {
        var answerer = new SdpAnswerer(SdpSamples.Server());
        Assert.False(answerer.TryCreateAnswer("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", out _, out var error));
        Assert.Equal("offer has no media sections", error);
    }

    [Fact]
    public void NoCandidates_UsesPort9AndAnyAddress()
    {
        var local = new SdpLocalParameters { IceUfrag = "u", IcePwd = "p", Fingerprint = SdpSamples.ServerFingerprint };
        var sdp = Reparse(Answer(SdpSamples.Aiortc, local));
        Assert.All(sdp.Media, m => Assert.Equal(9, m.Port));
        Assert.All(sdp.Media, m => Assert.Equal("0.0.0.0", m.Connection!.Address));
        Assert.True(sdp.Media[0].EndOfCandidates);
    }
}

public class SdpAnswererEdgeTests
{
    [Fact]
    public void BundleOnlySection_IsAcceptedWithTheBundlePort()
    {
        // JSEP max-bundle offers: non-tag sections carry port 0 + a=bundle-only (RFC 8843 §6) and are not rejected.
        string offer = SdpSamples.Chrome.Replace("m=video 9 UDP", "m=video 0 UDP").Replace("a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n");
        var answer = new SdpAnswerer(SdpSamples.Server()).CreateAnswer(offer);
        var sdp = SessionDescription.Parse(answer.Sdp);
        Assert.Equal(40000, sdp.Media[1].Port);
        Assert.False(sdp.Media[1].BundleOnly); // RFC 8843 §7.3.1: no bundle-only in an answer
        Assert.Equal(["0", "1", "2"], sdp.BundleMids);
        Assert.False(answer.Session.FindMedia("1")!.IsRejected);
    }

    [Fact]
    public void SessionLevelDirection_AppliesToSectionsWithoutOne()
    {
        string offer = SdpSamples.Firefox.Replace("a=sendrecv\r\n", "").Replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
        var answer = new SdpAnswerer(SdpSamples.Server()).CreateAnswer(offer);
        Assert.All(answer.Session.Media, m => Assert.Equal(SdpDirection.RecvOnly, m.Direction));
    }

    [Fact]
    public void InvalidLocalFingerprint_FailsWithReason()
    {
        var local = new SdpLocalParameters { IceUfrag = "u", IcePwd = "p", Fingerprint = "sha-256 not-hex" };
        Assert.False(new SdpAnswerer(local).TryCreateAnswer(SdpSamples.Chrome, out _, out var error));
        Assert.StartsWith("local fingerprint is invalid", error);
    }
}

public class SdpAnswererProtocolTests
{
    [Theory]
    [InlineData("RTP/AVP", true)]
    [InlineData("RTP/SAVP", true)]
    [InlineData("TCP/DTLS/RTP/SAVPF", false)]
    [InlineData("UDP/TLS/RTP/SAVPF", false)]
    public void NonSecureOrNonFeedbackProfiles_AreRejected(string proto, bool rejected)
    {
        string offer = SdpSamples.Aiortc.Replace("m=video 50412 UDP/TLS/RTP/SAVPF", "m=video 50412 " + proto);
        var answer = new SdpAnswerer(SdpSamples.Server()).CreateAnswer(offer);
        Assert.Equal(rejected, answer.Session.FindMedia("1")!.IsRejected);
        Assert.Equal(proto, SessionDescription.Parse(answer.Sdp).Media[1].Protocol);
    }
}

public class SdpAnswererBundleTagTests
{
    [Fact]
    public void UnsupportedOffererTaggedSection_RejectsTheOfferWithReason()
    {
        // Audio (the offerer BUNDLE tag) offers only PCMU: the answerer may not reject the tagged section alone (RFC 8843 §7.3.3).
        string offer = SdpSamples.Aiortc.Replace("m=audio 50412 UDP/TLS/RTP/SAVPF 96 0 8", "m=audio 50412 UDP/TLS/RTP/SAVPF 0 8");
        Assert.False(new SdpAnswerer(SdpSamples.Server()).TryCreateAnswer(offer, out var answer, out var error));
        Assert.Null(answer);
        Assert.Contains("offerer-tagged m= section (mid '0'", error);
    }

    [Fact]
    public void UnsupportedNonTagSection_IsRejectedAlone()
    {
        string offer = SdpSamples.Chrome;
        var answer = new SdpAnswerer(SdpSamples.Server(dataChannels: false)).CreateAnswer(offer);
        Assert.True(answer.Session.FindMedia("2")!.IsRejected);
        Assert.False(answer.Session.FindMedia("0")!.IsRejected);
    }
}
