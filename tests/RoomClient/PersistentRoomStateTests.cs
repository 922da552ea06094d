using Microsoft.AspNetCore.SignalR;
using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>What the therapist decided outlasts the room emptying: the live room is forgotten when the last person
/// leaves, but a removed participant stays removed and a locked room stays locked (both kept in the session's record).</summary>
[Collection(RoomClientCollection.Name)]
public sealed class PersistentRoomStateTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    /// <summary>Joins over the hub only (no media: removal and the lock are control-plane matters).</summary>
    private async Task<SessionClient> JoinAsync(string name, string link, string expectedState = "joined")
    {
        var client = _kit.NewClient(name, new SessionClientOptions { AutoNegotiate = false });
        var result = await client.JoinAsync(SessionClient.TokenFromLink(link)).WaitAsync(RoomTestKit.Generous);
        Assert.Equal(expectedState, result.State);
        return client;
    }

    private async Task<HubException> RefusedAsync(string name, string link)
    {
        var client = _kit.NewClient(name, new SessionClientOptions { AutoNegotiate = false });
        return await Assert.ThrowsAsync<HubException>(() => client.JoinAsync(SessionClient.TokenFromLink(link)));
    }

    private async Task WaitRoomForgottenAsync(string what) =>
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Coordinator.LiveRoomCount == 0 && _kit.Rooms.RoomCount == 0, RoomTestKit.Generous),
            $"{what}: live rooms {_kit.Coordinator.LiveRoomCount}, media rooms {_kit.Rooms.RoomCount}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_removed_patient_stays_removed_after_the_room_empties(bool waitingRoom)
    {
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom, title: "removal");
        var therapist = await JoinAsync("therapist", session.TherapistLink);
        var patient = await JoinAsync("patient", session.PatientLink!, waitingRoom ? "waiting" : "joined");
        if (waitingRoom)
        {
            await therapist.AdmitAsync(patient.ParticipantId);
            await patient.Admitted.WaitAsync(RoomTestKit.Generous);
        }

        await therapist.RemoveParticipantAsync(patient.ParticipantId);
        await patient.WaitForEventAsync<ReasonInfo>(HubNames.Removed, null, RoomTestKit.Generous);
        await patient.Ended.WaitAsync(RoomTestKit.Generous);

        // The therapist leaves: nobody is left, the live room is forgotten.
        await therapist.LeaveAsync();
        await WaitRoomForgottenAsync("after everyone left");
        var json = await _kit.Api.GetAsync(session.Id);
        Assert.True(json.GetProperty("participants").EnumerateArray().Single(p => p.GetProperty("id").GetString() == patient.ParticipantId)
            .GetProperty("removed").GetBoolean());

        // The patient's link, into the empty session: refused, and the refusal leaves no room behind.
        var refused = await RefusedAsync("patient-again", session.PatientLink!);
        Assert.Contains("forbidden: the therapist removed you", refused.Message);
        Assert.Equal(0, _kit.Coordinator.LiveRoomCount);
        Assert.Equal(0, _kit.Rooms.RoomCount);

        // The therapist comes back (a new live room): still refused.
        var back = await JoinAsync("therapist-back", session.TherapistLink);
        refused = await RefusedAsync("patient-third", session.PatientLink!);
        Assert.Contains("forbidden: the therapist removed you", refused.Message);
        Assert.Empty(back.Errors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_locked_room_stays_locked_after_it_empties_and_refills(bool waitingRoom)
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom, title: "lock");
        var anaLink = await _kit.Api.InviteAsync(session.Id, "patient", "Ana");
        var therapist = await JoinAsync("therapist", session.TherapistLink);
        var ana = await JoinAsync("ana", anaLink, waitingRoom ? "waiting" : "joined");
        if (waitingRoom)
        {
            await therapist.AdmitAsync(ana.ParticipantId);
            await ana.Admitted.WaitAsync(RoomTestKit.Generous);
        }
        await therapist.LockRoomAsync(true);
        await ana.WaitForEventAsync<LockedInfo>(HubNames.RoomLocked, l => l.Locked, RoomTestKit.Generous);
        Assert.True((await _kit.Api.GetAsync(session.Id)).GetProperty("locked").GetBoolean());

        // The therapist reloads (a new connection replaces the old), then everyone leaves.
        var reloaded = await JoinAsync("therapist-reload", session.TherapistLink);
        Assert.True(reloaded.JoinResult!.Locked);
        await reloaded.LeaveAsync();
        await ana.LeaveAsync();
        await WaitRoomForgottenAsync("after everyone left");
        Assert.True((await _kit.Api.GetAsync(session.Id)).GetProperty("locked").GetBoolean());

        // A patient who was never admitted, into the empty session: refused as in a live locked room.
        var benLink = await _kit.Api.InviteAsync(session.Id, "patient", "Ben");
        var refused = await RefusedAsync("ben", benLink);
        Assert.Contains("forbidden: the room is locked", refused.Message);
        Assert.Equal(0, _kit.Coordinator.LiveRoomCount);

        // The therapist comes back: the room is still locked, Ben is still refused; Ana, admitted before, comes back
        // (through the waiting room when there is one, as after any empty room).
        var back = await JoinAsync("therapist-back", session.TherapistLink);
        Assert.True(back.JoinResult!.Locked);
        refused = await RefusedAsync("ben-again", benLink);
        Assert.Contains("forbidden: the room is locked", refused.Message);
        var anaBack = await JoinAsync("ana-back", anaLink, waitingRoom ? "waiting" : "joined");
        Assert.True(anaBack.JoinResult!.Locked);

        // Unlocked: Ben gets in (or waits, with a waiting room).
        await back.LockRoomAsync(false);
        Assert.False((await _kit.Api.GetAsync(session.Id)).GetProperty("locked").GetBoolean());
        await JoinAsync("ben-unlocked", benLink, waitingRoom ? "waiting" : "joined");
        Assert.Empty(back.Errors);
    }
}
