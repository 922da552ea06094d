using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Pose;
using TeleRehab.Media.Rooms;

namespace TeleRehab.Media.Tests.Rooms;

/// <summary>The pose forwarder inside a real room on a real worker: roles come from the negotiation, the "pose" data
/// channel's events reach it through the participant, and leaving forgets a participant.</summary>
public sealed class PoseRoomTests : IAsyncLifetime
{
    private static readonly Lazy<DtlsCertificate> ServerCertificate = new(() => DtlsCertificate.Generate());

    private readonly MediaServer _server = new(new MediaServerOptions
    {
        UdpPort = 0, TcpPort = -1, ListenAddress = "127.0.0.1", AnnouncedAddress = "127.0.0.1", Workers = 1,
    });

    public Task InitializeAsync()
    {
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private sealed class Listener : IRoomListener
    {
        public void OnTracksChanged(MediaRoom room, IReadOnlyList<TrackInfo> tracks) { }
        public void OnParticipantQuality(MediaRoom room, string participantId, string quality) { }
        public void OnParticipantConnected(MediaRoom room, string participantId) { }
        public void OnParticipantDisconnected(MediaRoom room, string participantId, string reason, string? connectionTag) { }
        public void OnPublishedLayers(MediaRoom room, string participantId, string mid, IReadOnlyList<string> activeRids) { }
    }

    private static byte[] KeyFrame(uint timestamp, ushort sequence = 0)
    {
        var frame = new KeypointFrame { TimestampMs = timestamp };
        for (var i = 0; i < KeypointFormat.LandmarkCount; i++) frame.Landmarks[i] = new Landmark(0.3f + i * 0.01f, 0.2f + i * 0.02f);
        var buffer = new byte[KeypointFormat.MaxFrameLength];
        return buffer.AsSpan(0, new KeypointEncoder(new KeypointEncoderOptions { InitialSequence = sequence }).Encode(frame, buffer)).ToArray();
    }

    [Fact]
    public async Task Pose_channel_events_reach_the_forwarder_with_roles_from_the_negotiation()
    {
        var manager = new RoomManager(_server, ServerCertificate.Value);
        var room = manager.GetOrCreate("room", new Listener());
        var patientLimits = new PublishLimits(2, 3, "a patient", PoseRole.Sender);
        var therapistLimits = new PublishLimits(2, 3, "a therapist");
        Assert.True((await room.NegotiateAsync("patient", patientLimits, new OfferLimitsTests.Offerer().Offer(1, 1).Sdp, [])).Succeeded);
        Assert.True((await room.NegotiateAsync("therapist", therapistLimits, new OfferLimitsTests.Offerer().Offer(1, 1).Sdp, [])).Succeeded);
        Assert.True((await room.NegotiateAsync("observer", PublishLimits.None, new OfferLimitsTests.Offerer().Offer(1, 1).Sdp, [])).Succeeded);

        var sent = new Dictionary<string, List<byte[]>> { ["patient"] = [], ["therapist"] = [], ["observer"] = [] };
        var result = await room.Run(() =>
        {
            var now = room.Worker.Now;
            foreach (var participant in room.Participants)
            {
                var list = sent[participant.Id];
                participant.OnDataChannelOpened("pose", m => { list.Add(m.ToArray()); return true; }, () => 0, now);
            }
            var patient = room.Participants.Single(p => p.Id == "patient");
            patient.OnDataChannelMessage("other", KeyFrame(1), false, now); // not the pose channel: ignored
            patient.OnDataChannelMessage("pose", KeyFrame(1000), false, now);
            patient.OnDataChannelMessage("pose", [1, 2, 3], false, now);
            room.Participants.Single(p => p.Id == "therapist").OnDataChannelMessage("pose", KeyFrame(2000), false, now);
            return (room.Pose.FramesReceived, room.Pose.MalformedFrames, room.Pose.NotSenderFrames,
                Roles: string.Join(",", room.Pose.Participants.Select(p => $"{p.Id}:{p.Role}")));
        });
        Assert.Equal((3L, 1L, 1L, "patient:Sender,therapist:Viewer,observer:Viewer"), result);
        Assert.Empty(sent["patient"]);
        foreach (var viewer in new[] { "therapist", "observer" })
        {
            var message = Assert.Single(sent[viewer]);
            Assert.Equal("patient", System.Text.Encoding.UTF8.GetString(message, 1, message[0]));
            Assert.True(new KeypointDecoder().TryDecode(message.AsSpan(1 + message[0]), out var frame));
            Assert.Equal(1000u, frame.TimestampMs);
        }

        // The patient asks to see its own pose; then it leaves and the forwarder forgets it.
        await room.SetPoseInterestAsync("patient", PoseInterest.Own);
        await room.Run(() =>
        {
            room.Participants.Single(p => p.Id == "patient").OnDataChannelMessage("pose", KeyFrame(1100, 1), false, room.Worker.Now);
            return true;
        });
        Assert.Single(sent["patient"]);
        await room.RemoveParticipantAsync("patient", "left");
        Assert.Equal("therapist,observer", await room.Run(() => string.Join(",", room.Pose.Participants.Select(p => p.Id))));
        await room.CloseAsync("done");
    }
}
