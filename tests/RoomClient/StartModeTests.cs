using Microsoft.AspNetCore.SignalR;
using TeleRehab.LoadTests;
using TeleRehab.Media.Sfu;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The weak-link ladder told by the patient's page (docs/weak-links.md, "Evidence from the page"): the
/// pre-session check's start in audio + pose (<c>Negotiate</c>'s <c>startMode</c>) and the page's own evidence
/// (<c>ReportWeakUplink</c>), with their bad input. The ladder's trials run here on a short clock: the C# patient keeps
/// sending its synthetic video (about 60 kbit/s) whatever it is told, so a trial sees video arrive and succeeds.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class StartModeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync()
    {
        _kit = await RoomTestKit.StartAsync(output);
        // A ladder that tries video 2 s after a step down, for 2 s, and takes the synthetic camera's rate as a layer's.
        // The loopback link has no queue: what the meter reads as one is the machine's scheduling when the suite loads
        // it, so only a queue of seconds counts, a failed trial is tried again 2 s later, and the link is never taken
        // for starved (in one CI run a trial failed on such a reading and the next never came within 30 s).
        _kit.Rooms.UplinkMode = new UplinkModeOptions
        {
            LowestVideoBps = 20_000, FirstTrialAfter = TimeSpan.FromSeconds(2), MaxTrialWait = TimeSpan.FromSeconds(2),
            TrialDuration = TimeSpan.FromSeconds(2), TrialEarlyVerdict = TimeSpan.FromSeconds(1),
            CongestedDelay = TimeSpan.FromSeconds(2), SevereDelay = TimeSpan.FromSeconds(5), TrialAbortDelay = TimeSpan.FromSeconds(2),
            CongestedLoss = 0.5, StarvedAfter = TimeSpan.FromHours(1), StarvedLoss = 1,
        };
    }

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private static async Task<string> RefusedAsync(Func<Task> call, string code)
    {
        var error = await Assert.ThrowsAsync<HubException>(call);
        Assert.Contains(code, error.Message);
        return error.Message;
    }

    private static NegotiateRequestDto Offer(string startMode) => new("v=0\r\n", [], startMode);

    [Fact]
    public async Task A_patient_whose_check_found_a_weak_link_starts_in_audio_and_movement_and_a_trial_brings_video_back()
    {
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "start mode");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);

        // Only a patient starts in audio + pose, and only in the modes there are; a refused Negotiate changes nothing.
        var notPatient = await RefusedAsync(() => therapist.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, Offer("audio+pose")), "invalid:");
        Assert.Contains("only a patient", notPatient);
        var patient = _kit.NewClient("patient", new SessionClientOptions { AutoNegotiate = false, StartMode = "audio+pose" });
        Assert.Equal("joined", (await patient.JoinAsync(SessionClient.TokenFromLink(session.PatientLink!)).WaitAsync(RoomTestKit.Generous)).State);
        foreach (var bad in new[] { "hologram", "AUDIO+POSE", "audio + pose", new string('x', 10_000) })
        {
            var refused = await RefusedAsync(() => patient.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, Offer(bad)), "invalid:");
            Assert.Contains("startMode", refused);
        }
        // Before any media: nothing for the ladder to take.
        Assert.Contains("Negotiate first", await RefusedAsync(() => patient.ReportWeakUplinkAsync(30, 20, 900), "conflict:"));
        Assert.DoesNotContain(patient.Events, e => e.Name == HubNames.ModeChanged);
        Assert.Equal(1, Assert.Single(_kit.Rooms.Rooms).ParticipantCount); // the therapist alone has media

        // The first Negotiate with the check's start mode: audio + pose for "check", the page and the therapist told.
        await patient.NegotiateAsync();
        // The answer carries the ladder's thresholds, which the patient's page judges its own evidence by.
        Assert.Equal(new UplinkLadderInfo(20_000, 5), patient.Ladder);
        Assert.Null(therapist.Ladder);
        await patient.WaitMediaConnectedAsync(RoomTestKit.Generous);
        patient.StartSending(_kit.Pacer);
        Assert.Equal(new ModeInfo("audio+pose", "check", false),
            await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, null, RoomTestKit.Generous));
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patient.ParticipantId && p is { Mode: "audio+pose", ModeReason: "check" }, RoomTestKit.Generous);
        // A weak link in the room: every voice is asked to be frugal, as for the ladder's own step down.
        await therapist.WaitForEventAsync<AudioRateInfo>(HubNames.AudioRate, a => a.MaxKbps == 12, RoomTestKit.Generous);

        // The ladder's usual trial, then video back ("recovered") on this loopback link.
        await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => m is { Mode: "audio+pose", TrialKbps: > 0 }, RoomTestKit.Generous);
        Assert.Equal(new ModeInfo("video", "recovered", false),
            await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => m.Mode == "video", RoomTestKit.Generous));
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patient.ParticipantId && p is { Mode: "video", ModeReason: "recovered" }, RoomTestKit.Generous);
        Assert.Empty(patient.Errors);
        Assert.Empty(therapist.Errors);
    }

    [Fact]
    public async Task A_patients_page_reports_a_weak_uplink_and_the_ladder_adopts_it_with_its_trials()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("report");

        // Bad reports: from the therapist, with figures no link has, or none; nothing changes.
        Assert.Contains("only a patient", await RefusedAsync(() => therapist.ReportWeakUplinkAsync(30, 20, 900), "invalid:"));
        foreach (var (estimate, video, rtt) in new[] { (-1, 20, 900), (30, -5, 900), (30, 20, -1), (2_000_000, 20, 900), (30, 20, 120_000) })
            Assert.Contains("estimateKbps", await RefusedAsync(() => patient.ReportWeakUplinkAsync(estimate, video, rtt), "invalid:"));
        await RefusedAsync(() => patient.InvokeAsync(HubNames.ReportWeakUplink, [null]), "invalid:");
        await Task.Delay(500);
        Assert.DoesNotContain(patient.Events, e => e.Name == HubNames.ModeChanged);

        // A report: the ladder adopts audio + pose for "device"; the page and the therapist hear it as of the ladder's own.
        await patient.ReportWeakUplinkAsync(40, 25, 950);
        Assert.Equal(new ModeInfo("audio+pose", "device", false),
            await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, null, RoomTestKit.Generous));
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patient.ParticipantId && p is { Mode: "audio+pose", ModeReason: "device" }, RoomTestKit.Generous);
        // Again while down: accepted, nothing new.
        await patient.ReportWeakUplinkAsync(40, 25, 950);
        Assert.Single(patient.Events, e => e.Name == HubNames.ModeChanged && e.Payload is ModeInfo { Reason: "device", TrialKbps: 0 });

        // The usual trials bring video back when the link carries it (the hub was slow, not the radio).
        Assert.Equal(new ModeInfo("video", "recovered", false),
            await patient.WaitForEventAsync<ModeInfo>(HubNames.ModeChanged, m => m.Mode == "video", RoomTestKit.Generous));
        Assert.Empty(patient.Errors);
    }
}
