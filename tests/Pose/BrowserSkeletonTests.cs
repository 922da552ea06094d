using System.Text.Json;
using Microsoft.Playwright;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Pose;

/// <summary>The skeleton renderer without video (the "audio + pose" mode): a 4 frames/s pose stream is drawn
/// interpolated at display rate on a neutral background, and fades honestly when frames stop.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserSkeletonTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AppHost _host = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync();
        (_playwright, _browser) = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Four_frames_per_second_are_drawn_smoothly_and_fade_when_frames_stop()
    {
        var page = await _browser.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) => { lock (requests) requests.Add(request.Url); };
        page.PageError += (_, error) => output.WriteLine($"[page error] {error}");
        await page.GotoAsync(new Uri(_host.BaseAddress, "/pose/replay.html?fps=4").ToString());
        await page.WaitForFunctionAsync("() => window.poseReplay && window.poseReplay.sent >= 3 && window.poseReplay.renderer.last",
            null, new PageWaitForFunctionOptions { Timeout = 20_000, PollingInterval = 100 });

        // Over two seconds, the drawn right wrist takes many more positions than frames were received.
        var motion = await page.EvaluateAsync<JsonElement>("""
            async () => {
              const r = window.poseReplay;
              const before = r.sent, xs = [];
              const end = performance.now() + 2000;
              while (performance.now() < end) {
                await new Promise((resolve) => requestAnimationFrame(resolve));
                const last = r.renderer.last;
                if (last) xs.push(last.landmarks[16].x.toFixed(5));
              }
              return { received: r.sent - before, drawn: xs.length, distinct: new Set(xs).size,
                       stale: r.renderer.last.stale, opacity: r.renderer.last.opacity };
            }
            """);
        output.WriteLine(motion.ToString());
        var received = motion.GetProperty("received").GetInt32();
        var distinct = motion.GetProperty("distinct").GetInt32();
        Assert.InRange(received, 1, 20);
        Assert.True(distinct > 2 * received, $"{distinct} distinct wrist positions drawn for {received} frames received");
        Assert.False(motion.GetProperty("stale").GetBoolean());
        Assert.Equal(1.0, motion.GetProperty("opacity").GetDouble());

        // Neutral background with the skeleton and angle labels on it.
        var skeletonPixels = await page.EvaluateAsync<int>("""
            () => {
              const c = document.querySelector('[data-testid=skeleton]');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let n = 0;
              for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 0x1f) + Math.abs(d[i + 1] - 0x25) + Math.abs(d[i + 2] - 0x2d) > 60) n++;
              return n;
            }
            """);
        Assert.True(skeletonPixels > 100, $"{skeletonPixels} skeleton pixels");
        var screenshots = Environment.GetEnvironmentVariable("TELEREHAB_SCREENSHOT_DIR"); // for a person to look at
        if (!string.IsNullOrEmpty(screenshots))
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "replay-live.png") });
        var angles = await page.EvaluateAsync<double?>("() => window.poseReplay.renderer.last.angles.rightShoulder");
        Assert.NotNull(angles);

        // Frames stop: after a second the skeleton is marked stale and fades, down to a faint ghost.
        await page.EvaluateAsync("() => window.poseReplay.pause()");
        await page.WaitForFunctionAsync("() => window.poseReplay.renderer.last.stale",
            null, new PageWaitForFunctionOptions { Timeout = 10_000, PollingInterval = 100 });
        await page.WaitForFunctionAsync("() => window.poseReplay.renderer.last.opacity < 1",
            null, new PageWaitForFunctionOptions { Timeout = 10_000, PollingInterval = 100 });
        await page.WaitForFunctionAsync("() => window.poseReplay.renderer.last.opacity <= 0.16",
            null, new PageWaitForFunctionOptions { Timeout = 10_000, PollingInterval = 100 });
        if (!string.IsNullOrEmpty(screenshots))
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "replay-stale.png") });
        var stale = await page.EvaluateAsync<JsonElement>(
            "() => ({ stale: window.poseReplay.renderer.last.stale, age: window.poseReplay.renderer.last.ageMs, " +
            "angles: Object.values(window.poseReplay.renderer.last.angles).filter(v => v != null).length })");
        Assert.True(stale.GetProperty("stale").GetBoolean());
        Assert.Equal(0, stale.GetProperty("angles").GetInt32()); // old numbers are not shown as if current
        Assert.True(stale.GetProperty("age").GetDouble() > 1000);

        // Frames again: fresh and fully opaque.
        await page.EvaluateAsync("() => window.poseReplay.resume()");
        await page.WaitForFunctionAsync("() => !window.poseReplay.renderer.last.stale && window.poseReplay.renderer.last.opacity === 1",
            null, new PageWaitForFunctionOptions { Timeout = 10_000, PollingInterval = 100 });

        var origin = _host.BaseAddress.GetLeftPart(UriPartial.Authority);
        lock (requests)
            Assert.All(requests, url => Assert.True(url.StartsWith(origin + "/", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal),
                $"request to another origin: {url}"));
    }
}
