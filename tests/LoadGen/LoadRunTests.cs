using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using TeleRehab.LoadTests.Load;
using TeleRehab.Media.Tests.Support;

namespace TeleRehab.Media.Tests.LoadGen;

/// <summary>One small load (4 one-to-one rooms, one patient behind 3g, 20 s) against an in-process server, run as an
/// operator runs it (the <c>run</c> command's code path, reports written to files), shared by the tests below.</summary>
public sealed class SmallLoadFixture : IAsyncLifetime
{
    public const string ApiKey = "load-test-key";

    public AppHost Host { get; private set; } = null!;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "telerehab-loadgen-" + Guid.NewGuid().ToString("N"));

    public int ExitCode { get; private set; }

    public string Output { get; private set; } = "";

    public JsonElement Run { get; private set; }

    public string ReportPath => Path.Combine(Directory, "report.html");

    public LoadOptions Options(int rooms, string slo, TimeSpan duration) => new()
    {
        Target = Host.BaseAddress,
        ApiKey = ApiKey,
        Rooms = rooms,
        Profiles = ProfileMix.TryParseMix("clean:75%,3g:25%", out var mix, out _) ? mix! : throw new InvalidOperationException(),
        Ramp = TimeSpan.FromSeconds(2),
        Duration = duration,
        Slos = Slo.TryParseList(slo, out var slos, out var error) ? slos : throw new InvalidOperationException(error),
        ReportPath = ReportPath,
    };

    public async Task InitializeAsync()
    {
        Host = await AppHost.StartAsync(("TeleRehab:OperatorApiKey", ApiKey), ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        var output = new StringWriter();
        ExitCode = await LoadCommand.RunAsync(Options(4, "joined>=100%,loss<5%,latency_p95<2s,join_p95<10s", TimeSpan.FromSeconds(20)),
            output, output, interactive: false, CancellationToken.None);
        Output = output.ToString();
        Run = JsonDocument.Parse(await File.ReadAllTextAsync(Path.ChangeExtension(ReportPath, ".json"))).RootElement.GetProperty("run").Clone();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[Collection(BrowserCollection.Name)]
public sealed class LoadRunTests(SmallLoadFixture load, ITestOutputHelper output) : IClassFixture<SmallLoadFixture>
{
    [Fact]
    public void Every_participant_joins_and_receives_media_with_little_loss_and_the_3g_patient_shows_its_link()
    {
        output.WriteLine(load.Output);
        Assert.Equal(0, load.ExitCode);
        var participants = load.Run.GetProperty("participants").EnumerateArray().ToList();
        Assert.Equal(8, participants.Count);
        foreach (var p in participants)
        {
            var name = p.GetProperty("name").GetString();
            Assert.True(p.GetProperty("joined").GetBoolean(), $"{name} did not join: {p.GetProperty("error")}");
            Assert.InRange(p.GetProperty("joinMs").GetDouble(), 1, 10_000);
            // 20 s of audio (DTX) and video from the one other participant: hundreds of packets.
            Assert.True(p.GetProperty("packetsReceived").GetInt64() > 300, $"{name} received {p.GetProperty("packetsReceived")}");
            Assert.InRange(p.GetProperty("lossPercent").GetDouble(), 0, 5);
        }
        // Exactly one patient sits behind 3g (75 ms each way): what it receives, and what its therapist receives from it,
        // takes at least that long; participants on clean loopback links see a few milliseconds.
        var slow = Assert.Single(participants, p => p.GetProperty("profile").GetString() == "3g");
        Assert.Equal("patient", slow.GetProperty("role").GetString());
        Assert.InRange(slow.GetProperty("latencyP50Ms").GetDouble(), 75, 1000);
        var clean = participants.Where(p => p.GetProperty("room").GetInt32() != slow.GetProperty("room").GetInt32()).ToList();
        Assert.All(clean, p => Assert.InRange(p.GetProperty("latencyP50Ms").GetDouble(), 0, 60));

        var figures = load.Run.GetProperty("figures");
        Assert.Equal(100, figures.GetProperty("joined").GetDouble());
        Assert.True(figures.GetProperty("received_kbps").GetDouble() > 100);
        Assert.True(load.Run.GetProperty("slosMet").GetBoolean());
        Assert.True(load.Run.GetProperty("serverCounters").GetProperty("telerehab_packets_in_total").GetDouble() > 1000);
        Assert.True(load.Run.GetProperty("timeline").GetArrayLength() >= 15);
        Assert.Contains("joined 8/8", load.Output);
    }

    [Fact]
    public async Task An_slo_the_run_cannot_meet_makes_the_exit_code_3()
    {
        var output = new StringWriter();
        var code = await LoadCommand.RunAsync(load.Options(1, "joined>=100%,join_max<1ms", TimeSpan.FromSeconds(4)) with { ReportPath = null },
            output, output, interactive: false, CancellationToken.None);
        Assert.Equal(LoadCommand.SloNotMet, code);
        Assert.Contains("SLO join_max<1ms", output.ToString());
        Assert.Contains("FAILED", output.ToString());
    }

    [Fact]
    public async Task The_report_draws_every_chart_in_chromium_with_no_request_beyond_the_file()
    {
        var (playwright, browser) = await Chromium.LaunchAsync();
        try
        {
            var page = await browser.NewPageAsync();
            var requests = new List<string>();
            page.Request += (_, request) => requests.Add(request.Url);
            var file = new Uri(load.ReportPath).AbsoluteUri;
            await page.GotoAsync(file, new PageGotoOptions { WaitUntil = WaitUntilState.NetworkIdle });
            var charts = await page.EvalOnSelectorAllAsync<JsonElement>("figure.chart", """
                figures => figures.map(f => ({
                    id: f.dataset.chart,
                    lines: [...f.querySelectorAll('polyline')].map(l => ({ points: l.points.numberOfItems, width: l.getBBox().width }))
                }))
                """);
            var drawn = charts.EnumerateArray().ToList();
            Assert.Equal(["joins", "bitrate", "loss", "latency", "cpu"], drawn.Select(c => c.GetProperty("id").GetString()));
            foreach (var chart in drawn)
            {
                var lines = chart.GetProperty("lines").EnumerateArray().ToList();
                Assert.True(lines.Count > 0, $"chart {chart.GetProperty("id")} has no line");
                Assert.All(lines, l => Assert.True(l.GetProperty("points").GetInt32() >= 10 && l.GetProperty("width").GetDouble() > 100,
                    $"chart {chart.GetProperty("id")}: a line of {l.GetProperty("points")} points, {l.GetProperty("width")} px wide"));
            }
            Assert.Equal([file], requests);
        }
        finally
        {
            await browser.DisposeAsync();
            playwright.Dispose();
        }
    }
}
