using TeleRehab.Media.Rooms;
using TeleRehab.Signaling.Metrics;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Signaling.Hubs;

public sealed partial class RoomCoordinator
{
    /// <summary>Sends every admitted participant with a media leg its <c>LinkStats</c> (docs/signalling.md), and each
    /// therapist the other participants' downlink estimates too. One call covers all rooms (the caller's single timer
    /// calls it every couple of seconds); the rooms' workers are asked at once, each bounded by
    /// <see cref="LegMetrics.RoomTimeout"/>; a room that does not answer is skipped this round.</summary>
    internal async Task PublishLinkStatsAsync(CancellationToken cancel)
    {
        List<LiveRoom> rooms;
        lock (_lock) rooms = _rooms.Values.Where(r => !r.Ended && r.JoinedMembers.Any()).ToList();
        if (rooms.Count == 0) return;
        var answers = await Task.WhenAll(rooms.Select(r => LegMetrics.TryGetLegStatsAsync(r.Media, cancel))).ConfigureAwait(false);
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            for (var i = 0; i < rooms.Count; i++)
            {
                var room = rooms[i];
                if (answers[i] is not { } legs || room.Ended || !_rooms.TryGetValue(room.Id, out var current) || !ReferenceEquals(current, room)) continue;
                AddLinkStats(room, legs, sends);
            }
        }
        Run(sends);
    }

    private static void AddLinkStats(LiveRoom room, IReadOnlyList<LegStats> legs, List<Outgoing> sends)
    {
        var joined = room.JoinedMembers.ToDictionary(m => m.Id, StringComparer.Ordinal);
        var ofLeg = new List<(Member Member, LegStats Leg)>(legs.Count);
        foreach (var leg in legs)
        {
            if (joined.TryGetValue(leg.ParticipantId, out var member)) ofLeg.Add((member, leg));
        }
        List<DownlinkDto>? downlinks = null;
        foreach (var (member, leg) in ofLeg)
        {
            List<DownlinkDto>? others = null;
            if (member.Role == ParticipantRole.Therapist)
            {
                downlinks ??= ofLeg.Select(x => new DownlinkDto(x.Member.Id, Kbps(x.Leg.EstimateBps), Milliseconds(x.Leg.RoundTrip))).ToList();
                others = downlinks.Where(d => d.ParticipantId != member.Id).ToList();
            }
            sends.Add(new Outgoing(member.ConnectionId, "LinkStats", ToDto(member, leg, others)));
        }
    }

    /// <summary>The participant's own leg; the pacer delay is the mean over the packets paced since the last one (a
    /// leg that started again, after a rejoin, counts from its start).</summary>
    private static LinkStatsDto ToDto(Member member, LegStats leg, List<DownlinkDto>? downlinks)
    {
        var paced = leg.PacketsPaced - member.LastPacketsPaced;
        var waited = leg.PacerTotalWait - member.LastPacerWait;
        if (paced < 0 || waited < TimeSpan.Zero) (paced, waited) = (leg.PacketsPaced, leg.PacerTotalWait);
        member.LastPacketsPaced = leg.PacketsPaced;
        member.LastPacerWait = leg.PacerTotalWait;
        var pacerDelayMs = paced > 0 ? Math.Round(waited.TotalMilliseconds / paced, 2) : 0;
        var subscriptions = leg.Subscriptions.Select(s =>
            new LinkSubscriptionDto(s.PublisherId, s.TrackId, s.Kind, s.Layer, s.Target, s.LayerSwitches, s.Retransmissions)).ToList();
        return new LinkStatsDto(Kbps(leg.EstimateBps), Milliseconds(leg.RoundTrip), pacerDelayMs, subscriptions, downlinks);
    }

    private static int Kbps(long bps) => (int)Math.Min(int.MaxValue, bps / 1000);

    private static int Milliseconds(TimeSpan time) => (int)Math.Round(time.TotalMilliseconds);
}
