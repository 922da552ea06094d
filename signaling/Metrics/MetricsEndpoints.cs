using Prometheus;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Hosting;

namespace TeleRehab.Signaling.Metrics;

/// <summary>Registers <see cref="MediaMetrics"/> in a registry of this app's own, and serves it at <c>/metrics</c>
/// (Prometheus text format, no API key: keep the port internal or filter the path at the proxy).</summary>
public static class MetricsEndpoints
{
    public const string Path = "/metrics";

    public static IServiceCollection AddMediaMetrics(this IServiceCollection services)
    {
        services.AddSingleton(_ => new MediaMetrics(Prometheus.Metrics.NewCustomRegistry()));
        return services;
    }

    /// <summary>Maps <c>/metrics</c> and exports, at scrape time, what the media server counts today.</summary>
    public static void MapMediaMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<MediaMetrics>();
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var peers = factory.CreateGauge("telerehab_media_peers", "Peers (echo and room) registered with the media server.");
        var dropped = factory.CreateCounter("telerehab_media_dropped_datagrams_total",
            "Datagrams that matched no peer or could not be demultiplexed.");
        var echoPeers = factory.CreateGauge("telerehab_echo_active_peers", "Connection-check (echo) peers running.");

        var services = app.Services;
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            var media = services.GetRequiredService<MediaServer>();
            peers.Set(media.PeerCount);
            dropped.IncTo(media.DroppedDatagrams);
            echoPeers.Set(services.GetRequiredService<EchoService>().ActivePeers);
        });
        app.MapMetrics(Path, metrics.Registry);
    }
}
