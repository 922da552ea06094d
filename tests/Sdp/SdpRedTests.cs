using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.Tests.Sdp;

/// <summary>RED (RFC 2198, <c>red/48000/2</c>) in the server's answers: before Opus when the server prefers it, after
/// Opus when it only accepts it, absent when it is off or the offer has none.</summary>
public class SdpRedTests
{
    private static SdpAnswer Answer(string offer, SdpAudioRedundancy red)
    {
        var local = SdpSamples.Server();
        local = new SdpLocalParameters
        {
            IceUfrag = local.IceUfrag, IcePwd = local.IcePwd, Fingerprint = local.Fingerprint, Candidates = local.Candidates,
            AudioRedundancy = red,
        };
        Assert.True(new SdpAnswerer(local).TryCreateAnswer(offer, out var answer, out var error), error);
        Assert.True(SessionDescription.TryParse(answer!.Sdp, out _, out error), error);
        return answer;
    }

    [Fact]
    public void Chrome_preferred_red_comes_first_with_opus_in_its_blocks()
    {
        var answer = Answer(SdpSamples.Chrome, SdpAudioRedundancy.Preferred);
        var audio = SessionDescription.Parse(answer.Sdp).Media[0];
        Assert.Equal(["63", "111"], audio.Formats);
        Assert.Equal(new SdpRtpMap(63, "red", 48000, 2), audio.GetRtpMap(63));
        Assert.Equal("111/111", audio.GetFmtp(63)!.Parameters);
        Assert.Equal("minptime=10;useinbandfec=1;usedtx=1", audio.GetFmtp(111)!.Parameters);
        Assert.DoesNotContain(audio.RtcpFeedbacks, f => f.PayloadType == 63);
        var negotiated = answer.Session.FindMedia(audio.Mid!)!;
        Assert.Equal(["red", "opus"], negotiated.Codecs.Select(c => c.Name));
        Assert.Contains("m=audio 40000 UDP/TLS/RTP/SAVPF 63 111\r\n", answer.Sdp);
    }

    [Fact]
    public void Chrome_accepted_red_comes_after_opus_so_the_browser_sends_plain_opus()
    {
        var answer = Answer(SdpSamples.Chrome, SdpAudioRedundancy.Accepted);
        var audio = SessionDescription.Parse(answer.Sdp).Media[0];
        Assert.Equal(["111", "63"], audio.Formats);
        Assert.Equal("111/111", audio.GetFmtp(63)!.Parameters);
    }

    [Fact]
    public void Red_off_answers_plain_opus()
    {
        var audio = SessionDescription.Parse(Answer(SdpSamples.Chrome, SdpAudioRedundancy.Off).Sdp).Media[0];
        Assert.Equal(["111"], audio.Formats);
        Assert.Null(audio.GetRtpMap(63));
    }

    [Theory]
    [InlineData(nameof(SdpSamples.Aiortc))]
    [InlineData(nameof(SdpSamples.Firefox))]
    public void An_offer_without_red_gets_plain_opus_however_the_server_prefers(string name)
    {
        var answer = Answer(SdpSamples.ByName(name), SdpAudioRedundancy.Preferred);
        var audio = answer.Session.Media.First(m => m.Kind == "audio");
        var opus = Assert.Single(audio.Codecs);
        Assert.Equal("opus", opus.Name);
        Assert.DoesNotContain("red/48000", answer.Sdp);
    }

    [Fact]
    public void The_csharp_client_offers_plain_opus_and_gets_plain_opus()
    {
        var offer = SdpOffererTests.Offer().Sdp;
        Assert.DoesNotContain("red/", offer);
        var answer = Answer(offer, SdpAudioRedundancy.Preferred);
        Assert.DoesNotContain("red/", answer.Sdp);
    }

    [Fact]
    public void Red_with_another_payload_type_for_opus_is_answered_with_the_offers_opus()
    {
        // An offer whose Opus is 109 and whose red names it (Firefox-style numbering), and a red for another codec first.
        var offer = SdpSamples.Chrome
            .Replace("SAVPF 111 63 9 0 8 13 110 126", "SAVPF 109 62 63 9 0 8 13 110 126")
            .Replace("a=rtpmap:111 opus/48000/2", "a=rtpmap:109 opus/48000/2")
            .Replace("a=rtcp-fb:111 transport-cc", "a=rtcp-fb:109 transport-cc")
            .Replace("a=fmtp:111 minptime=10;useinbandfec=1", "a=fmtp:109 minptime=10;useinbandfec=1\r\na=rtpmap:62 red/48000/2\r\na=fmtp:62 9/9")
            .Replace("a=fmtp:63 111/111", "a=fmtp:63 109/109");
        var audio = SessionDescription.Parse(Answer(offer, SdpAudioRedundancy.Preferred).Sdp).Media[0];
        Assert.Equal(["63", "109"], audio.Formats);
        Assert.Equal("109/109", audio.GetFmtp(63)!.Parameters);
    }

    [Fact]
    public void Red_without_fmtp_or_without_opus_in_the_offer()
    {
        var noFmtp = SdpSamples.Chrome.Replace("a=fmtp:63 111/111\r\n", "");
        var audio = SessionDescription.Parse(Answer(noFmtp, SdpAudioRedundancy.Preferred).Sdp).Media[0];
        Assert.Equal("111/111", audio.GetFmtp(63)!.Parameters);

        // red alone, with a codec the server does not take: no Opus to carry, so nothing in the section is accepted
        // (here the BUNDLE tag, so the offer fails as a whole, RFC 8843 §7.3.3).
        var noOpus = SdpSamples.Chrome.Replace("SAVPF 111 63 9 0 8 13 110 126", "SAVPF 63 0");
        var answer = new SdpAnswerer(new SdpLocalParameters
        {
            IceUfrag = "srvU", IcePwd = "serverIcePassword0123456789", Fingerprint = SdpSamples.ServerFingerprint,
            AudioRedundancy = SdpAudioRedundancy.Preferred,
        });
        Assert.False(answer.TryCreateAnswer(noOpus, out _, out var error));
        Assert.Contains("nothing in it is supported", error);
    }
}
