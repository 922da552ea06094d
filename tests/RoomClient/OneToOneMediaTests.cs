using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>Two C# participants in a one-to-one session exchange audio and video through the SFU.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class OneToOneMediaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    [Fact]
    public async Task Therapist_and_patient_receive_each_others_audio_and_video_rewritten_to_the_sfus_ssrcs_with_payloads_intact()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("one");
        await RoomTestKit.WaitReceivingAsync(therapist, patient.ParticipantId, packets: 100);
        await RoomTestKit.WaitReceivingAsync(patient, therapist.ParticipantId, packets: 100);

        foreach (var (receiver, sender) in new[] { (therapist, patient), (patient, therapist) })
        {
            foreach (var kind in new[] { "audio", "video" })
            {
                var stats = receiver.ReceivedFrom(sender.ParticipantId, kind);
                Assert.True(stats.Packets >= 100, $"{receiver.Name} got {stats.Packets} {kind} packets");
                Assert.Equal(0, stats.Damaged);
                Assert.Equal(stats.Packets, stats.Intact);
                // Rewritten: one SFU SSRC per subscription, never the publisher's own, negotiated for the publisher's track.
                var ssrc = Assert.Single(stats.Ssrcs);
                var own = kind == "audio" ? sender.Media!.AudioSsrc : sender.Media!.VideoSsrc;
                Assert.NotEqual(own, ssrc);
                var track = receiver.TrackOfSsrc(ssrc);
                Assert.NotNull(track);
                Assert.Equal(sender.ParticipantId, track.ParticipantId);
                Assert.Equal(kind, track.Kind);
                Assert.Equal(track.TrackId, receiver.Tracks.Single(t => t.ParticipantId == sender.ParticipantId && t.Kind == kind).TrackId);
                // Attributed by SSRC to the section the subscription was negotiated on.
                var mid = receiver.Media!.MidOf(ssrc);
                Assert.NotNull(mid);
                Assert.Contains(receiver.Media.ReceiveSections, s => s.Mid == mid && s.Kind == kind && s.Active);
            }
            // The SFU forwards; it does not echo.
            Assert.Equal(0, receiver.OwnPacketsReceived);
            Assert.DoesNotContain(receiver.Received, s => s.ParticipantId == receiver.ParticipantId);
            Assert.Equal(0, receiver.UnknownPacketsReceived);
            Assert.Empty(receiver.Errors);
        }

        // The publisher's sequence keeps advancing at the receiver (no stall after the first packets).
        var before = patient.ReceivedFrom(therapist.ParticipantId, "audio").LastSequence;
        await RoomTestKit.AssertKeepsReceivingAsync(patient, therapist.ParticipantId, "steady state");
        Assert.True(patient.ReceivedFrom(therapist.ParticipantId, "audio").LastSequence > before);

        // Both negotiated on one transport each: one server peer per participant.
        Assert.Equal(2, _kit.Host.Media.PeerCount);
        Assert.Equal(2, _kit.ClientWorker.Worker.PeerCount);
    }

    [Fact]
    public async Task Audio_only_video_only_and_observer_clients_receive_what_is_published()
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom: false, title: "mixed");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink, new SessionClientOptions { SendVideo = false });
        var patient = await _kit.JoinAsync("patient", await _kit.Api.InviteAsync(session.Id, "patient", "Video only"), new SessionClientOptions { SendAudio = false });
        var observer = _kit.NewClient("observer");
        var result = await observer.JoinAsync(SessionClient.TokenFromLink(session.ObserverLink!)).WaitAsync(RoomTestKit.Generous);
        Assert.Equal("observer", result.Role);

        await RoomTestKit.WaitReceivingAsync(therapist, patient.ParticipantId, audio: false);
        await RoomTestKit.WaitReceivingAsync(patient, therapist.ParticipantId, video: false);
        await RoomTestKit.WaitReceivingAsync(observer, therapist.ParticipantId, video: false);
        await RoomTestKit.WaitReceivingAsync(observer, patient.ParticipantId, audio: false);

        Assert.Empty(observer.Media!.SendMids);
        Assert.Equal(2, observer.Tracks.Count); // the observer publishes nothing, so nobody can subscribe to it
        Assert.DoesNotContain(therapist.Tracks, t => t.ParticipantId == observer.ParticipantId);
        Assert.Equal(0, therapist.ReceivedFrom(patient.ParticipantId, "audio").Packets);
        foreach (var client in new[] { therapist, patient, observer })
        {
            Assert.Equal(0, client.OwnPacketsReceived);
            Assert.All(client.Received, s => Assert.Equal(0, s.Damaged));
            Assert.Empty(client.Errors);
        }
    }
}
