using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.Tests.Sdp;

/// <summary><c>a=ptime</c> in the server's answers (RFC 4566 §6): asked of what the peer sends while its room is in a
/// weak spell (docs/weak-links.md), on audio only, and only where the peer sends.</summary>
public class SdpPacketTimeTests
{
    private static SessionDescription Answer(string offer, int? packetTime, IReadOnlyDictionary<string, SdpLocalStream>? streams = null)
    {
        var local = new SdpLocalParameters
        {
            IceUfrag = "srvU",
            IcePwd = "serverIcePassword0123456789",
            Fingerprint = SdpSamples.ServerFingerprint,
            LocalStreams = streams ?? new Dictionary<string, SdpLocalStream>(),
            AudioPacketTime = packetTime,
        };
        Assert.True(new SdpAnswerer(local).TryCreateAnswer(offer, out var answer, out var error), error);
        Assert.True(SessionDescription.TryParse(answer!.Sdp, out var parsed, out error), error);
        return parsed!;
    }

    private static IEnumerable<string> PacketTimes(SdpMediaDescription media) =>
        media.Attributes.Where(a => a.Name == "ptime").Select(a => a.Value ?? "");

    [Fact]
    public void The_audio_the_peer_sends_is_asked_for_in_60_ms_packets_and_nothing_else_is()
    {
        var answer = Answer(SdpSamples.Chrome, 60);
        var audio = answer.Media.Single(m => m.Kind == "audio");
        Assert.Equal(["60"], PacketTimes(audio));
        Assert.All(answer.Media.Where(m => m.Kind != "audio"), m => Assert.Empty(PacketTimes(m)));
    }

    [Fact]
    public void Without_a_weak_spell_no_packet_time_is_asked()
    {
        Assert.All(Answer(SdpSamples.Chrome, null).Media, m => Assert.Empty(PacketTimes(m)));
    }

    [Fact]
    public void Audio_only_the_server_sends_carries_no_packet_time()
    {
        // A receive-only audio section (the peer subscribes to someone's voice): the server's answer is sendonly, and
        // a=ptime there would describe the server's own packets, which it forwards as they come.
        var offer = SdpSamples.Chrome.Replace("a=sendrecv", "a=recvonly");
        var streams = new Dictionary<string, SdpLocalStream> { ["0"] = new(0x11223344, "srvcname", "srvstream", "srvaudio", null) };
        var audio = Answer(offer, 60, streams).Media.Single(m => m.Kind == "audio");
        Assert.Equal(SdpDirection.SendOnly, audio.Direction);
        Assert.Empty(PacketTimes(audio));
    }
}
