using Prometheus;

namespace TeleRehab.Signaling.Metrics;

/// <summary>The kind of a media stream, the only label on the per-packet metrics (two values: bounded cardinality).</summary>
public enum MediaKind { Audio, Video }

/// <summary>The product's media metrics, all named <c>telerehab_*</c>, registered in one app's own
/// <see cref="CollectorRegistry"/> (so several hosts in one process, as in tests, do not share or collide).
/// Per-kind children are resolved once here, so recording is a lock-free add with no allocation or label lookup.</summary>
public sealed class MediaMetrics
{
    /// <summary>Histogram buckets for the forwarding delay: 50 µs to 50 ms.</summary>
    public static readonly double[] ForwardingDelayBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05];

    private static readonly string[] KindLabel = ["kind"];

    private readonly Counter.Child[] _packetsIn;
    private readonly Counter.Child[] _packetsOut;
    private readonly Counter.Child[] _bytesIn;
    private readonly Counter.Child[] _bytesOut;
    private readonly Gauge.Child[] _tracks;

    public MediaMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);

        Rooms = factory.CreateGauge("telerehab_rooms", "Rooms (sessions with media) open on this server.");
        Participants = factory.CreateGauge("telerehab_participants", "Participants connected to a room.");
        var tracks = factory.CreateGauge("telerehab_tracks", "Media tracks being forwarded, by kind.", KindLabel);
        var packetsIn = factory.CreateCounter("telerehab_packets_in_total", "RTP packets received from participants, by kind.", KindLabel);
        var packetsOut = factory.CreateCounter("telerehab_packets_out_total", "RTP packets sent to participants, by kind.", KindLabel);
        var bytesIn = factory.CreateCounter("telerehab_bytes_in_total", "RTP bytes received from participants (SRTP payload sizes), by kind.", KindLabel);
        var bytesOut = factory.CreateCounter("telerehab_bytes_out_total", "RTP bytes sent to participants (SRTP payload sizes), by kind.", KindLabel);
        NacksReceived = factory.CreateCounter("telerehab_nacks_received_total", "RTCP generic NACK messages received from subscribers.");
        NacksSent = factory.CreateCounter("telerehab_nacks_sent_total", "RTCP generic NACK messages sent to publishers.");
        PlisReceived = factory.CreateCounter("telerehab_plis_received_total", "RTCP picture loss indications received from subscribers.");
        PlisSent = factory.CreateCounter("telerehab_plis_sent_total", "RTCP picture loss indications sent to publishers.");
        Retransmissions = factory.CreateCounter("telerehab_retransmissions_total", "Packets retransmitted in answer to NACKs.");
        NackedPackets = factory.CreateCounter("telerehab_nacked_packets_total", "Packets subscribers NACKed.");
        NackedPacketsHeld = factory.CreateCounter("telerehab_nacked_packets_held_total",
            "Packets subscribers NACKed that the SFU still held (retransmissions / this = how well NACKs are answered).");
        TransportFeedbackSent = factory.CreateCounter("telerehab_transport_feedback_sent_total",
            "Transport-wide congestion control feedback messages sent to publishers.");
        IceFailures = factory.CreateCounter("telerehab_ice_failures_total", "Peers whose ICE connectivity failed or timed out.");
        DtlsFailures = factory.CreateCounter("telerehab_dtls_failures_total", "Peers whose DTLS handshake failed.");
        ForwardingDelay = factory.CreateHistogram("telerehab_forwarding_delay_seconds",
            "Time from receiving a packet to handing its forwarded copies to the socket.",
            new HistogramConfiguration { Buckets = ForwardingDelayBuckets });

        _tracks = Children(tracks);
        _packetsIn = Children(packetsIn);
        _packetsOut = Children(packetsOut);
        _bytesIn = Children(bytesIn);
        _bytesOut = Children(bytesOut);
    }

    public CollectorRegistry Registry { get; }

    public Gauge Rooms { get; }
    public Gauge Participants { get; }
    public Counter NacksReceived { get; }
    public Counter NacksSent { get; }
    public Counter PlisReceived { get; }
    public Counter PlisSent { get; }
    public Counter Retransmissions { get; }

    public Counter TransportFeedbackSent { get; }

    public Counter NackedPackets { get; }

    public Counter NackedPacketsHeld { get; }
    public Counter IceFailures { get; }
    public Counter DtlsFailures { get; }
    public Histogram ForwardingDelay { get; }

    public Gauge.Child Tracks(MediaKind kind) => _tracks[(int)kind];

    public void ObserveForwardingDelay(TimeSpan delay) => ForwardingDelay.Observe(delay.TotalSeconds);

    /// <summary>Brings the counters up to the media plane's totals (at scrape time: the workers count with plain
    /// increments and never touch Prometheus on the packet path).</summary>
    public void Update(TeleRehab.Media.Hosting.MediaTotals totals)
    {
        _packetsIn[(int)MediaKind.Audio].IncTo(totals.AudioPacketsIn);
        _packetsIn[(int)MediaKind.Video].IncTo(totals.VideoPacketsIn);
        _bytesIn[(int)MediaKind.Audio].IncTo(totals.AudioBytesIn);
        _bytesIn[(int)MediaKind.Video].IncTo(totals.VideoBytesIn);
        _packetsOut[(int)MediaKind.Audio].IncTo(totals.AudioPacketsOut);
        _packetsOut[(int)MediaKind.Video].IncTo(totals.VideoPacketsOut);
        _bytesOut[(int)MediaKind.Audio].IncTo(totals.AudioBytesOut);
        _bytesOut[(int)MediaKind.Video].IncTo(totals.VideoBytesOut);
        NacksReceived.IncTo(totals.NacksReceived);
        NacksSent.IncTo(totals.NacksSent);
        PlisReceived.IncTo(totals.PlisReceived);
        PlisSent.IncTo(totals.PlisSent);
        Retransmissions.IncTo(totals.Retransmissions);
        TransportFeedbackSent.IncTo(totals.TransportFeedbackSent);
        NackedPackets.IncTo(totals.NackedPackets);
        NackedPacketsHeld.IncTo(totals.NackedPacketsHeld);
        IceFailures.IncTo(totals.IceFailures);
        DtlsFailures.IncTo(totals.DtlsFailures);
    }

    private static Counter.Child[] Children(Counter counter) => [counter.WithLabels("audio"), counter.WithLabels("video")];

    private static Gauge.Child[] Children(Gauge gauge) => [gauge.WithLabels("audio"), gauge.WithLabels("video")];
}
