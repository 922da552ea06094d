using System.Text;
using Prometheus;
using TeleRehab.Media.Rooms;
using TeleRehab.Signaling.Metrics;

namespace TeleRehab.Media.Tests.Sessions;

/// <summary>Per-leg series from <see cref="LegStats"/>: values, sums over subscriptions, layer info series, removal of
/// legs, layers and rooms that are gone, and a counter that restarts with a new leg.</summary>
public sealed class LegMetricsTests
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly LegMetrics _legs;

    public LegMetricsTests() => _legs = new LegMetrics(_registry);

    private static LegStats Leg(string id, long estimate, string videoLayer, long switches = 0, long retransmissions = 0, long paced = 100) => new(
        id, estimate, 10, TimeSpan.FromMilliseconds(80), paced, TimeSpan.FromMilliseconds(12), TimeSpan.FromMilliseconds(paced * 2), 0,
        [
            new SubscriptionStats("t-audio", "other", "audio", "all", "all", 0, 1),
            new SubscriptionStats("t-video", "other", "video", videoLayer, "S1T2", switches, retransmissions),
        ]);

    private async Task<string> ScrapeAsync()
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task A_legs_figures_are_labelled_by_room_and_participant_and_summed_over_its_subscriptions()
    {
        _legs.Apply("room1", [Leg("p1", 450_000, "S0T2", switches: 3, retransmissions: 4)]);
        var text = await ScrapeAsync();
        Assert.Contains("telerehab_leg_estimate_bps{room=\"room1\",participant=\"p1\"} 450000", text);
        Assert.Contains("telerehab_leg_rtt_seconds{room=\"room1\",participant=\"p1\"} 0.08", text);
        Assert.Contains("telerehab_leg_pacer_delay_seconds{room=\"room1\",participant=\"p1\"} 0.002", text);
        Assert.Contains("telerehab_leg_pacer_longest_delay_seconds{room=\"room1\",participant=\"p1\"} 0.012", text);
        Assert.Contains("telerehab_leg_paced_packets_total{room=\"room1\",participant=\"p1\"} 100", text);
        Assert.Contains("telerehab_leg_layer_switches_total{room=\"room1\",participant=\"p1\"} 3", text);
        Assert.Contains("telerehab_leg_retransmissions_total{room=\"room1\",participant=\"p1\"} 5", text);
        Assert.Contains("telerehab_subscription_layer{room=\"room1\",subscriber=\"p1\",publisher=\"other\",kind=\"video\",layer=\"S0T2\"} 1", text);
        Assert.Contains("telerehab_subscription_layer{room=\"room1\",subscriber=\"p1\",publisher=\"other\",kind=\"audio\",layer=\"all\"} 1", text);
    }

    [Fact]
    public async Task A_layer_change_replaces_the_series_and_gone_legs_and_rooms_lose_theirs()
    {
        _legs.Apply("room1", [Leg("p1", 450_000, "S0T2"), Leg("p2", 0, "paused")]);
        _legs.Apply("room2", [Leg("q1", 900_000, "S1T2")]);
        _legs.Apply("room1", [Leg("p1", 500_000, "S1T2")]);
        var text = await ScrapeAsync();
        Assert.Contains("layer=\"S1T2\"} 1", text);
        Assert.DoesNotContain("layer=\"S0T2\"", text);
        Assert.DoesNotContain("participant=\"p2\"", text);
        Assert.DoesNotContain("subscriber=\"p2\"", text);
        Assert.Contains("telerehab_leg_estimate_bps{room=\"room2\",participant=\"q1\"} 900000", text);

        _legs.Forget("room2");
        text = await ScrapeAsync();
        Assert.DoesNotContain("room=\"room2\"", text);
        Assert.Contains("telerehab_leg_estimate_bps{room=\"room1\",participant=\"p1\"} 500000", text);
    }

    [Fact]
    public async Task A_leg_that_started_again_restarts_its_counters()
    {
        _legs.Apply("room1", [Leg("p1", 450_000, "S1T2", switches: 7, paced: 1000)]);
        _legs.Apply("room1", [Leg("p1", 300_000, "S1T2", switches: 1, paced: 50)]);
        var text = await ScrapeAsync();
        Assert.Contains("telerehab_leg_layer_switches_total{room=\"room1\",participant=\"p1\"} 1", text);
        Assert.Contains("telerehab_leg_paced_packets_total{room=\"room1\",participant=\"p1\"} 50", text);
    }
}
