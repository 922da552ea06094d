using Prometheus;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Rooms;

namespace TeleRehab.Signaling.Metrics;

/// <summary>Registers <see cref="MediaMetrics"/> in a registry of this app's own, and serves it at <c>/metrics</c>
/// (Prometheus text format, no API key: keep the port internal or filter the path at the proxy).</summary>
public static class MetricsEndpoints
{
    public const string Path = "/metrics";

    public static IServiceCollection AddMediaMetrics(this IServiceCollection services)
    {
        services.AddSingleton(_ => new MediaMetrics(Prometheus.Metrics.NewCustomRegistry()));
        services.AddSingleton(sp => new LegMetrics(sp.GetRequiredService<MediaMetrics>().Registry));
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
        // Resolved when first needed: a bad media setting must fail start-up with its own message, not here.
        app.Lifetime.ApplicationStarted.Register(() => services.GetRequiredService<MediaServer>().ForwardingDelayObserver = metrics.ObserveForwardingDelay);
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            var mediaServer = services.GetRequiredService<MediaServer>();
            peers.Set(mediaServer.PeerCount);
            dropped.IncTo(mediaServer.DroppedDatagrams);
            echoPeers.Set(services.GetRequiredService<EchoService>().ActivePeers);
            metrics.Update(mediaServer.Totals());
            var rooms = services.GetRequiredService<RoomManager>();
            int roomCount = 0, participants = 0, audio = 0, video = 0;
            foreach (var room in rooms.Rooms)
            {
                roomCount++;
                participants += room.ParticipantCount;
                foreach (var track in room.Tracks)
                {
                    if (track.Kind == "video") video++;
                    else audio++;
                }
            }
            metrics.Rooms.Set(roomCount);
            metrics.Participants.Set(participants);
            metrics.Tracks(MediaKind.Audio).Set(audio);
            metrics.Tracks(MediaKind.Video).Set(video);
        });
        // Per-leg series: the room workers answer on their own threads; each room is bounded by LegMetrics.RoomTimeout.
        var legs = services.GetRequiredService<LegMetrics>();
        metrics.Registry.AddBeforeCollectCallback(cancel => legs.UpdateAsync(services.GetRequiredService<RoomManager>().Rooms, cancel));
        // GET only (HEAD comes with it); any other method gets 405.
        app.MapGet(Path, async (HttpContext http) =>
        {
            http.Response.ContentType = PrometheusConstants.ExporterContentTypeValue.ToString();
            await metrics.Registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted);
        });
    }
}
