namespace TeleRehab.Media.Bwe;

/// <summary>
/// Computes what a probe cluster showed from its packets' feedback: the rate they were sent at (bytes of all but
/// the last packet over the send interval) and the rate they arrived at (all but the first over the receive
/// interval). The result is the smaller; when they arrived clearly slower than sent (below 90 %) the link was
/// saturated and 95 % of the receive rate is taken. A cluster needs 80 % of its packets and bytes, both intervals
/// positive and under a second, and a receive rate at most twice the send rate (else the timestamps are not
/// trusted). Each cluster yields at most one result. A small fixed table of clusters; no allocation.
/// </summary>
public sealed class ProbeBitrateEstimator
{
    private const int Slots = 8;
    private const double MinReceivedFraction = 0.8;
    private const double MaxReceiveToSendRatio = 2.0;
    private const double SaturatedRatio = 0.9;
    private const double SaturatedUtilisation = 0.95;
    private static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxClusterAge = TimeSpan.FromSeconds(2);

    private struct Cluster
    {
        public int Id;
        public int MinPackets, MinBytes;
        public TimeSpan Created;
        public TimeSpan FirstSend, LastSend, FirstArrival, LastArrival;
        public int LastSendSize, FirstArrivalSize;
        public int Packets, Lost;
        public long Bytes;
        public bool Reported, Touched;
    }

    private readonly Cluster[] _clusters = new Cluster[Slots];

    public ProbeBitrateEstimator()
    {
        for (int i = 0; i < Slots; i++) _clusters[i].Id = -1;
    }

    /// <summary>Announces a cluster the pacer is about to send.</summary>
    public void Register(in ProbeCluster cluster, TimeSpan now)
    {
        ref var c = ref _clusters[cluster.Id % Slots];
        c = default;
        c.Id = cluster.Id;
        c.MinPackets = cluster.MinPackets;
        c.MinBytes = cluster.MinBytes;
        c.Created = now;
    }

    /// <summary>Adds one packet result that belongs to a probe cluster.</summary>
    public void OnPacketResult(in PacketResult packet)
    {
        if (packet.ProbeClusterId < 0) return;
        ref var c = ref _clusters[packet.ProbeClusterId % Slots];
        if (c.Id != packet.ProbeClusterId || c.Reported) return;
        c.Touched = true;
        if (!packet.Received)
        {
            c.Lost++;
            return;
        }
        if (c.Packets == 0)
        {
            c.FirstSend = c.LastSend = packet.SendTime;
            c.FirstArrival = c.LastArrival = packet.ArrivalTime;
            c.LastSendSize = c.FirstArrivalSize = packet.Size;
        }
        else
        {
            if (packet.SendTime < c.FirstSend) c.FirstSend = packet.SendTime;
            if (packet.SendTime >= c.LastSend) { c.LastSend = packet.SendTime; c.LastSendSize = packet.Size; }
            if (packet.ArrivalTime < c.FirstArrival) { c.FirstArrival = packet.ArrivalTime; c.FirstArrivalSize = packet.Size; }
            if (packet.ArrivalTime > c.LastArrival) c.LastArrival = packet.ArrivalTime;
        }
        c.Packets++;
        c.Bytes += packet.Size;
    }

    /// <summary>
    /// After a feedback's packets were added: the best new result among the clusters it touched, if any.
    /// </summary>
    public bool TryGetResult(TimeSpan now, out int clusterId, out double bps)
    {
        clusterId = -1;
        bps = 0;
        for (int i = 0; i < Slots; i++)
        {
            ref var c = ref _clusters[i];
            if (c.Id < 0) continue;
            if (now - c.Created > MaxClusterAge) { c.Id = -1; continue; }
            if (!c.Touched || c.Reported) continue;
            c.Touched = false;
            if (TryCompute(ref c, out double rate))
            {
                c.Reported = true;
                if (rate > bps) { bps = rate; clusterId = c.Id; }
            }
        }
        return clusterId >= 0;
    }

    private static bool TryCompute(ref Cluster c, out double bps)
    {
        bps = 0;
        if (c.Packets < MinReceivedFraction * c.MinPackets || c.Bytes < MinReceivedFraction * c.MinBytes) return false;
        var sendInterval = c.LastSend - c.FirstSend;
        var receiveInterval = c.LastArrival - c.FirstArrival;
        if (sendInterval <= TimeSpan.Zero || sendInterval > MaxInterval) return false;
        if (receiveInterval <= TimeSpan.Zero || receiveInterval > MaxInterval) return false;
        double sendBps = (c.Bytes - c.LastSendSize) * 8 / sendInterval.TotalSeconds;
        double receiveBps = (c.Bytes - c.FirstArrivalSize) * 8 / receiveInterval.TotalSeconds;
        if (receiveBps > MaxReceiveToSendRatio * sendBps) return false;
        bps = Math.Min(sendBps, receiveBps);
        if (receiveBps < SaturatedRatio * sendBps) bps = SaturatedUtilisation * receiveBps;
        return true;
    }
}
