using System.Net;
using System.Text.RegularExpressions;
using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>Each participant learns its own downlink as the SFU sees it (the hub's LinkStats), the therapist also the
/// patient's, and /metrics carries the same legs while they last.</summary>
[Collection(RoomClientCollection.Name)]
public sealed partial class LinkStatsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    [GeneratedRegex("^(S[0-9]+T[0-9]+|paused|all)$")]
    private static partial Regex LayerName();

    [Fact]
    public async Task In_a_one_to_one_room_both_receive_link_stats_with_their_subscriptions_and_metrics_show_each_leg()
    {
        var (sessionId, therapist, patient) = await _kit.StartPairAsync("link");

        foreach (var (receiver, sender) in new[] { (therapist, patient), (patient, therapist) })
        {
            var ok = await RoomTestKit.WaitUntilAsync(() => receiver.LinkStats is { Subscriptions.Count: 2 }, RoomTestKit.Generous);
            Assert.True(ok, $"{receiver.Name} got no LinkStats with two subscriptions ({receiver.LinkStatsReceived} received)");
            var stats = receiver.LinkStats!;
            _kit.Log($"{receiver.Name}: {stats.EstimateKbps} kbit/s, rtt {stats.RttMs} ms, pacer {stats.PacerDelayMs} ms; " +
                string.Join(", ", stats.Subscriptions.Select(s => $"{s.Kind} {s.Layer}->{s.Target}")));
            Assert.Equal(["audio", "video"], stats.Subscriptions.Select(s => s.Kind).Order());
            foreach (var subscription in stats.Subscriptions)
            {
                Assert.Equal(sender.ParticipantId, subscription.ParticipantId);
                Assert.Equal(receiver.Tracks.Single(t => t.Kind == subscription.Kind).TrackId, subscription.TrackId);
                Assert.Matches(LayerName(), subscription.Layer);
                Assert.Matches(LayerName(), subscription.Target);
                Assert.True(subscription.Switches >= 0 && subscription.Retransmissions >= 0);
            }
            Assert.True(stats.EstimateKbps >= 0 && stats.RttMs >= 0 && stats.PacerDelayMs >= 0);
        }
        // The therapist sees the patient's downlink; the patient gets no one else's.
        var downlink = Assert.Single(therapist.LinkStats!.Downlinks ?? []);
        Assert.Equal(patient.ParticipantId, downlink.ParticipantId);
        Assert.Null(patient.LinkStats!.Downlinks);
        // Periodic: more keep coming.
        var received = patient.LinkStatsReceived;
        Assert.True(await RoomTestKit.WaitUntilAsync(() => patient.LinkStatsReceived > received, RoomTestKit.Generous));

        var text = await ScrapeAsync();
        foreach (var client in new[] { therapist, patient })
        {
            Assert.Contains($"telerehab_leg_estimate_bps{{room=\"{sessionId}\",participant=\"{client.ParticipantId}\"}}", text);
            Assert.Contains($"telerehab_leg_rtt_seconds{{room=\"{sessionId}\",participant=\"{client.ParticipantId}\"}}", text);
            Assert.Contains($"telerehab_leg_layer_switches_total{{room=\"{sessionId}\",participant=\"{client.ParticipantId}\"}}", text);
            Assert.Contains($"telerehab_leg_retransmissions_total{{room=\"{sessionId}\",participant=\"{client.ParticipantId}\"}}", text);
            Assert.Contains($"telerehab_leg_pacer_delay_seconds{{room=\"{sessionId}\",participant=\"{client.ParticipantId}\"}}", text);
        }
        Assert.Matches($"telerehab_subscription_layer\\{{room=\"{sessionId}\",subscriber=\"{patient.ParticipantId}\",publisher=\"{therapist.ParticipantId}\",kind=\"video\",layer=\"[A-Za-z0-9]+\"\\}} 1", text);

        // The patient leaves: its series go at the next scrape.
        await patient.InvokeAsync(HubNames.Leave);
        Assert.True(await RoomTestKit.WaitUntilAsync(async () =>
        {
            var now = await ScrapeAsync();
            return !now.Contains($"participant=\"{patient.ParticipantId}\"") && !now.Contains($"subscriber=\"{patient.ParticipantId}\"");
        }, RoomTestKit.Generous), "the patient's leg series stayed after it left");
    }

    private async Task<string> ScrapeAsync()
    {
        using var http = _kit.Host.CreateClient();
        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
