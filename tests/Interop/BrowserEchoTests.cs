using System.Text.Json;
using Microsoft.Playwright;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>Interop with a real WebRTC peer this project did not write: headless Chromium (Debian's package) sends
/// its fake camera and microphone to POST /api/echo and decodes its own media coming back.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserEchoTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AppHost _host = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync(("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        (_playwright, _browser) = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<JsonElement> RunEchoAsync(string transport)
    {
        var page = await _browser.NewPageAsync();
        page.Console += (_, message) => output.WriteLine($"[browser] {message.Text}");
        await page.GotoAsync(new Uri(_host.BaseAddress, $"/echo.html?transport={transport}&autostart=1").ToString());
        try
        {
            // Generous bound: the check itself takes a second or two; loaded CI machines are slow.
            await page.WaitForFunctionAsync(
                "() => window.echoTest.error || (window.echoTest.framesDecoded > 0 && window.echoTest.audioPacketsReceived > 0)",
                null, new PageWaitForFunctionOptions { Timeout = 45_000, PollingInterval = 250 });
        }
        finally
        {
            var snapshot = await page.EvaluateAsync<JsonElement>("() => window.echoTest");
            output.WriteLine(snapshot.ToString());
        }
        return await page.EvaluateAsync<JsonElement>("() => window.echoTest");
    }

    [Fact]
    public async Task Chromium_decodes_its_own_audio_and_video_echoed_over_udp()
    {
        var result = await RunEchoAsync("udp");
        Assert.Equal(JsonValueKind.Null, result.GetProperty("error").ValueKind);
        Assert.True(result.GetProperty("framesDecoded").GetInt32() > 0);
        Assert.True(result.GetProperty("audioPacketsReceived").GetInt32() > 0);
        Assert.Equal("connected", result.GetProperty("dtlsState").GetString());
        Assert.Equal("udp", result.GetProperty("protocol").GetString());
        // The browser verified our certificate against the answer's fingerprint (else DTLS would have failed).
        Assert.Equal(result.GetProperty("answerFingerprint").GetString(), result.GetProperty("remoteFingerprint").GetString());
    }

    [Fact]
    public async Task Chromium_decodes_its_own_audio_and_video_echoed_over_ice_tcp_only()
    {
        var result = await RunEchoAsync("tcp");
        Assert.Equal(JsonValueKind.Null, result.GetProperty("error").ValueKind);
        Assert.True(result.GetProperty("framesDecoded").GetInt32() > 0);
        Assert.True(result.GetProperty("audioPacketsReceived").GetInt32() > 0);
        Assert.Equal("connected", result.GetProperty("dtlsState").GetString());
        Assert.Equal("tcp", result.GetProperty("protocol").GetString());
        Assert.Equal(result.GetProperty("answerFingerprint").GetString(), result.GetProperty("remoteFingerprint").GetString());
    }
}
