using Microsoft.Playwright;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Rooms;

/// <summary>Therapy rooms end to end in real browsers: headless Chromium pages open the join links, the signalling
/// hub coordinates them and the SFU forwards their fake cameras and microphones.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserRoomTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "test-operator-key";
    private static readonly TimeSpan DecodeWithin = TimeSpan.FromSeconds(10);

    private AppHost _host = null!;
    private SessionApiClient _api = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private readonly List<BrowserParticipant> _people = [];

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync(("TeleRehab:OperatorApiKey", ApiKey), ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        _api = new SessionApiClient(_host, ApiKey);
        (_playwright, _browser) = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var person in _people) await person.DisposeAsync();
        await _browser.DisposeAsync();
        _playwright.Dispose();
        _api.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<BrowserParticipant> OpenAsync(string name, string link)
    {
        var person = await BrowserParticipant.OpenAsync(_browser, name, BrowserParticipant.WithoutPose(link), output);
        _people.Add(person);
        return person;
    }

    [Fact]
    public async Task One_to_one_therapist_and_patient_decode_each_others_audio_and_video()
    {
        var session = await _api.CreateAsync("one-to-one", waitingRoom: false);
        var therapist = await OpenAsync("therapist", session.TherapistLink);
        var patient = await OpenAsync("patient", session.PatientLink!);
        await therapist.WaitForScreenAsync("call");
        await patient.WaitForScreenAsync("call");
        var therapistId = await therapist.ParticipantIdAsync();
        var patientId = await patient.ParticipantIdAsync();

        await Task.WhenAll(therapist.WaitDecodesAsync([patientId], DecodeWithin), patient.WaitDecodesAsync([therapistId], DecodeWithin));

        // Each page shows the other's connection quality: on loopback it is good, from the server's view of the
        // uplink (ParticipantUpdated) and from what the page receives.
        await therapist.Page.WaitForFunctionAsync($"() => document.querySelector('[data-testid=\"quality-{patientId}\"]')?.dataset.quality === 'good'",
            null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        Assert.Equal("good", await therapist.Page.EvaluateAsync<string>($"() => window.telerehab.state.participants.get('{patientId}').quality"));
        // Its tooltip tells what the page decodes of the patient, the layer the server sends (LinkStats) and, for the
        // therapist, the patient's downlink.
        var tooltip = $"document.querySelector('[data-testid=\"quality-{patientId}\"]')?.title ?? ''";
        await therapist.Page.WaitForFunctionAsync($"() => {{ const t = {tooltip}; return /receiving \\d+x\\d+ at \\d+ fps/.test(t)"
            + " && /server sends layer (S\\d+T\\d+|all)/.test(t) && /their downlink:/.test(t); }",
            null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        output.WriteLine(await therapist.Page.EvaluateAsync<string>($"() => {tooltip}"));

        var state = await _api.GetAsync(session.Id);
        var joined = state.GetProperty("participants").EnumerateArray().Where(p => p.GetProperty("role").GetString() != "observer").ToList();
        Assert.Equal(2, joined.Count);
        Assert.All(joined, p => Assert.Equal("connected", p.GetProperty("state").GetString()));

        // The patient reloads the page (no goodbye): the new connection replaces the old one, media flows again.
        await Task.Delay(1000);
        var beforeReload = await therapist.InboundAsync();
        await patient.RejoinAsync();
        await patient.WaitForScreenAsync("call");
        await Task.WhenAll(therapist.WaitDecodesAsync([patientId], DecodeWithin * 2, beforeReload), patient.WaitDecodesAsync([therapistId], DecodeWithin * 2));

        // The metrics see the room and its media.
        using var http = _host.CreateClient();
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Equal(1, Metric(metrics, "telerehab_rooms"));
        Assert.Equal(2, Metric(metrics, "telerehab_participants"));
        Assert.Equal(2, Metric(metrics, "telerehab_tracks{kind=\"video\"}"));
        Assert.True(Metric(metrics, "telerehab_packets_in_total{kind=\"video\"}") > 0);
        Assert.True(Metric(metrics, "telerehab_packets_out_total{kind=\"audio\"}") > 0);
        Assert.True(Metric(metrics, "telerehab_forwarding_delay_seconds_count") > 0);
        // Both pages ran whole under the app's Content-Security-Policy (no inline script, no framing).
        Assert.Empty(therapist.CspViolations);
        Assert.Empty(patient.CspViolations);
    }

    private static double Metric(string exposition, string name)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"metric {name} not found in /metrics");
    }

    [Fact]
    public async Task Group_of_therapist_and_three_patients_everyone_decodes_everyone_and_a_patient_rejoins()
    {
        var session = await _api.CreateAsync("group", waitingRoom: false, title: "Balance class");
        Assert.Null(session.PatientLink);
        var people = new List<BrowserParticipant> { await OpenAsync("therapist", session.TherapistLink) };
        for (var i = 1; i <= 3; i++) people.Add(await OpenAsync($"patient{i}", await _api.InviteAsync(session.Id, "patient", $"Patient {i}")));
        foreach (var person in people) await person.WaitForScreenAsync("call");
        var ids = new List<string>();
        foreach (var person in people) ids.Add(await person.ParticipantIdAsync());

        await Task.WhenAll(people.Select((person, i) => person.WaitDecodesAsync(ids.Where((_, j) => j != i), DecodeWithin * 2)));

        // Patient 3 leaves; the others keep receiving each other.
        var leaver = people[3];
        await leaver.Page.GetByTestId("leave-button").ClickAsync();
        await leaver.WaitForScreenAsync("ended");
        // The renegotiation that follows a leave may hold a picture for a moment on four pages sharing two cores (one
        // fresh-clone run saw no new frame within 2 s): the counts must grow within a generous 10 s.
        var before = await people[0].InboundAsync();
        var after = before;
        for (var waited = 0; waited < 10 && !ids.Take(3).Skip(1).All(id => after[id].FramesDecoded > before[id].FramesDecoded
                 && after[id].AudioPacketsReceived > before[id].AudioPacketsReceived); waited++)
        {
            await Task.Delay(1000);
            after = await people[0].InboundAsync();
        }
        foreach (var id in ids.Take(3).Skip(1))
        {
            Assert.True(after[id].FramesDecoded > before[id].FramesDecoded, $"therapist stopped decoding {id} after a patient left");
            Assert.True(after[id].AudioPacketsReceived > before[id].AudioPacketsReceived, $"therapist stopped hearing {id} after a patient left");
        }

        // The same link joins again: everyone decodes everyone once more.
        await leaver.RejoinAsync();
        await leaver.WaitForScreenAsync("call");
        Assert.Equal(ids[3], await leaver.ParticipantIdAsync());
        await Task.WhenAll(people.Select((person, i) => person.WaitDecodesAsync(ids.Where((_, j) => j != i), DecodeWithin * 2)));
    }

    [Fact]
    public async Task Waiting_room_patient_waits_until_the_therapist_admits_them()
    {
        var session = await _api.CreateAsync("one-to-one", waitingRoom: true);
        var therapist = await OpenAsync("therapist", session.TherapistLink);
        await therapist.WaitForScreenAsync("call");
        var patient = await OpenAsync("patient", session.PatientLink!);
        await patient.WaitForScreenAsync("waiting");

        var waiting = therapist.Page.Locator("[data-testid^='admit-']");
        await waiting.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 10_000 });
        await Task.Delay(500);
        Assert.Equal("waiting", await patient.ScreenAsync());

        await waiting.First.ClickAsync();
        await patient.WaitForScreenAsync("call");
        var patientId = await patient.ParticipantIdAsync();
        var therapistId = await therapist.ParticipantIdAsync();
        await Task.WhenAll(therapist.WaitDecodesAsync([patientId], DecodeWithin), patient.WaitDecodesAsync([therapistId], DecodeWithin));
    }

    [Fact]
    public async Task Therapist_mutes_and_removes_a_patient_and_a_patient_cannot()
    {
        var session = await _api.CreateAsync("group", waitingRoom: false);
        var therapist = await OpenAsync("therapist", session.TherapistLink);
        var alice = await OpenAsync("alice", await _api.InviteAsync(session.Id, "patient", "Alice"));
        var bob = await OpenAsync("bob", await _api.InviteAsync(session.Id, "patient", "Bob"));
        foreach (var person in new[] { therapist, alice, bob }) await person.WaitForScreenAsync("call");
        var aliceId = await alice.ParticipantIdAsync();
        var bobId = await bob.ParticipantIdAsync();
        await therapist.WaitDecodesAsync([aliceId, bobId], DecodeWithin);

        // A patient trying a therapist control gets an error, and nothing happens.
        var error = await alice.Page.EvaluateAsync<string>(
            "id => window.telerehab.invoke('RemoveParticipant', id).then(() => 'no error', e => String(e.message))", bobId);
        Assert.Contains("forbidden", error);
        var muteError = await alice.Page.EvaluateAsync<string>(
            "id => window.telerehab.invoke('MuteParticipant', { participantId: id, kind: 'audio' }).then(() => 'no error', e => String(e.message))", bobId);
        Assert.Contains("forbidden", muteError);
        Assert.Equal("call", await bob.ScreenAsync());

        // The therapist mutes Bob: Bob is told, and the server stops forwarding his audio.
        await therapist.Page.GetByTestId($"mute-{bobId}").ClickAsync();
        await bob.Page.WaitForFunctionAsync("() => (window.telerehab.state.notice ?? '').includes('muted')", null,
            new PageWaitForFunctionOptions { Timeout = 10_000 });
        await Task.Delay(1000); // packets already in flight
        var before = await therapist.InboundAsync();
        await Task.Delay(2000);
        var after = await therapist.InboundAsync();
        Assert.Equal(before[bobId].AudioPacketsReceived, after[bobId].AudioPacketsReceived);
        Assert.True(after[aliceId].AudioPacketsReceived > before[aliceId].AudioPacketsReceived, "Alice's audio must keep flowing");

        // The therapist removes Bob: his page ends, the others see him leave, and his link no longer joins.
        await therapist.Page.GetByTestId($"remove-{bobId}").ClickAsync();
        await bob.WaitForScreenAsync("ended");
        await therapist.Page.Locator($"[data-testid='tile-{bobId}']").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached, Timeout = 10_000 });
        await bob.RejoinAsync();
        await bob.WaitForScreenAsync("error");
        Assert.Contains("removed", await bob.Page.GetByTestId("join-error").InnerTextAsync());
    }

    [Fact]
    public async Task Demo_page_starts_a_session_whose_links_work()
    {
        var context = await _browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_host.BaseAddress, "/").ToString());
        Assert.Matches("^/check\\?lang=[a-z]+$", await page.GetByTestId("check-link").GetAttributeAsync("href")); // the patients' pre-session check, in the page's language
        await page.GetByTestId("demo-one-to-one").ClickAsync();
        var therapistLink = await page.GetByTestId("demo-link-therapist").GetAttributeAsync("href");
        var patientLink = await page.GetByTestId("demo-link-patient").GetAttributeAsync("href");
        await context.DisposeAsync();

        var therapist = await OpenAsync("therapist", therapistLink!);
        await therapist.WaitForScreenAsync("call");
        var patient = await OpenAsync("patient", patientLink!);
        await patient.WaitForScreenAsync("waiting"); // the demo's 1:1 session has a waiting room
        Assert.Matches("^/check\\?lang=[a-z]+$", await patient.Page.GetByTestId("waiting-check-link").GetAttributeAsync("href"));
        Assert.True(await patient.Page.GetByTestId("waiting-check-link").IsVisibleAsync());
        await therapist.Page.Locator("[data-testid^='admit-']").First.ClickAsync();
        await patient.WaitForScreenAsync("call");
        await Task.WhenAll(therapist.WaitDecodesAsync([await patient.ParticipantIdAsync()], DecodeWithin),
            patient.WaitDecodesAsync([await therapist.ParticipantIdAsync()], DecodeWithin));
    }
}
