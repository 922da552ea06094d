using System.Text.Json;
using Microsoft.Playwright;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Pose;

/// <summary>The pre-session check page (/check) in headless Chromium whose fake camera shows a real person
/// (a photo from a Debian package, see <see cref="PersonVideo"/>): MediaPipe Pose, served by the app itself,
/// tracks the person; the skeleton, joint angles, microphone meter and network test all show; and the page
/// loads nothing from any other host.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserPoseTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AppHost _host = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _dir = null!;

    // WebGL (MediaPipe draws its input through a WebGL canvas) without a GPU: SwiftShader, software.
    private static readonly string[] WebGlArgs = ["--enable-unsafe-swiftshader", "--use-angle=swiftshader"];

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("telerehab-pose-").FullName;
        var clip = await PersonVideo.CreateY4mAsync(_dir);
        _host = await AppHost.StartAsync(("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        (_playwright, _browser) = await Chromium.LaunchAsync([$"--use-file-for-fake-video-capture={clip}", .. WebGlArgs]);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private async Task<JsonElement> StateAsync(IPage page) => await page.EvaluateAsync<JsonElement>("() => JSON.parse(JSON.stringify(window.checkPage))");

    // Default (no ?thread): a Worker, as Chromium has WebGL 2 in workers; and the page-thread fallback, forced.
    [Theory]
    [InlineData("", "worker")]
    [InlineData("?thread=main", "main")]
    public async Task Check_page_tracks_a_real_person_and_loads_everything_from_the_app_itself(string query, string thread)
    {
        var page = await _browser.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) => { lock (requests) requests.Add(request.Url); };
        var failures = new List<string>();
        page.Response += (_, response) => { if (response.Status >= 400) lock (failures) failures.Add($"{response.Status} {response.Url}"); };
        page.RequestFailed += (_, request) => { lock (failures) failures.Add($"failed {request.Url}"); };
        var cspViolations = new List<string>();
        page.Console += (_, message) =>
        {
            output.WriteLine($"[browser {message.Type}] {message.Text}");
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) lock (cspViolations) cspViolations.Add(message.Text);
        };
        page.PageError += (_, error) => output.WriteLine($"[page error] {error}");
        await page.GotoAsync(new Uri(_host.BaseAddress, $"/check{query}").ToString());
        try
        {
            // Body tracking starts once the movement tracker is stored: the page offers it after the network test.
            await page.GetByTestId("model-download").ClickAsync(new LocatorClickOptions { Timeout = 60_000 });
            // Generous bounds: the model loads (~10 MB) and runs in software on a loaded two-core machine.
            await page.WaitForFunctionAsync("() => window.checkPage.error || window.checkPage.pose.tracked > 0",
                null, new PageWaitForFunctionOptions { Timeout = 90_000, PollingInterval = 250 });
            await page.WaitForFunctionAsync("() => window.checkPage.network.state === 'done' || window.checkPage.network.state === 'failed'",
                null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 250 });
            await page.WaitForFunctionAsync("() => Object.values(window.checkPage.angles).some(v => v != null)",
                null, new PageWaitForFunctionOptions { Timeout = 20_000, PollingInterval = 250 });
            // Estimation goes on (not just one estimate).
            await page.WaitForFunctionAsync("() => window.checkPage.error || window.checkPage.pose.estimates >= 4",
                null, new PageWaitForFunctionOptions { Timeout = 30_000, PollingInterval = 250 });
        }
        finally
        {
            output.WriteLine((await StateAsync(page)).ToString());
        }
        // The page, its worker and the estimator's WebAssembly all run under the app's Content-Security-Policy.
        lock (cspViolations) Assert.Empty(cspViolations);

        // For a person to look at what the page shows (not an assertion): TELEREHAB_SCREENSHOT_DIR=<folder>.
        var screenshots = Environment.GetEnvironmentVariable("TELEREHAB_SCREENSHOT_DIR");
        if (!string.IsNullOrEmpty(screenshots))
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, $"check-{thread}.png"), FullPage = true });

        var state = await StateAsync(page);
        Assert.Equal(JsonValueKind.Null, state.GetProperty("error").ValueKind);

        // Pose: landmarks tracked, shown in the status line.
        Assert.Equal(thread, state.GetProperty("pose").GetProperty("thread").GetString());
        var tracked = state.GetProperty("pose").GetProperty("tracked").GetInt32();
        Assert.InRange(tracked, 1, 33);
        var status = await page.GetByTestId("pose-status").TextContentAsync();
        Assert.Matches(@"Tracking [1-9]\d* landmarks", status);

        // The skeleton canvas (a transparent overlay on the video) has drawn pixels.
        var drawn = await page.EvaluateAsync<int>("""
            () => {
              const c = document.querySelector('[data-testid=skeleton]');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let n = 0;
              for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
              return n;
            }
            """);
        Assert.True(drawn > 100, $"skeleton canvas has {drawn} drawn pixels");

        // Joint angles: at least one visible joint has a number in range, and the page lists it.
        var angles = state.GetProperty("angles").EnumerateObject()
            .Where(a => a.Value.ValueKind == JsonValueKind.Number).ToDictionary(a => a.Name, a => a.Value.GetDouble());
        Assert.NotEmpty(angles);
        Assert.All(angles.Values, v => Assert.InRange(v, 0, 180));
        var listed = await page.GetByTestId("joint-angles").TextContentAsync();
        Assert.Contains("°", listed);

        // Microphone meter moves (Chromium's fake microphone beeps).
        var mic = state.GetProperty("mic");
        Assert.True(mic.GetProperty("peak").GetDouble() > 0, "mic peak");
        Assert.True(mic.GetProperty("changes").GetInt32() >= 3, "mic level changes");
        Assert.Matches(@"\d+ %|silent|tap", await page.GetByTestId("mic-level").TextContentAsync());

        // Network test against /api/echo: measured and a mode chosen.
        var network = state.GetProperty("network");
        Assert.Equal("done", network.GetProperty("state").GetString());
        Assert.Contains(network.GetProperty("mode").GetString(), new[] { "video", "low video", "audio + pose" });
        Assert.True(network.GetProperty("packetsReceived").GetInt32() > 0);
        Assert.True(network.GetProperty("kbps").GetInt32() > 0);
        var result = await page.GetByTestId("network-result").TextContentAsync();
        Assert.Contains(network.GetProperty("mode").GetString()!, result);

        // Every request of the page went to the app's own origin (data:/blob: allowed).
        var origin = _host.BaseAddress.GetLeftPart(UriPartial.Authority);
        string[] seen;
        lock (requests) seen = [.. requests];
        Assert.Contains(seen, url => url.Contains("/pose-model/", StringComparison.Ordinal) && url.EndsWith("/pose_landmark_lite.tflite", StringComparison.Ordinal));
        lock (failures) Assert.Empty(failures);
        Assert.All(seen, url => Assert.True(
            url.StartsWith(origin + "/", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal) || url.StartsWith("blob:", StringComparison.Ordinal),
            $"request to another origin: {url}"));
    }
}

/// <summary>The check page, the service worker and the pose model's manifest are served by the app (no browser needed;
/// the model files themselves: <see cref="PoseModelServingTests"/>).</summary>
public sealed class BrowserPoseAssetTests
{
    [Theory]
    [InlineData("/pose-model/manifest.json")]
    [InlineData("/sw.js")]
    [InlineData("/check")]
    public async Task App_serves_the_check_page_and_the_vendored_pose_model(string path)
    {
        await using var host = await AppHost.StartAsync();
        using var http = host.CreateClient();
        using var response = await http.GetAsync(path);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 0);
    }
}
