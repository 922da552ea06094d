using TeleRehab.Media.Sdp;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.Sdp;

/// <summary>Data channel sections (RFC 8841, JSEP RFC 8829 §5.3) in answers to real Chromium and werift offers, in
/// our own offers, and the refusals: a second data section, the legacy DTLS/SCTP form, data channels turned off.</summary>
public class SdpDataChannelTests
{
    private static SdpAnswer Answer(string offer, SdpLocalParameters? local = null)
    {
        Assert.True(new SdpAnswerer(local ?? SdpSamples.Server()).TryCreateAnswer(offer, out var answer, out var error), error);
        return answer!;
    }

    private static SessionDescription Reparse(SdpAnswer answer)
    {
        Assert.True(SessionDescription.TryParse(answer.Sdp, out var sdp, out var error), error);
        return sdp!;
    }

    /// <summary>The offer's data channel section with its lines edited (null removes the line).</summary>
    private static string WithDataLine(string offer, string attribute, string? replacement)
    {
        var lines = offer.Split("\r\n").ToList();
        var start = lines.FindIndex(l => l.StartsWith("m=application", StringComparison.Ordinal));
        var index = lines.FindIndex(start, l => l.StartsWith("a=" + attribute + ":", StringComparison.Ordinal));
        Assert.True(index > start);
        if (replacement is null) lines.RemoveAt(index);
        else lines[index] = replacement;
        return string.Join("\r\n", lines);
    }

    [Theory]
    [MemberData(nameof(SdpDataChannelSamples.Names), MemberType = typeof(SdpDataChannelSamples))]
    public void Real_offer_gets_the_data_section_in_the_same_bundle_and_transport(string name)
    {
        var offerText = SdpDataChannelSamples.ByName(name);
        var offer = SessionDescription.Parse(offerText);
        var answer = Answer(offerText);
        var sdp = Reparse(answer);

        var data = Assert.Single(sdp.Media, m => m.Kind == "application");
        Assert.Equal("m=application 40000 UDP/DTLS/SCTP webrtc-datachannel",
            answer.Sdp.Split("\r\n").Single(l => l.StartsWith("m=application", StringComparison.Ordinal)));
        Assert.Equal("2", data.Mid);
        Assert.Equal(5000, data.SctpPort);
        Assert.Equal(262144L, data.MaxMessageSize);
        Assert.Equal(["0", "1", "2"], sdp.BundleMids);
        Assert.Equal(offer.BundleMids, sdp.BundleMids);
        // One transport for the whole bundle: the same ICE credentials, fingerprint, setup and port everywhere.
        Assert.All(sdp.Media, m =>
        {
            Assert.Equal(40000, m.Port);
            Assert.Equal("srvU", m.IceUfrag);
            Assert.Equal(SdpSetupRole.Passive, m.Setup);
            Assert.Equal(SdpSamples.ServerFingerprint, m.Fingerprint!.ToString());
        });
        // The media sections are answered as before.
        Assert.All(sdp.Media.Where(m => m.Kind != "application"), m => Assert.NotEmpty(m.RtpMaps));

        var negotiated = answer.Session.DataChannel!;
        Assert.Same(negotiated, answer.Session.FindMedia("2"));
        Assert.Equal(5000, negotiated.SctpPort);
        Assert.Equal(5000, negotiated.LocalSctpPort);
        Assert.Equal(262144L, negotiated.LocalMaxMessageSize);
        Assert.Equal(offer.Media[2].MaxMessageSize, negotiated.MaxMessageSize); // Chromium 262144, werift 65536

        var parameters = DataChannelParameters.FromSession(answer.Session)!;
        Assert.Equal(new DataChannelParameters("2", 5000, 5000, 262144, offer.Media[2].MaxMessageSize!.Value), parameters);
    }

    [Fact]
    public void Our_max_message_size_is_a_setting()
    {
        var local = SdpSamples.Server();
        var answer = Answer(SdpDataChannelSamples.Chromium, new SdpLocalParameters
        {
            IceUfrag = local.IceUfrag, IcePwd = local.IcePwd, Fingerprint = local.Fingerprint, Candidates = local.Candidates,
            MaxMessageSize = 1024, SctpPort = 5001,
        });
        var data = Reparse(answer).Media[2];
        Assert.Equal(1024L, data.MaxMessageSize);
        Assert.Equal(5001, data.SctpPort);
        Assert.Equal(5001, answer.Session.DataChannel!.LocalSctpPort);
        Assert.Equal(5000, answer.Session.DataChannel.SctpPort);
    }

    [Fact]
    public void Absent_max_message_size_means_64_KiB_and_absent_port_5000()
    {
        var offer = WithDataLine(WithDataLine(SdpDataChannelSamples.Chromium, "max-message-size", null), "sctp-port", null);
        var data = Answer(offer).Session.DataChannel!;
        Assert.Equal(65536L, data.MaxMessageSize); // RFC 8841 §6.1
        Assert.Equal(5000, data.SctpPort); // RFC 8841 §5.1
        Assert.True(SdpDataChannel.FitsMaxMessageSize(65536, data.MaxMessageSize!.Value));
        Assert.False(SdpDataChannel.FitsMaxMessageSize(65537, data.MaxMessageSize.Value));
    }

    [Fact]
    public void Zero_max_message_size_means_no_limit()
    {
        var offer = WithDataLine(SdpDataChannelSamples.Werift, "max-message-size", "a=max-message-size:0");
        var data = Answer(offer).Session.DataChannel!;
        Assert.Equal(0L, data.MaxMessageSize);
        Assert.True(SdpDataChannel.FitsMaxMessageSize(1L << 40, data.MaxMessageSize!.Value));
    }

    [Fact]
    public void Remote_sctp_port_is_recorded()
    {
        var offer = WithDataLine(SdpDataChannelSamples.Chromium, "sctp-port", "a=sctp-port:5002");
        var answer = Answer(offer);
        Assert.Equal(5002, answer.Session.DataChannel!.SctpPort);
        Assert.Equal(5000, Reparse(answer).Media[2].SctpPort); // ours
    }

    [Theory]
    [InlineData("sctp-port", "a=sctp-port:0")]
    [InlineData("sctp-port", "a=sctp-port:70000")]
    [InlineData("sctp-port", "a=sctp-port:five")]
    [InlineData("max-message-size", "a=max-message-size:-1")]
    [InlineData("max-message-size", "a=max-message-size:big")]
    public void Malformed_data_attributes_reject_the_section_only(string attribute, string line)
    {
        var answer = Answer(WithDataLine(SdpDataChannelSamples.Chromium, attribute, line));
        var sdp = Reparse(answer);
        Assert.Equal(0, sdp.Media[2].Port);
        Assert.Null(answer.Session.DataChannel);
        Assert.Equal(["0", "1"], sdp.BundleMids);
        Assert.Equal(40000, sdp.Media[0].Port);
        Assert.Equal(40000, sdp.Media[1].Port);
    }

    [Fact]
    public void A_second_application_section_is_rejected_with_port_0()
    {
        // Append a copy of the data section with another mid, and put it in the bundle group.
        var offer = SdpDataChannelSamples.Chromium;
        var start = offer.IndexOf("m=application", StringComparison.Ordinal);
        var second = offer[start..].Replace("a=mid:2", "a=mid:3");
        offer = offer.Replace("a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1 2 3") + second;

        var answer = Answer(offer);
        var sdp = Reparse(answer);
        Assert.Equal(4, sdp.Media.Count);
        Assert.Equal(40000, sdp.Media[2].Port);
        Assert.Equal(0, sdp.Media[3].Port);
        Assert.Equal("3", sdp.Media[3].Mid);
        Assert.Null(sdp.Media[3].SctpPort);
        Assert.Equal(["0", "1", "2"], sdp.BundleMids);
        Assert.Equal("2", answer.Session.DataChannel!.Mid);
        Assert.True(answer.Session.FindMedia("3")!.IsRejected);
        Assert.Single(answer.Session.Media, m => m.IsDataChannel);
    }

    [Fact]
    public void Data_sections_count_against_the_room_m_line_cap()
    {
        // Issue 14's cap is on every m-line: 62 audio sections + video + data = 64 pass, one more data section does not.
        var offer = SdpDataChannelSamples.Chromium;
        var dataStart = offer.IndexOf("m=application", StringComparison.Ordinal);
        var extra = string.Concat(Enumerable.Range(10, 61).Select(i =>
            $"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:{i}\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"));
        var sixtyFour = offer + extra;
        var limits = new TeleRehab.Media.Rooms.PublishLimits(2, 3, "a patient");
        Assert.Equal(64, SessionDescription.Parse(sixtyFour).Media.Count);
        Assert.Null(TeleRehab.Media.Rooms.RoomParticipant.CheckOffer(SessionDescription.Parse(sixtyFour), limits, 64));

        var sixtyFive = sixtyFour + offer[dataStart..].Replace("a=mid:2", "a=mid:99");
        Assert.Equal("the offer has 65 m-lines; at most 64",
            TeleRehab.Media.Rooms.RoomParticipant.CheckOffer(SessionDescription.Parse(sixtyFive), limits, 64));
        // Answered (by the SDP layer alone), the second data section would be rejected, the first kept.
        var answer = Answer(sixtyFive);
        Assert.Equal("2", answer.Session.DataChannel!.Mid);
        Assert.True(answer.Session.FindMedia("99")!.IsRejected);
    }

    [Fact]
    public void Legacy_dtls_sctp_with_sctpmap_is_refused_cleanly()
    {
        // The pre-RFC 8841 form (draft-ietf-mmusic-sctp-sdp-05 and before, old Chrome and Firefox).
        var offer = SdpDataChannelSamples.Chromium
            .Replace("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=application 9 DTLS/SCTP 5000")
            .Replace("a=sctp-port:5000", "a=sctpmap:5000 webrtc-datachannel 1024");
        var answer = Answer(offer);
        var sdp = Reparse(answer);
        Assert.Equal("m=application 0 DTLS/SCTP 5000", answer.Sdp.Split("\r\n").Single(l => l.StartsWith("m=application", StringComparison.Ordinal)));
        Assert.Equal(["0", "1"], sdp.BundleMids);
        Assert.Null(answer.Session.DataChannel);
        Assert.All(sdp.Media.Take(2), m => Assert.Equal(40000, m.Port));

        Assert.True(SessionDescription.TryParse(offer, out var parsed, out _));
        Assert.False(SdpDataChannel.TryRead(parsed!.Media[2], out _, out _, out var reason));
        Assert.Contains("sctpmap", reason);
    }

    [Fact]
    public void Data_channels_off_rejects_the_section_as_before()
    {
        var answer = Answer(SdpDataChannelSamples.Werift, SdpSamples.Server(dataChannels: false));
        var sdp = Reparse(answer);
        Assert.Equal(0, sdp.Media[2].Port);
        Assert.Equal(SdpDirection.Inactive, sdp.Media[2].Direction);
        Assert.Equal(["0", "1"], sdp.BundleMids);
        Assert.Null(answer.Session.DataChannel);
        Assert.Null(DataChannelParameters.FromSession(answer.Session));
    }

    [Fact]
    public void Our_offer_and_a_browser_answer_give_the_data_channel_parameters()
    {
        var local = SdpSamples.Server();
        var offerer = new SdpOfferer(local);
        var offer = offerer.CreateOffer([new SdpTransceiver("audio", "0", SdpDirection.SendRecv), new SdpTransceiver("application", "1", SdpDirection.SendRecv)]);
        var section = offer.Description.Media[1];
        Assert.Equal("UDP/DTLS/SCTP", section.Protocol);
        Assert.Equal([SdpDataChannel.Format], section.Formats);
        Assert.Equal(5000, section.SctpPort);
        Assert.Equal(262144L, section.MaxMessageSize);
        Assert.Equal(["0", "1"], offer.Description.BundleMids);

        // Answer it with the server's own answerer (another ICE-lite peer), its max-message-size left out.
        var peer = new SdpAnswerer(new SdpLocalParameters
        {
            IceUfrag = "peerU", IcePwd = "peerIcePassword0123456789", Fingerprint = SdpSamples.ServerFingerprint,
            SctpPort = 5003,
        }).CreateAnswer(offer.Sdp);
        var answerText = peer.Sdp.Replace("a=max-message-size:262144\r\n", "");
        Assert.True(offerer.TryApplyAnswer(offer, answerText, out var session, out var error), error);
        var data = session!.DataChannel!;
        Assert.Equal(5003, data.SctpPort);
        Assert.Equal(65536L, data.MaxMessageSize);
        Assert.Equal(5000, data.LocalSctpPort);

        // An answer with a malformed sctp-port is refused with a reason.
        Assert.False(offerer.TryApplyAnswer(offer, peer.Sdp.Replace("a=sctp-port:5003", "a=sctp-port:0"), out _, out error));
        Assert.Contains("sctp-port", error);
    }
}
