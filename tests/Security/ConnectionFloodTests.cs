using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Tests.RoomClient;
using TeleRehab.Signaling.Limits;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Security;

/// <summary>An unauthenticated flood of silent TCP connections at the HTTP port and the ICE-TCP port, from many
/// source addresses, while a one-to-one session runs: the caps and the process's connection budget hold, the server
/// stays up and the session's media keeps flowing; after the flood the server serves new clients.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class ConnectionFloodTests(ITestOutputHelper output)
{
    private const int Connections = 25_000;
    private const int Processes = 3; // one process's open-file limit is below 25,000
    private const double HoldSeconds = 12;

    [Fact]
    public async Task A_live_session_survives_25000_silent_connections_to_the_http_and_ice_tcp_ports()
    {
        await using var kit = await RoomTestKit.StartAsync(output);
        var (_, therapist, patient) = await kit.StartPairAsync("flood");
        var media = kit.Host.Media;
        var http = kit.Host.Services.GetRequiredService<HttpConnectionLimiter>();
        var budget = kit.Host.Services.GetRequiredService<ConnectionBudget>();
        var limits = new LimitsOptions();
        var forwardedBefore = media.Totals().VideoPacketsOut + media.Totals().AudioPacketsOut;

        var script = Path.Combine(AppContext.BaseDirectory, "Support", "silent_connections.py");
        var ports = $"{kit.Host.BaseAddress.Port},{media.TcpPort}";
        var floods = Enumerable.Range(0, Processes).Select(i => Process.Start(new ProcessStartInfo("python3")
        {
            ArgumentList = { script, "127.0.0.1", ports, (Connections / Processes + (i < Connections % Processes ? 1 : 0)).ToString(), $"127.0.{10 + i}.1", "100", HoldSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!).ToList();
        try
        {
            // Wait until every flooder has opened its connections, then watch the session through the hold.
            var opened = await Task.WhenAll(floods.Select(f => ReadEventAsync(f, "opened")));
            Assert.All(opened, o => Assert.Equal(0, o.GetProperty("failed").GetInt32()));
            kit.Log($"flood opened: {string.Join(", ", opened.Select(o => o.GetProperty("attempted").GetInt32()))}");

            int peakHttp = 0, peakIceTcp = 0, peakBudget = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(HoldSeconds / 2))
            {
                peakHttp = Math.Max(peakHttp, http.Open);
                peakIceTcp = Math.Max(peakIceTcp, media.IceTcpConnections);
                peakBudget = Math.Max(peakBudget, budget.InUse);
                await Task.Delay(100);
            }
            await RoomTestKit.AssertKeepsReceivingAsync(therapist, patient.ParticipantId, "during the flood");
            await RoomTestKit.AssertKeepsReceivingAsync(patient, therapist.ParticipantId, "during the flood");
            var forwardedDuring = media.Totals().VideoPacketsOut + media.Totals().AudioPacketsOut;
            Assert.True(forwardedDuring > forwardedBefore, "the server forwarded nothing during the flood");

            var done = await Task.WhenAll(floods.Select(f => ReadEventAsync(f, "done")));
            kit.Log($"peaks: http {peakHttp}, ice-tcp {peakIceTcp}, budget {peakBudget}/{budget.Capacity}; refused: http total {http.RefusedTotal}, " +
                $"per address {http.RefusedPerAddress}, fd {http.RefusedFileDescriptors}; ice-tcp refused {media.IceTcpRefused}, timed out {media.IceTcpTimedOut}; " +
                $"open after the hold: {string.Join(", ", done.Select(d => d.GetProperty("open_after_hold").GetInt32()))}");
            Assert.InRange(peakHttp, 0, limits.HttpConnections);
            Assert.InRange(peakIceTcp, 0, media.Options.IceTcpMaxConnections);
            Assert.True(http.RefusedTotal + http.RefusedPerAddress > 0, "the HTTP caps never refused a connection");
            Assert.True(media.IceTcpRefused > 0, "the ICE-TCP caps never refused a connection");
        }
        finally
        {
            foreach (var flood in floods)
            {
                if (!flood.HasExited) flood.Kill();
                flood.Dispose();
            }
        }

        // After the flood: the session still runs, and new clients are served.
        Assert.False(therapist.Ended.IsCompleted || patient.Ended.IsCompleted, "a participant of the live session was disconnected");
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patient.ParticipantId, "after the flood");
        Assert.True(await RoomTestKit.WaitUntilAsync(async () =>
        {
            try
            {
                return await kit.Host.CreateClient().GetStringAsync("/healthz") == "ok";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, RoomTestKit.Generous), "the server did not serve a new client after the flood");
        var (_, other, _) = await kit.StartPairAsync("after-flood");
        Assert.False(other.Ended.IsCompleted);
    }

    private static async Task<JsonElement> ReadEventAsync(Process process, string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            var json = JsonDocument.Parse(line).RootElement.Clone();
            if (json.GetProperty("event").GetString() == name) return json;
        }
        throw new InvalidOperationException($"the flooder ended without '{name}': {await process.StandardError.ReadToEndAsync()}");
    }
}
