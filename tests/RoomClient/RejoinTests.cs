using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The same link used again: after leaving, and from a second connection while the first is still in the
/// room (a second device or a reload whose old connection lingers: the newest wins).</summary>
[Collection(RoomClientCollection.Name)]
public sealed class RejoinTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    [Fact]
    public async Task Patient_who_left_joins_again_with_the_same_link_and_media_flows_both_ways()
    {
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false);
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var first = await _kit.JoinAsync("patient", session.PatientLink!);
        await RoomTestKit.WaitReceivingAsync(therapist, first.ParticipantId);
        await first.LeaveAsync();
        await therapist.WaitForEventAsync<ParticipantLeftInfo>(HubNames.ParticipantLeft, l => l.ParticipantId == first.ParticipantId, RoomTestKit.Generous);

        var again = await _kit.JoinAsync("patient-again", session.PatientLink!);
        Assert.Equal(first.ParticipantId, again.ParticipantId);
        var before = therapist.ReceivedFrom(again.ParticipantId, "audio").Packets;
        Assert.True(await RoomTestKit.WaitUntilAsync(() => therapist.ReceivedFrom(again.ParticipantId, "audio").Packets > before + 10, RoomTestKit.Generous));
        await RoomTestKit.WaitReceivingAsync(again, therapist.ParticipantId);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 2, RoomTestKit.Generous), $"server peers {_kit.Host.Media.PeerCount}");
        Assert.Empty(therapist.Errors);
    }

    [Fact]
    public async Task Same_link_from_a_second_connection_replaces_the_first_and_its_media_flows()
    {
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false);
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var first = await _kit.JoinAsync("patient-device1", session.PatientLink!);
        await RoomTestKit.WaitReceivingAsync(therapist, first.ParticipantId);
        await RoomTestKit.WaitReceivingAsync(first, therapist.ParticipantId);

        var second = await _kit.JoinAsync("patient-device2", session.PatientLink!); // negotiates media at once
        Assert.Equal(first.ParticipantId, second.ParticipantId);
        await first.Ended.WaitAsync(RoomTestKit.Generous); // the older connection was closed
        first.StopSending();

        await RoomTestKit.WaitReceivingAsync(second, therapist.ParticipantId);
        var before = therapist.ReceivedFrom(second.ParticipantId, "audio").Packets;
        Assert.True(await RoomTestKit.WaitUntilAsync(() => therapist.ReceivedFrom(second.ParticipantId, "audio").Packets > before + 20, RoomTestKit.Generous),
            "the therapist does not receive the second device");
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 2, RoomTestKit.Generous), $"server peers {_kit.Host.Media.PeerCount}");
        Assert.Empty(second.Errors);
        Assert.Equal("connected", (await _kit.RegistryStatesAsync(session.Id))[second.ParticipantId]);
        Assert.DoesNotContain(therapist.Events, e => e.Payload is ParticipantLeftInfo l && l.ParticipantId == second.ParticipantId);
    }
}
