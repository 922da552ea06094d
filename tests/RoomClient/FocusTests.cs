using Microsoft.AspNetCore.SignalR;
using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The therapist's focus in a group room (<c>SetFocus</c>, <c>FocusChanged</c>): the participant whose video
/// the patients' pages show large. Only the therapist sets it, only on someone admitted and present; everyone admitted
/// is told, a participant who joins or joins again finds it in its JoinResult, and it ends when that participant
/// leaves.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class FocusTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private static async Task<string> RefusedAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<HubException>(call);
        return error.Message;
    }

    /// <summary>Joins with a link into the waiting room, and the therapist admits it.</summary>
    private async Task<(SessionClient Client, string Id)> AdmittedAsync(SessionClient therapist, string name, string link)
    {
        var client = _kit.NewClient(name);
        var id = (await client.JoinAsync(SessionClient.TokenFromLink(link)).WaitAsync(RoomTestKit.Generous)).ParticipantId;
        await therapist.AdmitAsync(id);
        await client.Admitted.WaitAsync(RoomTestKit.Generous);
        return (client, id);
    }

    private static int FocusEvents(SessionClient client) => client.Events.Count(e => e.Name == HubNames.FocusChanged);

    [Fact]
    public async Task The_therapist_puts_a_patient_in_focus_everyone_is_told_and_it_ends_when_they_leave()
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom: true, title: "focus");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var anaLink = await _kit.Api.InviteAsync(session.Id, "patient", "Ana");
        var benLink = await _kit.Api.InviteAsync(session.Id, "patient", "Ben");
        var (ana, anaId) = await AdmittedAsync(therapist, "ana", anaLink);
        var (ben, benId) = await AdmittedAsync(therapist, "ben", benLink);
        var (observer, observerId) = await AdmittedAsync(therapist, "observer", await _kit.Api.InviteAsync(session.Id, "observer", "Olga"));
        Assert.Null(therapist.JoinResult!.Focus);

        // Refusals, with nothing sent to anyone: a patient (forbidden), an id nobody has (not found), input that is
        // no participant id (invalid), an observer (no video to show).
        Assert.Contains("HubException: forbidden:", await RefusedAsync(() => ana.SetFocusAsync(benId)));
        Assert.Contains("HubException: forbidden:", await RefusedAsync(() => ben.SetFocusAsync(null)));
        Assert.Contains("HubException: not-found:", await RefusedAsync(() => therapist.SetFocusAsync("AAAAAAAAAAAA")));
        foreach (var malformed in new[] { "", "ben", new string('x', 500), "../../hubs/x", "AAAAAAAAAAA\n" })
            Assert.Contains("HubException: invalid:", await RefusedAsync(() => therapist.SetFocusAsync(malformed)));
        Assert.Contains("HubException: invalid:", await RefusedAsync(() => therapist.SetFocusAsync(observerId)));
        await Task.Delay(300);
        foreach (var client in new[] { therapist, ana, ben, observer }) Assert.Equal(0, FocusEvents(client));

        // Ben in focus: everyone admitted hears it (Ben too); the same focus again sends nothing.
        await therapist.SetFocusAsync(benId);
        foreach (var client in new[] { therapist, ana, ben, observer })
            await client.WaitForEventAsync<FocusInfo>(HubNames.FocusChanged, f => f.ParticipantId == benId, RoomTestKit.Generous);
        await therapist.SetFocusAsync(benId);

        // Joining: a newcomer admitted from the waiting room, and Ana's link joining again (a reload), find it.
        var carl = _kit.NewClient("carl", new SessionClientOptions { ReconnectDelays = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)] });
        var carlJoin = await carl.JoinAsync(SessionClient.TokenFromLink(await _kit.Api.InviteAsync(session.Id, "patient", "Carl"))).WaitAsync(RoomTestKit.Generous);
        Assert.Equal("waiting", carlJoin.State);
        await therapist.AdmitAsync(carlJoin.ParticipantId);
        Assert.Equal(benId, (await carl.Admitted.WaitAsync(RoomTestKit.Generous)).Focus);
        var anaAgain = _kit.NewClient("ana-again");
        Assert.Equal(benId, (await anaAgain.JoinAsync(SessionClient.TokenFromLink(anaLink)).WaitAsync(RoomTestKit.Generous)).Focus);
        Assert.Equal(1, FocusEvents(therapist));

        // Away and back: a focus set while Carl's hub connection is away reaches him in Resume's result.
        carl.AbortHub();
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == carlJoin.ParticipantId && p.State == "reconnecting", RoomTestKit.Generous);
        await therapist.SetFocusAsync(anaId);
        await carl.WaitForEventAsync<JoinResultDto>(ClientEvents.Resumed, null, RoomTestKit.Generous);
        Assert.Equal(anaId, carl.JoinResult!.Focus);

        // The therapist's own id puts nobody in focus, as null does.
        await therapist.SetFocusAsync(therapist.ParticipantId);
        foreach (var client in new[] { anaAgain, ben, carl })
            await client.WaitForEventAsync<FocusInfo>(HubNames.FocusChanged, f => f.ParticipantId is null, RoomTestKit.Generous);
        await therapist.SetFocusAsync(carlJoin.ParticipantId);
        await anaAgain.WaitForEventAsync<FocusInfo>(HubNames.FocusChanged, f => f.ParticipantId == carlJoin.ParticipantId, RoomTestKit.Generous);
        await therapist.SetFocusAsync(null);
        await anaAgain.WaitForEventAsync<FocusInfo>(HubNames.FocusChanged, f => f.ParticipantId is null && FocusEvents(anaAgain) == 4, RoomTestKit.Generous);

        // The one in focus leaves: everyone else is told nobody is in focus, and the next JoinResult says so.
        await therapist.SetFocusAsync(benId);
        await anaAgain.WaitForEventAsync<FocusInfo>(HubNames.FocusChanged, f => f.ParticipantId == benId && FocusEvents(anaAgain) == 5, RoomTestKit.Generous);
        var before = new[] { therapist, anaAgain, carl }.Select(c => (Client: c, Count: FocusEvents(c))).ToList();
        await ben.LeaveAsync();
        foreach (var (client, count) in before)
        {
            Assert.True(await RoomTestKit.WaitUntilAsync(() => FocusEvents(client) == count + 1, RoomTestKit.Generous), client.Name);
            Assert.Null(Assert.IsType<FocusInfo>(client.Events.Last(e => e.Name == HubNames.FocusChanged).Payload).ParticipantId);
        }
        var late = _kit.NewClient("late");
        var lateJoin = await late.JoinAsync(SessionClient.TokenFromLink(await _kit.Api.InviteAsync(session.Id, "patient", "Dana"))).WaitAsync(RoomTestKit.Generous);
        Assert.Null(lateJoin.Focus);
        Assert.Contains("HubException: not-found:", await RefusedAsync(() => therapist.SetFocusAsync(benId)));
        // Someone still waiting is not in the room either.
        Assert.Contains("HubException: not-found:", await RefusedAsync(() => therapist.SetFocusAsync(lateJoin.ParticipantId)));
    }

    /// <summary>The media server follows the focus: every leg's budget serves the video of the one in focus first (a
    /// patient's leg otherwise serves the therapist's first), and the role-based order again once nobody is.</summary>
    [Fact]
    public async Task Every_leg_serves_the_video_in_focus_first()
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom: false, title: "focus budget");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var ana = await _kit.JoinAsync("ana", await _kit.Api.InviteAsync(session.Id, "patient", "Ana"));
        var ben = await _kit.JoinAsync("ben", await _kit.Api.InviteAsync(session.Id, "patient", "Ben"));
        await RoomTestKit.WaitReceivingAsync(ana, ben.ParticipantId, audio: false);
        await RoomTestKit.WaitReceivingAsync(ana, therapist.ParticipantId, audio: false);
        await RoomTestKit.WaitReceivingAsync(therapist, ben.ParticipantId, audio: false);
        Assert.True(_kit.Rooms.TryGet(session.Id, out var room));

        // The publisher whose video a leg's budget serves first.
        async Task<string?> FirstServedAsync(SessionClient receiver)
        {
            var leg = (await room.GetLegStatsAsync()).Single(l => l.ParticipantId == receiver.ParticipantId);
            return leg.Subscriptions.SingleOrDefault(s => s.Kind == "video" && s.BudgetRank == 0)?.PublisherId;
        }
        async Task WaitFirstServedAsync(SessionClient receiver, string publisherId, string when) =>
            Assert.True(await RoomTestKit.WaitUntilAsync(async () => await FirstServedAsync(receiver) == publisherId, RoomTestKit.Generous),
                $"{when}: {receiver.Name}'s leg serves {await FirstServedAsync(receiver)} first, want {publisherId}");

        await WaitFirstServedAsync(ana, therapist.ParticipantId, "nobody in focus");
        await therapist.SetFocusAsync(ben.ParticipantId);
        await WaitFirstServedAsync(ana, ben.ParticipantId, "Ben in focus");
        await WaitFirstServedAsync(therapist, ben.ParticipantId, "Ben in focus");
        await therapist.SetFocusAsync(ana.ParticipantId);
        await WaitFirstServedAsync(ben, ana.ParticipantId, "Ana in focus");
        await WaitFirstServedAsync(therapist, ana.ParticipantId, "Ana in focus");
        await therapist.SetFocusAsync(null);
        await WaitFirstServedAsync(ana, therapist.ParticipantId, "focus cleared");
        await WaitFirstServedAsync(ben, therapist.ParticipantId, "focus cleared");
        // Ana in focus leaves: her video goes from Ben's leg, which serves the therapist's first.
        await therapist.SetFocusAsync(ana.ParticipantId);
        await ana.LeaveAsync();
        await WaitFirstServedAsync(ben, therapist.ParticipantId, "the one in focus left");
    }
}
