using Microsoft.AspNetCore.SignalR;
using TeleRehab.LoadTests;
using TeleRehab.Signaling.Sessions;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>A participant whose hub connection drops keeps its place and its media for the grace period, and takes the
/// place back on a new connection with its link's token and resume id (docs/signalling.md, "Reconnecting"); past the
/// grace it is gone as after a Leave; a wrong token or resume id is refused and changes nothing for anyone.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class ReconnectTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_kit is not null) await _kit.DisposeAsync();
    }

    private async Task StartAsync(params (string Key, string Value)[] settings) => _kit = await RoomTestKit.StartAsync(output, settings);

    private static List<ParticipantInfo> UpdatesOf(SessionClient client, string participantId) =>
        client.Events.Where(e => e.Name == HubNames.ParticipantUpdated && e.Payload is ParticipantInfo p && p.Id == participantId)
            .Select(e => (ParticipantInfo)e.Payload!).ToList();

    /// <summary>Nobody joined, left, changed tracks or controls: the only news about <paramref name="participantId"/>
    /// were updates of its state (and of its link's quality).</summary>
    private static void AssertOnlyStateUpdates(IEnumerable<HubEvent> events, string participantId, params string[] states)
    {
        foreach (var e in events)
        {
            Assert.DoesNotContain(e.Name, new[] { HubNames.ParticipantLeft, HubNames.ParticipantJoined, HubNames.TracksChanged,
                HubNames.WaitingRoomChanged, HubNames.RoomLocked, HubNames.Removed, HubNames.SessionEnded, HubNames.Replaced });
            if (e.Payload is not ParticipantInfo p) continue;
            if (p.Id != participantId) Assert.Equal("connected", p.State);
            else if (states.Length > 0) Assert.Contains(p.State, states);
        }
    }

    [Fact]
    public async Task A_dropped_hub_connection_comes_back_to_the_same_place_while_media_keeps_flowing()
    {
        await StartAsync();
        // The patient waits 3 s before connecting again: long enough to watch the room while it is away.
        var patientOptions = new SessionClientOptions { ReconnectDelays = [TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1)] };
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "reconnect");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var patient = await _kit.JoinAsync("patient", session.PatientLink!, patientOptions);
        await RoomTestKit.WaitReceivingAsync(therapist, patient.ParticipantId);
        await RoomTestKit.WaitReceivingAsync(patient, therapist.ParticipantId);
        var patientId = patient.ParticipantId;
        var firstResumeId = patient.JoinResult!.ResumeId;
        Assert.Equal(32, firstResumeId.Length);
        Assert.Equal(60, patient.JoinResult.ReconnectGraceSeconds);

        // The therapist holds the patient in audio + movement: a control that must outlive the drop.
        await therapist.HoldModeAsync(patientId, "audio+pose");
        await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => m is { Mode: "audio+pose", Held: true }, RoomTestKit.Generous);
        var modeChanges = patient.Events.Count(e => e.Name == HubNames.ModeChanged);
        var therapistEvents = therapist.Events.Count;

        patient.AbortHub(); // the TCP connection is cut: no close frame, no Leave

        var away = await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patientId && p.State == "reconnecting", RoomTestKit.Generous);
        Assert.Equal("therapist", away.ModeReason);
        Assert.Equal("reconnecting", patient.Connection);
        Assert.Equal(1, _kit.Coordinator.ReconnectingCount);
        // Media flows both ways while the hub connection is away.
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patientId, "while the patient's hub connection is away", more: 20);
        await RoomTestKit.AssertKeepsReceivingAsync(patient, therapist.ParticipantId, "while its own hub connection is away", more: 20);

        // Back on a new connection: the same place, the held mode told again, the same media connection.
        await patient.WaitForEventAsync<JoinResultDto>(ClientEvents.Resumed, null, RoomTestKit.Generous);
        var resumed = patient.JoinResult!;
        Assert.Equal(patientId, resumed.ParticipantId);
        Assert.Equal("patient", resumed.Role);
        Assert.Equal("joined", resumed.State);
        Assert.True(resumed.KeepMedia);
        Assert.Equal(firstResumeId, resumed.ResumeId);
        Assert.Equal("connected", patient.Connection);
        Assert.Contains(resumed.Tracks, t => t.ParticipantId == therapist.ParticipantId && t.Kind == "video");
        Assert.Equal("therapist", resumed.Participants.Single(p => p.Id == patientId).ModeReason);
        await RoomTestKit.WaitUntilAsync(() => patient.Events.Count(e => e.Name == HubNames.ModeChanged) > modeChanges, RoomTestKit.Generous);
        var mode = patient.Events.Where(e => e.Name == HubNames.ModeChanged).Select(e => (ModeInfo)e.Payload!).Last();
        Assert.Equal(new ModeInfo("audio+pose", "therapist", true), mode);
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patientId && p.State == "connected" && p.ModeReason == "therapist", RoomTestKit.Generous);
        Assert.Equal(0, _kit.Coordinator.ReconnectingCount);

        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patientId, "after the resume");
        await RoomTestKit.AssertKeepsReceivingAsync(patient, therapist.ParticipantId, "after the resume");
        Assert.Equal(2, _kit.Host.Media.PeerCount); // the same peer connections, none left behind
        Assert.Equal(1, patient.Resumes);
        AssertOnlyStateUpdates(therapist.Events.Skip(therapistEvents), patientId);
        Assert.Equal("connected", (await _kit.RegistryStatesAsync(session.Id))[patientId]);
        Assert.Empty(patient.Errors);
        Assert.Empty(therapist.Errors);
        Assert.False(patient.Ended.IsCompleted);

        // The controls work on the new connection: the therapist lets the mode go, the patient hears of it.
        await therapist.HoldModeAsync(patientId, "auto");
        await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => m is { Held: false, Mode: "video" }, RoomTestKit.Generous);
    }

    [Fact]
    public async Task A_resumed_connection_counts_as_joined_for_the_time_to_join()
    {
        await StartAsync(("TeleRehab:Limits:HubJoinSeconds", "1"));
        var (_, therapist, patient) = await _kit.StartPairAsync("join-deadline");
        patient.AbortHub();
        await patient.WaitForEventAsync<JoinResultDto>(ClientEvents.Resumed, r => r.KeepMedia, RoomTestKit.Generous);

        await Task.Delay(TimeSpan.FromSeconds(2.5)); // past the time a connection has to join
        Assert.Equal("connected", patient.Connection);
        Assert.Single(patient.Events, e => e.Name == ClientEvents.Reconnecting);
        Assert.False(patient.Ended.IsCompleted);
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patient.ParticipantId, "after the resume");
    }

    [Fact]
    public async Task A_participant_who_does_not_come_back_within_the_grace_period_is_gone_and_its_link_joins_again()
    {
        await StartAsync(("TeleRehab:Rooms:ReconnectGraceSeconds", "2"));
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "grace");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        // The patient's client would connect again only after minutes (and keeps its media meanwhile: a client that
        // closes its media at once may be reported gone by its media before its hub connection is seen to drop).
        var patient = await _kit.JoinAsync("patient", session.PatientLink!, new SessionClientOptions { ReconnectDelays = [TimeSpan.FromMinutes(5)] });
        await RoomTestKit.WaitReceivingAsync(therapist, patient.ParticipantId);
        var patientId = patient.ParticipantId;
        var resumeId = patient.JoinResult!.ResumeId;

        patient.AbortHub();
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated, p => p.Id == patientId && p.State == "reconnecting", RoomTestKit.Generous);
        var left = await therapist.WaitForEventAsync<ParticipantLeftInfo>(HubNames.ParticipantLeft, l => l.ParticipantId == patientId, RoomTestKit.Generous);
        Assert.Contains("did not reconnect", left.Reason);
        await therapist.WaitForEventAsync<List<TrackInfoDto>>(HubNames.TracksChanged, tracks => tracks.All(t => t.ParticipantId != patientId), RoomTestKit.Generous);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 1, RoomTestKit.Generous), $"server peers {_kit.Host.Media.PeerCount}");
        Assert.Equal("left", (await _kit.RegistryStatesAsync(session.Id))[patientId]);
        Assert.Equal(0, _kit.Coordinator.ReconnectingCount);

        // Too late to resume: a clear refusal, nothing else happens.
        var late = _kit.NewClient("late", new SessionClientOptions { AutoNegotiate = false, Reconnect = false });
        await late.ConnectAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() =>
            late.InvokeAsync<JoinResultDto>(HubNames.Resume, new ResumeRequestDto(SessionClient.TokenFromLink(session.PatientLink!), resumeId)));
        Assert.Contains("not-found:", refused.Message);

        // The link itself still works: a fresh join gets the same participant back, media flows.
        var again = await _kit.JoinAsync("patient-again", session.PatientLink!);
        Assert.Equal(patientId, again.ParticipantId);
        Assert.NotEqual(resumeId, again.JoinResult!.ResumeId);
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patientId, "from the link joined again");
        await RoomTestKit.WaitReceivingAsync(again, therapist.ParticipantId);
        Assert.Equal(2, _kit.Host.Media.PeerCount);
    }

    [Fact]
    public async Task A_stranger_or_a_wrong_resume_id_is_refused_and_disturbs_nobody_then_the_owner_resumes()
    {
        await StartAsync();
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "strangers");
        var other = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "another session");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        // The patient's client would connect again only after minutes: its media carries on meanwhile, and the test resumes
        // its place from a new connection of its own.
        var patient = await _kit.JoinAsync("patient", session.PatientLink!, new SessionClientOptions { ReconnectDelays = [TimeSpan.FromMinutes(5)] });
        await RoomTestKit.WaitReceivingAsync(therapist, patient.ParticipantId);
        var patientId = patient.ParticipantId;
        var patientToken = SessionClient.TokenFromLink(session.PatientLink!);
        var resumeId = patient.JoinResult!.ResumeId;

        patient.AbortHub();
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated, p => p.Id == patientId && p.State == "reconnecting", RoomTestKit.Generous);
        var therapistEvents = therapist.Events.Count;

        var stranger = _kit.NewClient("stranger", new SessionClientOptions { AutoNegotiate = false, Reconnect = false });
        await stranger.ConnectAsync();
        async Task<string> RefusedAsync(object? request)
        {
            var error = await Assert.ThrowsAsync<HubException>(() => stranger.InvokeAsync<JoinResultDto>(HubNames.Resume, request));
            output.WriteLine(error.Message);
            return error.Message;
        }
        Assert.Contains("forbidden:", await RefusedAsync(new ResumeRequestDto(patientToken, "0123456789abcdef0123456789abcdef")));
        Assert.Contains("forbidden:", await RefusedAsync(new ResumeRequestDto(patientToken, resumeId.ToUpperInvariant())));
        // The therapist's own link with the patient's resume id: not the therapist's seat's id.
        Assert.Contains("forbidden:", await RefusedAsync(new ResumeRequestDto(SessionClient.TokenFromLink(session.TherapistLink), resumeId)));
        Assert.Contains("unauthorized:", await RefusedAsync(new ResumeRequestDto(patientToken[..^4] + "AAAA", resumeId)));
        Assert.Contains("unauthorized:", await RefusedAsync(new ResumeRequestDto("not a token", resumeId)));
        Assert.Contains("not-found:", await RefusedAsync(new ResumeRequestDto(SessionClient.TokenFromLink(other.PatientLink!), resumeId)));
        Assert.Contains("invalid:", await RefusedAsync(new ResumeRequestDto(patientToken, "")));
        Assert.Contains("invalid:", await RefusedAsync(new ResumeRequestDto(patientToken, new string('a', 10_000))));
        Assert.Contains("invalid:", await RefusedAsync(null));
        // Signed by this server, but a role the invitation does not have.
        var otherRole = _kit.Tokens.Issue(session.Id, patientId, ParticipantRole.Therapist, "Mallory");
        Assert.Contains("unauthorized:", await RefusedAsync(new ResumeRequestDto(otherRole, resumeId)));

        // Nobody noticed: the seat still waits for its owner, the therapist got no event, media flows.
        await Task.Delay(300);
        AssertOnlyStateUpdates(therapist.Events.Skip(therapistEvents), patientId, "reconnecting");
        Assert.Equal(1, _kit.Coordinator.ReconnectingCount);
        Assert.True(2 == _kit.Host.Media.PeerCount, $"server peers {_kit.Host.Media.PeerCount}");
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patientId, "after the refused resumes");
        Assert.False(stranger.Ended.IsCompleted);

        // The owner comes back on a new connection: the same place and the same media connection.
        var back = _kit.NewClient("patient-back", new SessionClientOptions { AutoNegotiate = false, Reconnect = false });
        await back.ConnectAsync();
        var result = await back.InvokeAsync<JoinResultDto>(HubNames.Resume, new ResumeRequestDto(patientToken, resumeId));
        Assert.Equal(patientId, result.ParticipantId);
        Assert.True(result.KeepMedia);
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated, p => p.Id == patientId && p.State == "connected", RoomTestKit.Generous);
        // A connection that has joined cannot resume, and the place cannot be resumed twice from elsewhere.
        Assert.Contains("conflict:", (await Assert.ThrowsAsync<HubException>(() =>
            back.InvokeAsync<JoinResultDto>(HubNames.Resume, new ResumeRequestDto(patientToken, resumeId)))).Message);
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patientId, "after the owner resumed");
        await RoomTestKit.AssertKeepsReceivingAsync(patient, therapist.ParticipantId, "after the owner resumed");
        Assert.Equal(2, _kit.Host.Media.PeerCount);
        Assert.DoesNotContain(therapist.Events, e => e.Name == HubNames.ParticipantLeft);
    }

    [Fact]
    public async Task A_second_window_with_the_same_link_takes_over_visibly_and_the_first_cannot_take_it_back()
    {
        await StartAsync();
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "two windows");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var first = await _kit.JoinAsync("patient-window1", session.PatientLink!);
        await RoomTestKit.WaitReceivingAsync(therapist, first.ParticipantId);
        var firstResumeId = first.JoinResult!.ResumeId;

        var second = await _kit.JoinAsync("patient-window2", session.PatientLink!);
        Assert.Equal(first.ParticipantId, second.ParticipantId);
        Assert.NotEqual(firstResumeId, second.JoinResult!.ResumeId);
        var ended = await first.Ended.WaitAsync(RoomTestKit.Generous);
        Assert.StartsWith("replaced:", ended);
        Assert.Equal(0, first.Resumes);

        // The first window's resume id no longer opens the seat.
        var retry = _kit.NewClient("window1-retry", new SessionClientOptions { AutoNegotiate = false, Reconnect = false });
        await retry.ConnectAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => retry.InvokeAsync<JoinResultDto>(HubNames.Resume,
            new ResumeRequestDto(SessionClient.TokenFromLink(session.PatientLink!), firstResumeId)));
        Assert.Contains("forbidden:", refused.Message);
        await RoomTestKit.WaitReceivingAsync(second, therapist.ParticipantId);
        await RoomTestKit.AssertKeepsReceivingAsync(second, therapist.ParticipantId, "the second window after the refusal");
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 2, RoomTestKit.Generous), $"server peers {_kit.Host.Media.PeerCount}");
    }

    [Fact]
    public async Task Media_lost_while_away_keeps_the_place_and_the_resumed_client_connects_new_media()
    {
        await StartAsync(("TeleRehab:Media:ConsentTimeoutSeconds", "2"));
        var checking = new SessionClientOptions { ConsentInterval = TimeSpan.FromMilliseconds(300) };
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "network gone");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink, checking);
        // Connects again only after the server has given its media connection up (consent, 2 s).
        var patient = await _kit.JoinAsync("patient", session.PatientLink!, checking with { ReconnectDelays = [TimeSpan.FromSeconds(6)] });
        await RoomTestKit.WaitReceivingAsync(therapist, patient.ParticipantId);
        await RoomTestKit.WaitReceivingAsync(patient, therapist.ParticipantId);
        var patientId = patient.ParticipantId;

        // The whole network goes: hub and media. The media connection times out, the place stays.
        patient.VanishMedia();
        patient.AbortHub();
        await therapist.WaitForEventAsync<List<TrackInfoDto>>(HubNames.TracksChanged, tracks => tracks.All(t => t.ParticipantId != patientId), RoomTestKit.Generous);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 1, RoomTestKit.Generous));
        Assert.Equal(1, _kit.Coordinator.ReconnectingCount);

        // The client comes back, hears that its media connection is gone, and connects a new one: media flows again.
        await patient.WaitForEventAsync<JoinResultDto>(ClientEvents.Resumed, r => !r.KeepMedia, RoomTestKit.Generous);
        Assert.Equal(patientId, patient.ParticipantId);
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated, p => p.Id == patientId && p.State == "connected", RoomTestKit.Generous);
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patientId, "from the new media connection");
        await RoomTestKit.AssertKeepsReceivingAsync(patient, therapist.ParticipantId, "on the new media connection");
        Assert.Equal(2, _kit.Host.Media.PeerCount);
        Assert.DoesNotContain(therapist.Events, e => e.Name == HubNames.ParticipantLeft);
        Assert.Equal(0, _kit.Coordinator.ReconnectingCount);
        Assert.Empty(patient.Errors);
    }
}
