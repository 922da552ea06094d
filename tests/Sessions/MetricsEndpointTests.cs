using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Signaling.Metrics;

namespace TeleRehab.Media.Tests.Sessions;

/// <summary><c>/metrics</c> over real HTTP, one registry per host.</summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private AppHost _host = null!;

    public async Task InitializeAsync() => _host = await AppHost.StartAsync();

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private async Task<string> ScrapeAsync(AppHost host)
    {
        using var http = host.CreateClient();
        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Metrics_are_served_without_a_key_and_list_every_product_metric()
    {
        var text = await ScrapeAsync(_host);
        foreach (var name in new[]
        {
            "telerehab_rooms", "telerehab_participants", "telerehab_tracks", "telerehab_packets_in_total", "telerehab_packets_out_total",
            "telerehab_bytes_in_total", "telerehab_bytes_out_total", "telerehab_nacks_received_total", "telerehab_nacks_sent_total",
            "telerehab_plis_received_total", "telerehab_plis_sent_total", "telerehab_retransmissions_total", "telerehab_ice_failures_total",
            "telerehab_dtls_failures_total", "telerehab_forwarding_delay_seconds", "telerehab_media_peers",
            "telerehab_media_dropped_datagrams_total", "telerehab_media_timer_runs_total", "telerehab_media_stale_deadlines_total", "telerehab_echo_active_peers",
            "telerehab_datachannel_messages_total", "telerehab_datachannel_dropped_total", "telerehab_datachannel_channels_total",
            "telerehab_pose_frames_total",
        })
        {
            Assert.Contains($"# TYPE {name} ", text);
        }
        Assert.Contains("telerehab_packets_in_total{kind=\"audio\"} 0", text);
        Assert.Contains("telerehab_forwarding_delay_seconds_bucket{le=\"5e-05\"} 0", text);
        Assert.Contains("telerehab_forwarding_delay_seconds_bucket{le=\"0.05\"} 0", text);
    }

    [Fact]
    public async Task Recorded_values_show_up_and_hosts_do_not_share_a_registry()
    {
        var metrics = _host.Services.GetRequiredService<MediaMetrics>();
        metrics.Update(new TeleRehab.Media.Hosting.MediaTotals { VideoPacketsIn = 2, VideoBytesIn = 2000 });
        metrics.ObserveForwardingDelay(TimeSpan.FromMicroseconds(300));

        var text = await ScrapeAsync(_host);
        Assert.Contains("telerehab_packets_in_total{kind=\"video\"} 2", text);
        Assert.Contains("telerehab_bytes_in_total{kind=\"video\"} 2000", text);
        Assert.Contains("telerehab_rooms 0", text); // the real count, read from the rooms at scrape time
        Assert.Contains("telerehab_forwarding_delay_seconds_bucket{le=\"0.0005\"} 1", text);
        Assert.Contains("telerehab_media_peers 0", text);
        Assert.Contains("telerehab_echo_active_peers 0", text);

        await using var other = await AppHost.StartAsync();
        var otherText = await ScrapeAsync(other);
        Assert.Contains("telerehab_packets_in_total{kind=\"video\"} 0", otherText);
        Assert.Contains("telerehab_rooms 0", otherText);
    }
}

public sealed class MediaMetricsTests
{
    [Fact]
    public void Recording_allocates_nothing()
    {
        var metrics = new MediaMetrics(Prometheus.Metrics.NewCustomRegistry());
        void Record()
        {
            metrics.Tracks(MediaKind.Video).Inc();
            metrics.NacksReceived.Inc();
            metrics.ObserveForwardingDelay(TimeSpan.FromMicroseconds(120));
        }
        Record();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++) Record();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1001, metrics.Tracks(MediaKind.Video).Value);
    }
}
