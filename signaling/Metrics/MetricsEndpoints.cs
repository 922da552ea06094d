using Prometheus;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Rooms;
using TeleRehab.Signaling.Limits;

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
    private static string PoseOutcomeLabel(PoseFrameOutcome outcome) => outcome switch
    {
        PoseFrameOutcome.NotSender => "not_sender",
        PoseFrameOutcome.SendFailed => "send_failed",
        _ => outcome.ToString().ToLowerInvariant(),
    };

    public static void MapMediaMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<MediaMetrics>();
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var peers = factory.CreateGauge("telerehab_media_peers", "Peers (echo and room) registered with the media server.");
        var dropped = factory.CreateCounter("telerehab_media_dropped_datagrams_total",
            "Datagrams that matched no peer or could not be demultiplexed.");
        var timerRuns = factory.CreateCounter("telerehab_media_timer_runs_total",
            "Peer timers the media workers ran (pacing, feedback, reports, probes): some hundreds a second per busy peer; far more is a busy loop.");
        var staleDeadlines = factory.CreateCounter("telerehab_media_stale_deadlines_total",
            "Peer timer runs after which the peer's deadline was still due (run again 1 ms later instead of at once): 0 unless a peer has a bug.");
        var echoPeers = factory.CreateGauge("telerehab_echo_active_peers", "Connection-check (echo) peers running.");

        var httpOpen = factory.CreateGauge("telerehab_http_connections", "HTTP connections open (WebSockets included).");
        var refused = factory.CreateCounter("telerehab_connections_refused_total",
            "Connections closed at once for a limit (docs/security.md), by kind and limit.", "kind", "limit");
        var iceTcpOpen = factory.CreateGauge("telerehab_ice_tcp_connections", "ICE-TCP connections open.");
        var iceTcpClosed = factory.CreateCounter("telerehab_ice_tcp_closed_total",
            "ICE-TCP connections closed by the server before or after authenticating, by reason.", "reason");
        var hubRefused = factory.CreateCounter("telerehab_hub_refused_calls_total", "Hub calls refused (bad token, bad arguments, forbidden).");
        var retransmissionMemory = factory.CreateGauge("telerehab_retransmission_memory_bytes",
            "Bytes of retransmission buffers the publications on this server hold (capped by TeleRehab:Limits:RetransmissionMemoryMB).");
        var dcMessages = factory.CreateCounter("telerehab_datachannel_messages_total",
            "Data channel user messages, by direction (in: from peers, out: queued to peers).", "direction");
        var dcDropped = factory.CreateCounter("telerehab_datachannel_dropped_total",
            "Data channel input dropped, by reason: too_large (over our max-message-size), send_too_large (over the peer's), " +
            "buffer_full (send buffer full), bad_packet (not a valid SCTP packet), protocol (unknown DCEP or PPID, no channel).", "reason");
        var dcChannels = factory.CreateCounter("telerehab_datachannel_channels_total",
            "Data channels opened, and channels a peer opened that the policy refused, by result.", "result");
        var poseFrames = factory.CreateCounter("telerehab_pose_frames_total",
            "Pose keypoint frames: received from senders, forwarded (once per receiver), and dropped by reason " +
            "(flooded: over a sender's rate cap; malformed; undecodable; not_sender; superseded: replaced by a newer frame " +
            "before it left; send_failed).", "outcome");
        var hubClosed = factory.CreateCounter("telerehab_hub_connections_closed_total", "Hub connections the server closed for a limit, by reason.", "reason");

        var services = app.Services;
        // Resolved when first needed: a bad media setting must fail start-up with its own message, not here.
        app.Lifetime.ApplicationStarted.Register(() => services.GetRequiredService<MediaServer>().ForwardingDelayObserver = metrics.ObserveForwardingDelay);
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            var mediaServer = services.GetRequiredService<MediaServer>();
            peers.Set(mediaServer.PeerCount);
            dropped.IncTo(mediaServer.DroppedDatagrams);
            timerRuns.IncTo(mediaServer.TimerRuns);
            staleDeadlines.IncTo(mediaServer.StaleDeadlines);
            echoPeers.Set(services.GetRequiredService<EchoService>().ActivePeers);
            var totals = mediaServer.Totals();
            metrics.Update(totals);
            foreach (var outcome in Enum.GetValues<PoseFrameOutcome>())
                poseFrames.WithLabels(PoseOutcomeLabel(outcome)).IncTo(totals.PoseFrames[(int)outcome]);
            var http = services.GetRequiredService<HttpConnectionLimiter>();
            httpOpen.Set(http.Open);
            refused.WithLabels("http", "file_descriptors").IncTo(http.RefusedFileDescriptors);
            refused.WithLabels("http", "total").IncTo(http.RefusedTotal);
            refused.WithLabels("http", "per_address").IncTo(http.RefusedPerAddress);
            var dc = mediaServer.DataChannels;
            dcMessages.WithLabels("in").IncTo(dc.MessagesReceivedTotal);
            dcMessages.WithLabels("out").IncTo(dc.MessagesSentTotal);
            dcDropped.WithLabels("too_large").IncTo(dc.DroppedTooLargeTotal);
            dcDropped.WithLabels("send_too_large").IncTo(dc.DroppedSendTooLargeTotal);
            dcDropped.WithLabels("buffer_full").IncTo(dc.DroppedBufferFullTotal);
            dcDropped.WithLabels("bad_packet").IncTo(dc.DroppedBadPacketTotal);
            dcDropped.WithLabels("protocol").IncTo(dc.DroppedProtocolTotal);
            dcChannels.WithLabels("opened").IncTo(dc.ChannelsOpenedTotal);
            dcChannels.WithLabels("refused").IncTo(dc.ChannelsRefusedTotal);
            iceTcpOpen.Set(mediaServer.IceTcpConnections);
            refused.WithLabels("ice_tcp", "caps").IncTo(mediaServer.IceTcpRefused);
            iceTcpClosed.WithLabels("timeout").IncTo(mediaServer.IceTcpTimedOut);
            iceTcpClosed.WithLabels("unauthenticated").IncTo(mediaServer.IceTcpUnauthenticated);
            var hub = services.GetRequiredService<HubGuard>();
            refused.WithLabels("hub", "per_address").IncTo(hub.RefusedPerAddress);
            hubRefused.IncTo(hub.RefusedCalls);
            hubClosed.WithLabels("call_rate").IncTo(hub.ClosedForRate);
            hubClosed.WithLabels("refused_calls").IncTo(hub.ClosedForRefusals);
            hubClosed.WithLabels("join_timeout").IncTo(hub.ClosedForJoinTimeout);
            var rooms = services.GetRequiredService<RoomManager>();
            retransmissionMemory.Set(rooms.RetransmissionMemory.ReservedBytes);
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
