using System.Text.Json;
using Microsoft.Playwright;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Pose;

/// <summary>Pose in a session, end to end in headless Chromium: the patient's fake camera shows a real person (see
/// <see cref="PersonVideo"/>), its page estimates the pose and sends keypoints on the "pose" data channel, the SFU's
/// forwarder sends them to the therapist, whose page draws the skeleton on the patient's tile.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserPoseSessionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "test-operator-key";

    // WebGL (MediaPipe draws its input through a WebGL canvas) without a GPU: SwiftShader, software.
    private static readonly string[] WebGlArgs = ["--enable-unsafe-swiftshader", "--use-angle=swiftshader"];

    // A phone on a fast link: the estimator's files are fetched at once, behind the call.
    private const string FastConnection = """
        Object.defineProperty(Navigator.prototype, 'connection', { configurable: true,
          get() { return { type: 'wifi', effectiveType: '4g', downlink: 10, rtt: 50, saveData: false, addEventListener() {} }; } });
        """;

    private AppHost _host = null!;
    private SessionApiClient _api = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _dir = null!;
    private readonly List<BrowserParticipant> _people = [];

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("telerehab-pose-session-").FullName;
        var clip = await PersonVideo.CreateY4mAsync(_dir);
        _host = await AppHost.StartAsync(("TeleRehab:OperatorApiKey", ApiKey), ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        _api = new SessionApiClient(_host, ApiKey);
        (_playwright, _browser) = await Chromium.LaunchAsync([$"--use-file-for-fake-video-capture={clip}", .. WebGlArgs]);
    }

    public async Task DisposeAsync()
    {
        foreach (var person in _people) await person.DisposeAsync();
        await _browser.DisposeAsync();
        _playwright.Dispose();
        _api.Dispose();
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private async Task<BrowserParticipant> OpenAsync(string name, string link, bool fast = false)
    {
        var person = await BrowserParticipant.OpenAsync(_browser, name, link, output, fast ? context => context.AddInitScriptAsync(FastConnection) : null);
        person.Page.PageError += (_, error) => output.WriteLine($"[{name} page error] {error}");
        _people.Add(person);
        return person;
    }

    private static Task WaitAsync(IPage page, string condition, int timeoutMs) =>
        page.WaitForFunctionAsync(condition, null, new PageWaitForFunctionOptions { Timeout = timeoutMs, PollingInterval = 250 });

    private static async Task<string> PoseAsync(BrowserParticipant person) =>
        (await person.Page.EvaluateAsync<JsonElement>("() => JSON.parse(JSON.stringify(window.telerehab.pose()))")).ToString();

    /// <summary>Pixels of the renderer's green bones on <paramref name="id"/>'s pose layer.</summary>
    private static Task<int> SkeletonPixelsAsync(IPage page, string id) => page.EvaluateAsync<int>($$"""
        () => {
          const canvas = document.querySelector('[data-testid="pose-canvas-{{id}}"]');
          if (!canvas || canvas.hidden || !canvas.width) return 0;
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < data.length; i += 4) if (data[i + 1] > 170 && data[i] < 130 && data[i + 3] > 100) n++;
          return n;
        }
        """);

    [Fact]
    public async Task The_therapist_sees_the_patients_skeleton_with_angles_and_alone_with_a_badge_when_the_camera_is_off()
    {
        var session = await _api.CreateAsync("one-to-one", waitingRoom: false);
        var therapist = await OpenAsync("therapist", session.TherapistLink);
        var patient = await OpenAsync("patient", session.PatientLink!, fast: true);
        await therapist.WaitForScreenAsync("call");
        await patient.WaitForScreenAsync("call");
        var patientId = await patient.ParticipantIdAsync();
        var received = $"window.telerehab.pose()?.received['{patientId}']";
        try
        {
            await WaitAsync(patient.Page, "() => window.telerehab.pose()?.channel === 'open'", 30_000);
            // The files come behind the call, then the estimator starts (in software on a loaded machine: generous).
            await WaitAsync(patient.Page, "() => window.telerehab.pose()?.sent > 0", 180_000);
            // Where WebGL is software (this headless browser) the model infers on the CPU, about 50 ms an estimate here
            // against 520 through SwiftShader; the therapist then gets the live pose at 5 frames/s or more (its meter
            // averages over the last seconds). Everything estimated arrives.
            await WaitAsync(therapist.Page, $"() => ({received}?.frames ?? 0) >= 5", 60_000);
            await WaitAsync(therapist.Page, $"() => ({received}?.fps ?? 0) >= 5", 60_000);
            var sentByPatient = await patient.Page.EvaluateAsync<int>("() => window.telerehab.pose().sent");
            var receivedByTherapist = await therapist.Page.EvaluateAsync<int>($"() => {received}.frames");
            Assert.True(receivedByTherapist >= sentByPatient * 0.9 - 2, $"sent {sentByPatient}, received {receivedByTherapist}");
            await WaitAsync(therapist.Page, $"() => Object.values({received}?.angles ?? {{}}).some(v => v != null)", 20_000);

            // Skeleton pixels (the renderer's green bones) on the patient's tile, and the rate and age under it.
            var green = await SkeletonPixelsAsync(therapist.Page, patientId);
            Assert.True(green > 30, $"{green} skeleton pixels");
            Assert.Matches(@"^pose \d+(\.\d)? fps · \d+", await therapist.Page.GetByTestId($"pose-status-{patientId}").TextContentAsync());
            Assert.False(await therapist.Page.GetByTestId($"pose-badge-{patientId}").IsVisibleAsync()); // the video is live

            // "Movement only": the patient's video stops on the wire, the estimator goes on, and the therapist's tile shows
            // the skeleton alone, still moving, with the badge.
            await patient.Page.GetByTestId("movement-only-button").ClickAsync();
            await WaitAsync(therapist.Page, $"() => !document.querySelector('[data-testid=\"pose-badge-{patientId}\"]').hidden", 20_000);
            Assert.Equal("audio + movement", await therapist.Page.GetByTestId($"pose-badge-{patientId}").TextContentAsync());
            var before = await therapist.Page.EvaluateAsync<int>($"() => {received}.frames");
            await WaitAsync(therapist.Page, $"() => {received}.frames >= {before + 5}", 30_000);
            Assert.True(await patient.Page.EvaluateAsync<bool>("() => window.telerehab.pose().estimating"));
            var alone = await SkeletonPixelsAsync(therapist.Page, patientId);
            Assert.True(alone > 30, $"{alone} skeleton pixels without video");
            await patient.Page.GetByTestId("movement-only-button").ClickAsync();
            await WaitAsync(therapist.Page, $"() => document.querySelector('[data-testid=\"pose-badge-{patientId}\"]').hidden", 20_000);

            // The therapist holds the patient in audio + movement: the patient's page carries it out, says why, and keeps
            // it (its own button is disabled) until the therapist lets go.
            await therapist.Page.GetByTestId($"hold-{patientId}").ClickAsync();
            await WaitAsync(patient.Page, "() => document.querySelector('[data-testid=\"movement-only-button\"]').getAttribute('aria-pressed') === 'true'", 20_000);
            Assert.True(await patient.Page.GetByTestId("movement-only-button").IsDisabledAsync());
            await WaitAsync(patient.Page, "() => document.querySelector('[data-testid=\"notice\"]').textContent.includes('Your therapist chose audio and movement only')", 10_000);
            await WaitAsync(therapist.Page, $"() => document.querySelector('[data-testid=\"tile-{patientId}\"] .label').textContent.includes('held by the therapist')", 20_000);
            await WaitAsync(therapist.Page, $"() => !document.querySelector('[data-testid=\"pose-badge-{patientId}\"]').hidden", 20_000);
            Assert.Equal("true", await therapist.Page.GetByTestId($"hold-{patientId}").GetAttributeAsync("aria-pressed"));
            await therapist.Page.GetByTestId($"hold-{patientId}").ClickAsync();
            await WaitAsync(patient.Page, "() => document.querySelector('[data-testid=\"movement-only-button\"]').getAttribute('aria-pressed') === 'false'", 20_000);
            Assert.False(await patient.Page.GetByTestId("movement-only-button").IsDisabledAsync());
            await WaitAsync(therapist.Page, $"() => document.querySelector('[data-testid=\"pose-badge-{patientId}\"]').hidden", 20_000);

            // The patient asks to see its own movement: the server sends its frames back and its own tile draws them.
            var ownReceived = $"window.telerehab.pose()?.received['{patientId}']";
            Assert.False(await patient.Page.GetByTestId($"pose-canvas-{patientId}").IsVisibleAsync());
            await patient.Page.GetByTestId("own-pose-button").ClickAsync();
            await WaitAsync(patient.Page, $"() => ({ownReceived}?.frames ?? 0) >= 3", 30_000);
            Assert.Equal("true", await patient.Page.GetByTestId("own-pose-button").GetAttributeAsync("aria-pressed"));
            Assert.True(await patient.Page.GetByTestId($"pose-canvas-{patientId}").IsVisibleAsync());
            await patient.Page.GetByTestId("own-pose-button").ClickAsync(); // and hides it again
            await WaitAsync(patient.Page, $"() => !document.querySelector('[data-testid=\"pose-canvas-{patientId}\"]')", 10_000);

            // The patient turns the camera off: pose stops with it, and the tile shows the skeleton alone with the badge.
            await patient.Page.GetByTestId("camera-button").ClickAsync();
            await WaitAsync(patient.Page, "() => window.telerehab.pose().estimating === false && window.telerehab.pose().decision === 'camera-off'", 10_000);
            await WaitAsync(therapist.Page, $"() => !document.querySelector('[data-testid=\"pose-badge-{patientId}\"]').hidden", 20_000);
            Assert.Equal("audio + movement", await therapist.Page.GetByTestId($"pose-badge-{patientId}").TextContentAsync());
            Assert.True(await therapist.Page.GetByTestId($"pose-canvas-{patientId}").IsVisibleAsync());
        }
        finally
        {
            output.WriteLine($"patient: {await PoseAsync(patient)}");
            output.WriteLine($"therapist: {await PoseAsync(therapist)}");
        }
    }

    [Fact]
    public async Task Replayed_keypoints_at_10_frames_a_second_reach_the_therapist_at_5_frames_a_second_or_more_within_150_ms_at_the_median()
    {
        var session = await _api.CreateAsync("one-to-one", waitingRoom: false);
        var therapist = await OpenAsync("therapist", session.TherapistLink);
        var patient = await OpenAsync("patient", session.PatientLink!);
        await therapist.WaitForScreenAsync("call");
        await patient.WaitForScreenAsync("call");
        var patientId = await patient.ParticipantIdAsync();
        await patient.Page.GetByTestId("camera-button").ClickAsync(); // no estimator: only the replay sends
        await WaitAsync(patient.Page, "() => window.telerehab.pose()?.channel === 'open'", 30_000);
        await WaitAsync(therapist.Page, "() => window.telerehab.pose()?.channel === 'open'", 30_000);

        // 60 recorded-style frames (a standing person raising an arm), one every 100 ms, as the estimator would send them.
        var sent = await patient.Page.EvaluateAsync<int>(PoseReplay.Script, 60);
        await Task.Delay(500);
        var stats = await therapist.Page.EvaluateAsync<JsonElement>($"() => JSON.parse(JSON.stringify(window.telerehab.pose().received['{patientId}'] ?? null))");
        output.WriteLine($"sent {sent}; therapist: {stats}");
        Assert.True(sent >= 55, $"the patient's page sent {sent} of 60");
        var latencies = stats.GetProperty("latencies").EnumerateArray().Select(e => e.GetInt32()).Order().ToList();
        Assert.True(latencies.Count >= 50, $"the therapist received {latencies.Count} frames");
        // The rate over the replay's 6 s, from what arrived (each within the latencies above, so as it was sent): the
        // page's own meter reads its last second, and half a second after the replay it has already decayed.
        var rate = latencies.Count / 6.0;
        Assert.True(rate >= 5, $"the therapist received pose at {rate:0.0} frames/s over the replay (meter {stats.GetProperty("fps")})");
        var p50 = latencies[latencies.Count / 2];
        output.WriteLine($"latency p50 {p50} ms, max {latencies[^1]} ms");
        Assert.True(p50 < 150, $"p50 latency {p50} ms");
    }
}
