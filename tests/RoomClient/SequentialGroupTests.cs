using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>Fifty patients pass through one group session, one after another, and leave nothing behind.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class SequentialGroupTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Patients = 50;
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output, ("TeleRehab:Sessions:MaxGroupPatients", "60"));

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    [Fact]
    public async Task Fifty_patients_join_exchange_media_and_leave_in_sequence_and_no_state_leaks()
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom: false, title: "Fifty in turn");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var patientIds = new List<string>();

        for (var i = 1; i <= Patients; i++)
        {
            var link = await _kit.Api.InviteAsync(session.Id, "patient", $"Patient {i}");
            var patient = await _kit.JoinAsync($"patient{i}", link);
            patientIds.Add(patient.ParticipantId);
            await RoomTestKit.WaitReceivingAsync(patient, therapist.ParticipantId, packets: 5);
            await RoomTestKit.WaitReceivingAsync(therapist, patient.ParticipantId, packets: 5);
            Assert.Equal(0, patient.OwnPacketsReceived);
            Assert.All(patient.Received, s => Assert.Equal(0, s.Damaged));

            await patient.LeaveAsync();
            await patient.DisposeAsync();
            // The therapist is told, and its next offer drops the patient's tracks.
            await therapist.WaitForEventAsync<ParticipantLeftInfo>(HubNames.ParticipantLeft, e => e.ParticipantId == patient.ParticipantId, RoomTestKit.Generous);
            Assert.True(await RoomTestKit.WaitUntilAsync(() => therapist.Tracks.All(t => t.ParticipantId != patient.ParticipantId), RoomTestKit.Generous),
                $"the therapist still lists patient {i}'s tracks");
            if (i % 10 == 0) _kit.Log($"{i} patients passed; server peers {_kit.Host.Media.PeerCount}, negotiations {therapist.Negotiations}");
        }

        // Only the therapist remains, everywhere.
        var room = Assert.Single(_kit.Rooms.Rooms);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 1, RoomTestKit.Generous), $"server peers: {_kit.Host.Media.PeerCount}");
        Assert.True(await RoomTestKit.WaitUntilAsync(async () => (await room.GetDiagnosticsAsync()).Count == 1, RoomTestKit.Generous));
        var remaining = Assert.Single(await room.GetDiagnosticsAsync());
        Assert.Equal(therapist.ParticipantId, remaining.Id);
        Assert.Equal("Connected", remaining.ConnectionState);
        Assert.Equal(2, remaining.Publications);
        Assert.Equal(0, remaining.Subscribers);            // nobody left subscribed to the therapist
        Assert.Equal(0, remaining.SubscribersClosed);
        Assert.Equal(0, remaining.Subscriptions);          // and the therapist holds no subscription (nor buffer) of a departed patient
        Assert.Equal(0, remaining.SubscriptionSsrcs);
        Assert.Equal(0, remaining.SubscriptionsToClosedPublishers);
        Assert.InRange(remaining.PublicationSsrcs, 1, 3);   // its own audio, video (and video RTX) only
        Assert.Equal(1, room.ParticipantCount);
        Assert.Equal(1, _kit.Coordinator.LiveRoomCount);
        Assert.Equal(1, _kit.ClientWorker.Worker.PeerCount);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Coordinator.SendChainCount <= 1, RoomTestKit.Generous),
            $"hub send chains held: {_kit.Coordinator.SendChainCount}");
        Assert.Empty(therapist.Tracks);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => therapist.IsNegotiationCurrent, RoomTestKit.Generous));
        Assert.All(therapist.Media!.ReceiveSections, s => Assert.False(s.Active));
        Assert.InRange(therapist.Media.ReceiveSections.Count, 2, 4); // receive sections were reused, not one per patient
        Assert.Empty(therapist.Errors);
        var states = await _kit.RegistryStatesAsync(session.Id);
        Assert.All(patientIds, id => Assert.Equal("left", states[id]));
        Assert.Equal("connected", states[therapist.ParticipantId]);

        // The therapist leaves too: nothing is left at all.
        await therapist.LeaveAsync();
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 0 && _kit.Rooms.RoomCount == 0 && _kit.Coordinator.LiveRoomCount == 0,
            RoomTestKit.Generous), $"peers {_kit.Host.Media.PeerCount}, rooms {_kit.Rooms.RoomCount}, live rooms {_kit.Coordinator.LiveRoomCount}");
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.ServerWorkers.All(w => w.PeerCount == 0), RoomTestKit.Generous),
            $"server worker peers: {string.Join(", ", _kit.ServerWorkers.Select(w => w.PeerCount))}");
        Assert.NotEmpty(_kit.ServerWorkers);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Coordinator.SendChainCount == 0 && _kit.Coordinator.MemberCount == 0, RoomTestKit.Generous),
            $"hub send chains {_kit.Coordinator.SendChainCount}, members {_kit.Coordinator.MemberCount}");
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.ClientWorker.Worker.PeerCount == 0, RoomTestKit.Generous));
        Assert.Equal(0, room.ParticipantCount);
        states = await _kit.RegistryStatesAsync(session.Id);
        Assert.All(patientIds.Append(therapist.ParticipantId), id => Assert.Equal("left", states[id]));
        Assert.DoesNotContain(states.Values, s => s is "connected" or "waiting");
    }
}
