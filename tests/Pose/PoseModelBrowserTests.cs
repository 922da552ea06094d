using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Pose;

/// <summary>The pose estimator's files are downloaded once, from the /check page, and afterwards come from the
/// service worker's cache: a second visit (a new page in the same browser) runs the estimator with no request
/// for them reaching the server, even with the browser's HTTP cache emptied. The first visit also shows that
/// what MediaPipe loads (lite model, SIMD wasm in Chromium) is exactly what the manifest lists for it.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class PoseModelBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "test-operator-key";
    private readonly RequestLog _log = new();
    private AppHost _host = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    private static readonly string[] WebGlArgs = ["--enable-unsafe-swiftshader", "--use-angle=swiftshader"];

    [GeneratedRegex("^/pose-model/[0-9a-f]{16}/")]
    private static partial Regex HashedPath();

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync(builder => builder.Services.AddSingleton<IStartupFilter>(_log),
            ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"), ("TeleRehab:OperatorApiKey", ApiKey));
        (_playwright, _browser) = await Chromium.LaunchAsync(WebGlArgs);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _host.DisposeAsync();
    }

    /// <summary>Every request the server answered: path and status (the server side of "no network request").</summary>
    private sealed class RequestLog : IStartupFilter
    {
        public ConcurrentQueue<(string Path, int Status)> Requests { get; } = new();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                await inner(context);
                Requests.Enqueue((context.Request.Path.Value ?? "", context.Response.StatusCode));
            });
            next(app);
        };
    }

    private IPage Watch(IPage page, string name)
    {
        page.Console += (_, message) => output.WriteLine($"[{name} {message.Type}] {message.Text}");
        page.PageError += (_, error) => output.WriteLine($"[{name} page error] {error}");
        return page;
    }

    private static Task WaitAsync(IPage page, string condition, int timeoutMs) =>
        page.WaitForFunctionAsync(condition, null, new PageWaitForFunctionOptions { Timeout = timeoutMs, PollingInterval = 250 });

    [Fact]
    public async Task Second_visit_loads_the_estimator_files_from_the_service_worker_cache_with_no_request_to_the_server()
    {
        using var http = _host.CreateClient();
        var manifest = JsonDocument.Parse(await http.GetStringAsync("/pose-model/manifest.json")).RootElement;
        var simdFiles = manifest.GetProperty("files").EnumerateArray()
            .Where(f => !f.TryGetProperty("simd", out var simd) || simd.GetBoolean())
            .Select(f => f.GetProperty("url").GetString()!).Order().ToList();
        var checkUrl = new Uri(_host.BaseAddress, "/check?network=0").ToString();

        await using var context = await _browser.NewContextAsync();
        var fromWorker = new ConcurrentQueue<(string Url, bool FromServiceWorker)>();
        context.Response += (_, response) =>
        {
            var path = new Uri(response.Url).AbsolutePath;
            if (HashedPath().IsMatch(path)) fromWorker.Enqueue((path, response.FromServiceWorker));
        };

        // First visit: the page offers the download; it stores the files, and body tracking starts.
        var first = Watch(await context.NewPageAsync(), "first");
        await first.GotoAsync(checkUrl);
        await first.EvaluateAsync("() => navigator.serviceWorker.ready");
        await WaitAsync(first, "() => window.checkPage.model.state === 'missing'", 30_000);
        var offer = await first.GetByTestId("model-status").TextContentAsync();
        Assert.Matches(@"Download the movement tracker \(\d+\.\d MB\) now, on Wi-Fi, so the session does not need to", offer);
        await first.GetByTestId("model-download").ClickAsync(new LocatorClickOptions { Timeout = 30_000 });
        await WaitAsync(first, "() => window.checkPage.model.state === 'stored' || window.checkPage.model.state === 'failed'", 120_000);
        Assert.Equal("stored", await first.EvaluateAsync<string>("() => window.checkPage.model.state"));
        Assert.Equal(manifest.GetProperty("totalBytes").GetInt64(), await first.EvaluateAsync<long>("() => window.checkPage.model.loadedBytes"));
        await WaitAsync(first, "() => window.checkPage.error || window.checkPage.pose.estimates >= 1", 120_000);
        Assert.Null(await first.EvaluateAsync<string?>("() => window.checkPage.error"));
        await first.CloseAsync();

        var firstVisit = _log.Requests.ToList();
        // What reached the server: each file of the SIMD set once, nothing else of the model, and no 404 (MediaPipe
        // asked for no file the manifest does not list).
        var modelRequests = firstVisit.Where(r => HashedPath().IsMatch(r.Path)).ToList();
        output.WriteLine($"first visit: {firstVisit.Count} requests, model files: {string.Join(", ", modelRequests.Select(r => $"{r.Path} {r.Status}"))}");
        Assert.Equal(simdFiles, modelRequests.Select(r => r.Path).Order());
        Assert.All(modelRequests, r => Assert.Equal(200, r.Status));
        Assert.DoesNotContain(firstVisit, r => r.Status == 404);

        // Empty the HTTP cache, so only the service worker's cache can answer.
        var cdp = await context.NewCDPSessionAsync(await context.NewPageAsync());
        await cdp.SendAsync("Network.clearBrowserCache");

        // Second visit: a new page; the files are stored, body tracking starts at once.
        var mark = _log.Requests.Count;
        fromWorker.Clear();
        var second = Watch(await context.NewPageAsync(), "second");
        await second.GotoAsync(checkUrl);
        await WaitAsync(second, "() => window.checkPage.model.state === 'stored'", 30_000);
        Assert.StartsWith("Stored on this phone", await second.GetByTestId("model-status").TextContentAsync());
        await WaitAsync(second, "() => window.checkPage.error || window.checkPage.pose.estimates >= 1", 120_000);
        var state = await second.EvaluateAsync<JsonElement>("() => JSON.parse(JSON.stringify(window.checkPage))");
        output.WriteLine(state.ToString());
        Assert.Equal(JsonValueKind.Null, state.GetProperty("error").ValueKind);
        Assert.True(await second.EvaluateAsync<bool>("() => navigator.serviceWorker.controller != null"));

        var secondVisit = _log.Requests.Skip(mark).ToList();
        output.WriteLine($"second visit reached the server with: {string.Join(", ", secondVisit.Select(r => $"{r.Path} {r.Status}"))}");
        Assert.DoesNotContain(secondVisit, r => r.Path.StartsWith("/pose-model/", StringComparison.Ordinal) && r.Path != "/pose-model/manifest.json");
        Assert.Contains(secondVisit, r => r.Path == "/check"); // the page itself did come from the server
        // Every model file the browser reports for the second visit was answered by the service worker.
        var seen = fromWorker.ToList();
        output.WriteLine($"second visit, model responses seen by the browser: {string.Join(", ", seen.Select(s => $"{s.Url} sw={s.FromServiceWorker}"))}");
        Assert.All(seen, s => Assert.True(s.FromServiceWorker, $"{s.Url} came from the network"));
        Assert.Equal(simdFiles, seen.Select(s => s.Url).Distinct().Order());
    }

    // The Network Information API as the patient's phone would report it, switchable by the test.
    private const string FakeConnection = """
        window.fakeConnection = Object.assign(new EventTarget(), { type: 'cellular', effectiveType: '2g', downlink: 0.05, rtt: 1800, saveData: false });
        Object.defineProperty(Navigator.prototype, 'connection', { configurable: true, get() { return window.fakeConnection; } });
        """;

    [Fact]
    public async Task Session_without_the_files_starts_without_tracking_says_why_and_fetches_them_only_once_the_link_allows()
    {
        using var api = new SessionApiClient(_host, ApiKey);
        var session = await api.CreateAsync("one-to-one", waitingRoom: false);
        await using var therapist = await BrowserParticipant.OpenAsync(_browser, "therapist", session.TherapistLink, output);
        await using var patient = await BrowserParticipant.OpenAsync(_browser, "patient", session.PatientLink!, output,
            context => context.AddInitScriptAsync(FakeConnection));
        await therapist.WaitForScreenAsync("call");
        await patient.WaitForScreenAsync("call");

        // On 2G: the call runs, movement tracking is off and the page says why; nothing is fetched, even after the
        // server's downlink figures (LinkStats) have come in.
        var page = patient.Page;
        await WaitAsync(page, "() => window.telerehab.state.poseFiles.state === 'missing' && window.telerehab.state.linkStats != null", 30_000);
        output.WriteLine(await page.EvaluateAsync<string>("() => JSON.stringify(window.telerehab.state.linkStats)"));
        await WaitAsync(page, "() => window.telerehab.state.poseFiles.reason === 'slow-connection'", 20_000);
        Assert.Equal("Movement tracking is off: its files are not on this phone yet.", await page.GetByTestId("pose-files").TextContentAsync());
        Assert.True(await page.GetByTestId("pose-files").IsVisibleAsync());
        Assert.False(await therapist.Page.GetByTestId("pose-files").IsVisibleAsync()); // the therapist's device tracks nobody
        await Task.Delay(2000);
        Assert.Equal("missing", await page.EvaluateAsync<string>("() => window.telerehab.state.poseFiles.state"));
        Assert.DoesNotContain(_log.Requests, r => HashedPath().IsMatch(r.Path));

        // The phone reaches 4G: the files come in the background, and tracking can start from them.
        await page.EvaluateAsync("() => { Object.assign(window.fakeConnection, { effectiveType: '4g', downlink: 10, rtt: 50 }); window.fakeConnection.dispatchEvent(new Event('change')); }");
        await WaitAsync(page, "() => window.telerehab.state.poseFiles.state === 'stored'", 90_000);
        var poseFiles = await page.EvaluateAsync<JsonElement>("() => JSON.parse(JSON.stringify(window.telerehab.state.poseFiles))");
        output.WriteLine($"{poseFiles}, downlink estimate {await page.EvaluateAsync<int>("() => window.telerehab.state.linkStats.estimateKbps")} kbit/s");
        Assert.StartsWith("Movement tracking is ready", await page.GetByTestId("pose-files").TextContentAsync());
        Assert.Contains(_log.Requests, r => HashedPath().IsMatch(r.Path));
        Assert.Equal("call", await patient.ScreenAsync());
        Assert.Empty(patient.CspViolations);
    }
}
