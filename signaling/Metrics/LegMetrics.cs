using Prometheus;
using TeleRehab.Media.Rooms;

namespace TeleRehab.Signaling.Metrics;

/// <summary>Per-leg series (one leg = what the SFU sends one participant), read from the rooms at scrape time:
/// the leg's bandwidth estimate and round trip, its pacer's delay, the layer switches and retransmissions of its
/// subscriptions, and which layer each subscription gets. Labelled by room and participant id, so the series are
/// bounded by rooms × participants (× tracks for <c>telerehab_subscription_layer</c>); series of legs and rooms that
/// are gone are removed at the next scrape.</summary>
public sealed class LegMetrics
{
    /// <summary>How long a scrape (or the hub's LinkStats) waits for a room's worker: a stuck worker costs its
    /// room's figures for that round, never the whole scrape.</summary>
    public static readonly TimeSpan RoomTimeout = TimeSpan.FromMilliseconds(500);

    private static readonly string[] LegLabels = ["room", "participant"];
    private static readonly string[] LayerLabels = ["room", "subscriber", "publisher", "kind", "layer"];

    private readonly Gauge _estimate;
    private readonly Gauge _roundTrip;
    private readonly Gauge _pacerDelay;
    private readonly Gauge _pacerLongest;
    private readonly Counter _pacerWait;
    private readonly Counter _paced;
    private readonly Counter _switches;
    private readonly Counter _retransmissions;
    private readonly Gauge _layer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, RoomSeries> _rooms = new(StringComparer.Ordinal);

    private sealed class RoomSeries
    {
        public HashSet<string> Legs { get; } = new(StringComparer.Ordinal);
        public HashSet<(string Subscriber, string Publisher, string Kind, string Layer)> Layers { get; } = [];
    }

    public LegMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _estimate = factory.CreateGauge("telerehab_leg_estimate_bps",
            "The SFU's bandwidth estimate of the link to a participant, bits/s (0: no estimate yet, no feedback from the participant).", LegLabels);
        _roundTrip = factory.CreateGauge("telerehab_leg_rtt_seconds", "Smoothed round-trip time of the link to a participant.", LegLabels);
        _pacerDelay = factory.CreateGauge("telerehab_leg_pacer_delay_seconds",
            "Mean time packets to a participant waited in the pacer, since its leg started.", LegLabels);
        _pacerLongest = factory.CreateGauge("telerehab_leg_pacer_longest_delay_seconds",
            "Longest time a packet to a participant waited in the pacer, since its leg started.", LegLabels);
        _pacerWait = factory.CreateCounter("telerehab_leg_pacer_wait_seconds_total",
            "Total time packets to a participant waited in the pacer (with telerehab_leg_paced_packets_total: the mean over any window).", LegLabels);
        _paced = factory.CreateCounter("telerehab_leg_paced_packets_total", "Packets to a participant that went through the pacer.", LegLabels);
        _switches = factory.CreateCounter("telerehab_leg_layer_switches_total",
            "Simulcast/temporal layer switches of a participant's subscriptions (summed over them).", LegLabels);
        _retransmissions = factory.CreateCounter("telerehab_leg_retransmissions_total",
            "Packets resent to a participant on its NACKs (summed over its subscriptions).", LegLabels);
        _layer = factory.CreateGauge("telerehab_subscription_layer",
            "1 for the layer each subscription forwards now (\"S1T2\", \"paused\", or \"all\" for a single-layer track).", LayerLabels);
    }

    /// <summary>Asks every room for its legs (all at once, each bounded by <see cref="RoomTimeout"/>) and brings the
    /// series up to date. A room that does not answer in time keeps the series of its last answer.</summary>
    public async Task UpdateAsync(IEnumerable<MediaRoom> rooms, CancellationToken cancel)
    {
        var list = rooms.ToList();
        var answers = await Task.WhenAll(list.Select(r => TryGetLegStatsAsync(r, cancel))).ConfigureAwait(false);
        lock (_lock)
        {
            var open = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < list.Count; i++)
            {
                open.Add(list[i].Id);
                if (answers[i] is { } legs) Apply(list[i].Id, legs);
            }
            foreach (var gone in _rooms.Keys.Where(id => !open.Contains(id)).ToList()) Forget(gone);
        }
    }

    /// <summary>A room's legs as its worker reports them, or null when it did not answer within
    /// <see cref="RoomTimeout"/> (or failed, or is closing).</summary>
    public static async Task<IReadOnlyList<LegStats>?> TryGetLegStatsAsync(MediaRoom room, CancellationToken cancel)
    {
        try
        {
            return await room.GetLegStatsAsync().WaitAsync(RoomTimeout, cancel).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Sets the series of room <paramref name="roomId"/> to <paramref name="legs"/> and removes those of legs
    /// and layers it no longer has.</summary>
    public void Apply(string roomId, IReadOnlyList<LegStats> legs)
    {
        lock (_lock)
        {
            if (!_rooms.TryGetValue(roomId, out var series)) _rooms[roomId] = series = new RoomSeries();
            var legsNow = new HashSet<string>(StringComparer.Ordinal);
            var layersNow = new HashSet<(string, string, string, string)>();
            foreach (var leg in legs)
            {
                legsNow.Add(leg.ParticipantId);
                string[] labels = [roomId, leg.ParticipantId];
                _estimate.WithLabels(labels).Set(leg.EstimateBps);
                _roundTrip.WithLabels(labels).Set(leg.RoundTrip.TotalSeconds);
                _pacerDelay.WithLabels(labels).Set(leg.PacketsPaced > 0 ? leg.PacerTotalWait.TotalSeconds / leg.PacketsPaced : 0);
                _pacerLongest.WithLabels(labels).Set(leg.PacerLongestWait.TotalSeconds);
                SetCounter(_pacerWait, labels, leg.PacerTotalWait.TotalSeconds);
                SetCounter(_paced, labels, leg.PacketsPaced);
                long switches = 0, retransmissions = 0;
                foreach (var subscription in leg.Subscriptions)
                {
                    switches += subscription.LayerSwitches;
                    retransmissions += subscription.Retransmissions;
                    var layer = (leg.ParticipantId, subscription.PublisherId, subscription.Kind, subscription.Layer);
                    if (layersNow.Add(layer)) _layer.WithLabels(roomId, layer.ParticipantId, layer.PublisherId, layer.Kind, layer.Layer).Set(1);
                }
                SetCounter(_switches, labels, switches);
                SetCounter(_retransmissions, labels, retransmissions);
            }
            foreach (var gone in series.Legs.Where(p => !legsNow.Contains(p)).ToList()) RemoveLeg(roomId, gone);
            foreach (var (subscriber, publisher, kind, layer) in series.Layers.Where(l => !layersNow.Contains(l)).ToList())
                _layer.RemoveLabelled(roomId, subscriber, publisher, kind, layer);
            series.Legs.Clear();
            series.Legs.UnionWith(legsNow);
            series.Layers.Clear();
            series.Layers.UnionWith(layersNow);
        }
    }

    /// <summary>Removes every series of room <paramref name="roomId"/> (it closed).</summary>
    public void Forget(string roomId)
    {
        lock (_lock)
        {
            if (!_rooms.Remove(roomId, out var series)) return;
            foreach (var participant in series.Legs) RemoveLeg(roomId, participant);
            foreach (var (subscriber, publisher, kind, layer) in series.Layers) _layer.RemoveLabelled(roomId, subscriber, publisher, kind, layer);
        }
    }

    private void RemoveLeg(string roomId, string participantId)
    {
        foreach (var gauge in new[] { _estimate, _roundTrip, _pacerDelay, _pacerLongest }) gauge.RemoveLabelled(roomId, participantId);
        foreach (var counter in new[] { _pacerWait, _paced, _switches, _retransmissions }) counter.RemoveLabelled(roomId, participantId);
    }

    /// <summary>Brings a counter to a leg's running total. A lower total means the leg started again (the participant
    /// rejoined between two scrapes): the series restarts from it, as a counter reset.</summary>
    private static void SetCounter(Counter counter, string[] labels, double total)
    {
        var child = counter.WithLabels(labels);
        if (total < child.Value)
        {
            counter.RemoveLabelled(labels);
            child = counter.WithLabels(labels);
        }
        child.IncTo(total);
    }
}
