using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using TeleRehab.LoadTests;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.Sfu;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The therapist's controls driven by C# clients: waiting room and admission, a mute the server enforces,
/// locking, removal, and ending the session with everything cleaned up.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class TherapistControlTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private async Task<SessionClient> WaitAndAdmitAsync(SessionClient therapist, string name, string link)
    {
        var patient = _kit.NewClient(name);
        var result = await patient.JoinAsync(SessionClient.TokenFromLink(link)).WaitAsync(RoomTestKit.Generous);
        Assert.Equal("waiting", result.State);
        Assert.Empty(result.Tracks);
        await therapist.WaitForEventAsync<List<ParticipantInfo>>(HubNames.WaitingRoomChanged, w => w.Any(p => p.Id == result.ParticipantId), RoomTestKit.Generous);
        Assert.False(patient.Admitted.IsCompleted);
        Assert.Null(patient.Media);
        await therapist.AdmitAsync(result.ParticipantId);
        var admitted = await patient.Admitted.WaitAsync(RoomTestKit.Generous);
        Assert.Equal("joined", admitted.State);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => patient.Media is not null, RoomTestKit.Generous));
        await patient.WaitMediaConnectedAsync(RoomTestKit.Generous);
        patient.StartSending(_kit.Pacer);
        return patient;
    }

    [Fact]
    public async Task Waiting_room_admission_enforced_mute_lock_removal_and_end_of_session()
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom: true, title: "controls");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var ana = await WaitAndAdmitAsync(therapist, "ana", await _kit.Api.InviteAsync(session.Id, "patient", "Ana"));
        var ben = await WaitAndAdmitAsync(therapist, "ben", await _kit.Api.InviteAsync(session.Id, "patient", "Ben"));
        foreach (var (receiver, sender) in new[] { (therapist, ana), (therapist, ben), (ana, ben), (ben, ana), (ana, therapist) })
            await RoomTestKit.WaitReceivingAsync(receiver, sender.ParticipantId);

        // Mute: Ana is told, and the server stops forwarding her audio even though her client keeps sending it.
        await therapist.MuteParticipantAsync(ana.ParticipantId, "audio");
        await ana.WaitForEventAsync<KindInfo>(HubNames.MutedByTherapist, k => k.Kind == "audio", RoomTestKit.Generous);
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated, p => p.Id == ana.ParticipantId && p.AudioMuted, RoomTestKit.Generous);
        ana.Sender!.AudioEnabled = true; // a client that ignores the request
        await Task.Delay(1000);
        var muted = therapist.ReceivedFrom(ana.ParticipantId, "audio").Packets;
        var mutedAtBen = ben.ReceivedFrom(ana.ParticipantId, "audio").Packets;
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, ben.ParticipantId, "Ben while Ana is muted");
        Assert.Equal(muted, therapist.ReceivedFrom(ana.ParticipantId, "audio").Packets);
        Assert.Equal(mutedAtBen, ben.ReceivedFrom(ana.ParticipantId, "audio").Packets);
        var video = therapist.ReceivedFrom(ana.ParticipantId, "video").Packets;
        Assert.True(await RoomTestKit.WaitUntilAsync(() => therapist.ReceivedFrom(ana.ParticipantId, "video").Packets > video + 10, RoomTestKit.Generous),
            "Ana's video must keep flowing");
        // Ana unmutes herself: her audio flows again.
        await ana.SetMutedAsync("audio", false);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => therapist.ReceivedFrom(ana.ParticipantId, "audio").Packets > muted + 10, RoomTestKit.Generous));

        // Lock: everyone is told; a new link is refused, people already in stay.
        await therapist.LockRoomAsync(true);
        foreach (var client in new[] { therapist, ana, ben })
            await client.WaitForEventAsync<LockedInfo>(HubNames.RoomLocked, l => l.Locked, RoomTestKit.Generous);
        var late = _kit.NewClient("late");
        var refused = await Assert.ThrowsAsync<HubException>(async () => await late.JoinAsync(SessionClient.TokenFromLink(await _kit.Api.InviteAsync(session.Id, "patient", "Late"))));
        Assert.Contains("forbidden:", refused.Message);

        // Remove Ben: he is told and disconnected; the others see him leave; his link no longer joins.
        await therapist.RemoveParticipantAsync(ben.ParticipantId);
        await ben.WaitForEventAsync<ReasonInfo>(HubNames.Removed, null, RoomTestKit.Generous);
        await ben.Ended.WaitAsync(RoomTestKit.Generous);
        await ana.WaitForEventAsync<ParticipantLeftInfo>(HubNames.ParticipantLeft, l => l.ParticipantId == ben.ParticipantId, RoomTestKit.Generous);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => ana.Tracks.All(t => t.ParticipantId != ben.ParticipantId) && ana.IsNegotiationCurrent, RoomTestKit.Generous));
        await RoomTestKit.AssertKeepsReceivingAsync(ana, therapist.ParticipantId, "after Ben's removal");
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 2, RoomTestKit.Generous), $"server peers {_kit.Host.Media.PeerCount}");

        // End: everyone is told and disconnected, and nothing is left on the server.
        await therapist.EndSessionAsync();
        foreach (var client in new[] { therapist, ana })
        {
            await client.WaitForEventAsync<ReasonInfo>(HubNames.SessionEnded, null, RoomTestKit.Generous);
            await client.Ended.WaitAsync(RoomTestKit.Generous);
            Assert.Empty(client.Errors);
        }
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 0 && _kit.Rooms.RoomCount == 0 && _kit.Coordinator.LiveRoomCount == 0,
            RoomTestKit.Generous), $"peers {_kit.Host.Media.PeerCount}, rooms {_kit.Rooms.RoomCount}, live rooms {_kit.Coordinator.LiveRoomCount}");
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.ServerWorkers.All(w => w.PeerCount == 0) && _kit.Coordinator.SendChainCount == 0, RoomTestKit.Generous),
            $"worker peers {string.Join(",", _kit.ServerWorkers.Select(w => w.PeerCount))}, send chains {_kit.Coordinator.SendChainCount}");
        var json = await _kit.Api.GetAsync(session.Id);
        Assert.NotEqual(JsonValueKind.Null, json.GetProperty("endedAt").ValueKind);
        var again = _kit.NewClient("again");
        var ended = await Assert.ThrowsAsync<HubException>(() => again.JoinAsync(SessionClient.TokenFromLink(session.TherapistLink)));
        Assert.Contains("ended:", ended.Message);
    }

    [Fact]
    public async Task The_therapist_holds_a_patient_in_audio_and_movement_and_lets_it_go()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("hold");

        // Only the therapist, only a patient, only the modes there are; nothing changes on a refused call.
        var forbidden = await Assert.ThrowsAsync<HubException>(() => patient.HoldModeAsync(patient.ParticipantId, "audio+pose"));
        Assert.Contains("forbidden:", forbidden.Message);
        var notPatient = await Assert.ThrowsAsync<HubException>(() => therapist.HoldModeAsync(therapist.ParticipantId, "audio+pose"));
        Assert.Contains("invalid:", notPatient.Message);
        var badMode = await Assert.ThrowsAsync<HubException>(() => therapist.HoldModeAsync(patient.ParticipantId, "hologram"));
        Assert.Contains("invalid:", badMode.Message);
        var nobody = await Assert.ThrowsAsync<HubException>(() => therapist.HoldModeAsync("nobody", "audio+pose"));
        Assert.Contains("not-found:", nobody.Message);
        Assert.DoesNotContain(patient.Events, e => e.Name == HubNames.ModeChanged);

        await therapist.HoldModeAsync(patient.ParticipantId, "audio+pose");
        var mode = await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, null, RoomTestKit.Generous);
        Assert.Equal(new ModeInfo("audio+pose", "therapist", true), mode);
        var seen = await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patient.ParticipantId && p.Mode == "audio+pose", RoomTestKit.Generous);
        Assert.Equal("therapist", seen.ModeReason);

        await therapist.HoldModeAsync(patient.ParticipantId, "auto");
        await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => m is { Mode: "video", Held: false }, RoomTestKit.Generous);
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patient.ParticipantId && p.Mode == "video" && p.ModeReason == "", RoomTestKit.Generous);
    }

    /// <summary>The control plane's side of the weak-link ladder (docs/weak-links.md): the media plane's decisions are
    /// raised here as the SFU raises them; the links themselves are the browser tests' (tests/Congestion).</summary>
    [Fact]
    public async Task The_ladder_moves_a_patient_unless_the_therapist_holds_it_and_a_weak_spell_sets_every_voice()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("ladder");
        var media = Assert.Single(_kit.Rooms.Rooms);
        IRoomListener listener = _kit.Coordinator;

        // The ladder steps the patient down: the page is told why, the therapist sees it.
        listener.OnUplinkMode(media, patient.ParticipantId, UplinkMode.AudioPose, UplinkModeDecider.WeakUplink, 0);
        Assert.Equal(new ModeInfo("audio+pose", "weak-uplink", false),
            await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, null, RoomTestKit.Generous));
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patient.ParticipantId && p is { Mode: "audio+pose", ModeReason: "weak-uplink" }, RoomTestKit.Generous);

        // A trial: the page hears of it.
        listener.OnUplinkMode(media, patient.ParticipantId, UplinkMode.AudioPose, UplinkModeDecider.WeakUplink, 60_000);
        await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => m.TrialKbps == 60, RoomTestKit.Generous);

        // The weak spell reaches every voice, a starved link's rung too, and its end.
        listener.OnVoiceRung(media, VoiceRung.Weak);
        foreach (var client in new[] { therapist, patient })
            Assert.Equal(new AudioRateInfo(12, 60, "weak-link", 8), await client.WaitForEventAsync<AudioRateInfo>(HubNames.AudioRate, null, RoomTestKit.Generous));
        listener.OnVoiceRung(media, VoiceRung.Starved);
        foreach (var client in new[] { therapist, patient })
            await client.WaitForEventAsync<AudioRateInfo>(HubNames.AudioRate, a => a == new AudioRateInfo(8, 120, "very-weak-link", 4), RoomTestKit.Generous);
        listener.OnVoiceRung(media, VoiceRung.Normal);
        foreach (var client in new[] { therapist, patient })
            await client.WaitForEventAsync<AudioRateInfo>(HubNames.AudioRate, a => a is { MaxKbps: 0, PacketTimeMs: 20 }, RoomTestKit.Generous);

        // The therapist holds the patient: the ladder's recovery waits; released, the patient gets what the ladder says.
        await therapist.HoldModeAsync(patient.ParticipantId, "audio+pose");
        await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => m.Held, RoomTestKit.Generous);
        var before = patient.Events.Count(e => e.Name == HubNames.ModeChanged);
        listener.OnUplinkMode(media, patient.ParticipantId, UplinkMode.Video, UplinkModeDecider.Recovered, 0);
        await therapist.HoldModeAsync(patient.ParticipantId, "auto");
        Assert.Equal(new ModeInfo("video", "recovered", false),
            await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => !m.Held && m.Mode == "video", RoomTestKit.Generous));
        Assert.Equal(before + 1, patient.Events.Count(e => e.Name == HubNames.ModeChanged));
    }
}
