using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using TeleRehab.LoadTests;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Signaling.Hubs;
using TeleRehab.Signaling.Limits;

namespace TeleRehab.Media.Tests.Security;

/// <summary>The session hub's limits against one abusive connection: refused calls, call rate, time to Join, and hub
/// connections per address. Each runs against the real app over a real WebSocket.</summary>
public sealed class HubLimitTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string ApiKey = "hub-limit-test-key";
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private static HubConnection Connect(AppHost host) =>
        new HubConnectionBuilder().WithUrl(new Uri(host.BaseAddress, SessionHub.Path)).Build();

    private static Task<Exception?> ClosedAsync(HubConnection hub)
    {
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };
        return closed.Task;
    }

    [Fact]
    public async Task Ten_thousand_bad_calls_close_the_connection_and_cost_the_log_little()
    {
        var log = new LogCapture();
        await using var host = await AppHost.StartAsync(builder => builder.Logging.AddProvider(log));

        // One connection calls Join with a bad token, awaiting each answer, until the server closes it.
        await using var patient = Connect(host);
        var closed = ClosedAsync(patient);
        await patient.StartAsync();
        int refused = 0, calls = 0;
        for (; calls < 10_000; calls++)
        {
            try
            {
                await patient.InvokeAsync<System.Text.Json.JsonElement>("Join", "not-a-token");
            }
            catch (HubException ex)
            {
                Assert.Contains("unauthorized:", ex.Message);
                refused++;
            }
            catch (Exception)
            {
                // Anything but a refusal means the connection went away: the server closed it.
                break;
            }
        }
        await closed.WaitAsync(Generous);
        Assert.True(refused < 10_000, "the server never closed the connection");
        Assert.InRange(refused, 1, new LimitsOptions().HubRefusedCalls);

        // Another fires 10,000 calls without waiting for answers: closed for its rate.
        await using var flooder = Connect(host);
        var flooderClosed = ClosedAsync(flooder);
        await flooder.StartAsync();
        var sent = 0;
        try
        {
            for (; sent < 10_000 && !flooderClosed.IsCompleted; sent++) await flooder.SendAsync("Join", "not-a-token");
        }
        catch (InvalidOperationException)
        {
            // the connection is no longer active: the server closed it
        }
        await flooderClosed.WaitAsync(Generous);

        var entries = log.Entries;
        output.WriteLine($"first connection: {refused} refused calls before it was closed; second: {sent} sent; log: {entries.Count} lines, {log.Bytes} bytes");
        Assert.True(log.Bytes < 100_000, $"the log took {log.Bytes} bytes for 20,000 bad calls");
        Assert.DoesNotContain(entries, e => e.Exception is not null);
        var refusals = entries.Where(e => e.Message.Contains("refused on connection", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(refusals);
        Assert.All(refusals, e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.True(refusals.Count <= 2 * HubGuard.LoggedRefusalsPerConnection, $"{refusals.Count} refusal lines");
        Assert.Contains(entries, e => e.Message.Contains("closed:", StringComparison.Ordinal));
        var guard = host.Services.GetService(typeof(HubGuard)) as HubGuard;
        Assert.NotNull(guard);
        Assert.True(guard.ClosedForRefusals + guard.ClosedForRate >= 2);
        Assert.Equal("ok", await host.CreateClient().GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task A_connection_that_never_joins_is_closed_and_one_that_joins_stays()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Limits:HubJoinSeconds", "1"), ("TeleRehab:OperatorApiKey", ApiKey));
        using var api = new SessionApiClient(host, ApiKey);
        var session = await api.CreateAsync("one-to-one", waitingRoom: false);

        await using var idle = Connect(host);
        var idleClosed = ClosedAsync(idle);
        await using var member = Connect(host);
        var memberClosed = ClosedAsync(member);
        await Task.WhenAll(idle.StartAsync(), member.StartAsync());
        var joined = await member.InvokeAsync<System.Text.Json.JsonElement>("Join", SessionClient.TokenFromLink(session.TherapistLink));
        Assert.Equal("joined", joined.GetProperty("state").GetString());

        await idleClosed.WaitAsync(Generous);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(memberClosed.IsCompleted, "the joined connection was closed");
        Assert.Equal(HubConnectionState.Connected, member.State);
        Assert.Equal(1, ((HubGuard)host.Services.GetService(typeof(HubGuard))!).ClosedForJoinTimeout);
    }

    [Fact]
    public async Task Hub_connections_beyond_the_per_address_limit_are_closed()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Limits:HubConnectionsPerAddress", "2"));
        var hubs = Enumerable.Range(0, 3).Select(_ => Connect(host)).ToList();
        var closed = hubs.Select(ClosedAsync).ToList();
        try
        {
            foreach (var hub in hubs)
            {
                try
                {
                    await hub.StartAsync();
                }
                catch (Exception) when (hub.State == HubConnectionState.Disconnected)
                {
                    // closed during its handshake: as good as closed after it
                }
            }
            await closed[2].WaitAsync(Generous);
            await Task.Delay(500);
            Assert.False(closed[0].IsCompleted || closed[1].IsCompleted, "a connection within the limit was closed");

            // The slot comes back when a connection leaves.
            await hubs[0].StopAsync();
            await using var again = Connect(host);
            var againClosed = ClosedAsync(again);
            await again.StartAsync();
            await Task.Delay(500);
            Assert.False(againClosed.IsCompleted, "a connection was refused after a slot came free");
        }
        finally
        {
            foreach (var hub in hubs) await hub.DisposeAsync();
        }
    }
}
