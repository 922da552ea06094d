using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Support;

/// <summary>One person in a session: a browser context (its own fake camera and microphone) on the join page.</summary>
public sealed class BrowserParticipant : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    private BrowserParticipant(string name, IBrowserContext context, IPage page)
    {
        Name = name;
        _context = context;
        Page = page;
    }

    public string Name { get; }

    public IPage Page { get; }

    private List<string> _cspViolations = [];

    /// <summary>What the browser refused under the app's Content-Security-Policy (console reports), so far.</summary>
    public IReadOnlyList<string> CspViolations
    {
        get { lock (_cspViolations) return _cspViolations.ToList(); }
    }

    public sealed record Inbound(int FramesDecoded, int AudioPacketsReceived, int VideoPacketsReceived);

    /// <summary>
    /// <paramref name="link"/> with movement tracking off ("?pose=off", docs/pose-format.md): for tests about something
    /// else, where the patients' pose estimators in headless Chromium would take the machine's two cores from the
    /// encoders, the decoders and the server.
    /// </summary>
    public static string WithoutPose(string link)
    {
        var hash = link.IndexOf('#');
        var path = hash < 0 ? link : link[..hash];
        return $"{path}{(path.Contains('?') ? '&' : '?')}pose=off{(hash < 0 ? "" : link[hash..])}";
    }

    /// <summary>Opens <paramref name="link"/> (a join link) and joins at once.</summary>
    /// <param name="prepare">Runs on the new browser context before the page opens (e.g. to add an init script).</param>
    public static async Task<BrowserParticipant> OpenAsync(IBrowser browser, string name, string link, ITestOutputHelper output,
        Func<IBrowserContext, Task>? prepare = null)
    {
        var context = await browser.NewContextAsync();
        if (prepare is not null) await prepare(context);
        var page = await context.NewPageAsync();
        var participant = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning") output.WriteLine($"[{name}] {message.Text}");
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) lock (participant) participant.Add(message.Text);
        };
        var hash = link.IndexOf('#');
        var url = hash < 0 ? link : $"{link[..hash]}{(link[..hash].Contains('?') ? '&' : '?')}autojoin=1{link[hash..]}";
        await page.GotoAsync(url);
        return new BrowserParticipant(name, context, page) { _cspViolations = participant };
    }

    /// <summary>Reloads the page (the same link): a participant who left joins again.</summary>
    public async Task RejoinAsync()
    {
        await Page.ReloadAsync();
    }

    public Task<string> ScreenAsync() => Page.EvaluateAsync<string>("() => window.telerehab?.state.screen ?? ''");

    public async Task WaitForScreenAsync(string screen, int timeoutMs = 20_000)
    {
        await Page.WaitForFunctionAsync("s => window.telerehab && window.telerehab.state.screen === s", screen,
            new PageWaitForFunctionOptions { Timeout = timeoutMs, PollingInterval = 100 });
    }

    public Task<string> ParticipantIdAsync() => Page.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");

    public async Task<Dictionary<string, Inbound>> InboundAsync()
    {
        var json = await Page.EvaluateAsync<JsonElement>("() => window.telerehab.inboundStats()");
        var result = new Dictionary<string, Inbound>();
        foreach (var entry in json.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Object) continue; // Playwright adds "$id" reference markers
            result[entry.Name] = new Inbound(entry.Value.GetProperty("framesDecoded").GetInt32(),
                entry.Value.GetProperty("audioPacketsReceived").GetInt32(), entry.Value.GetProperty("videoPacketsReceived").GetInt32());
        }
        return result;
    }

    /// <summary>Waits until this page decodes video frames and receives audio from every one of <paramref name="others"/>.</summary>
    public Task WaitDecodesAsync(IEnumerable<string> others, TimeSpan timeout) => WaitDecodesAsync(others, timeout, null);

    /// <summary>As <see cref="WaitDecodesAsync(IEnumerable{string}, TimeSpan)"/>, but counting only frames and packets
    /// beyond <paramref name="baseline"/> (what was received before, e.g. before the other side reconnected).</summary>
    public async Task WaitDecodesAsync(IEnumerable<string> others, TimeSpan timeout, Dictionary<string, Inbound>? baseline)
    {
        var wanted = others.ToList();
        var deadline = DateTime.UtcNow + timeout;
        Dictionary<string, Inbound> last = [];
        while (DateTime.UtcNow < deadline)
        {
            last = await InboundAsync();
            if (wanted.All(id => last.TryGetValue(id, out var inbound)
                && inbound.FramesDecoded > (baseline?.GetValueOrDefault(id)?.FramesDecoded ?? 0)
                && inbound.AudioPacketsReceived > (baseline?.GetValueOrDefault(id)?.AudioPacketsReceived ?? 0))) return;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{Name} did not decode audio and video from [{string.Join(", ", wanted)}] within {timeout.TotalSeconds:0} s; " +
            $"inbound: {JsonSerializer.Serialize(last)}");
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
