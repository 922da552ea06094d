using TeleRehab.Media.Bwe;
using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Tests.Bwe;

/// <summary>
/// A deterministic sender → bottleneck → receiver → feedback loop on a virtual clock, stepped in 1 ms ticks (send
/// times inside a tick are exact). Sender: video at min(target, wanted) as <see cref="FrameRate"/> (30) frames/s, each frame split into
/// ≤ 1,200-byte packets and paced at 2.5 × the media rate; when the estimator asks for a probe, media waits while
/// the cluster is sent as equal-size padding packets at the cluster's rate, each tagged with the cluster id.
/// Bottleneck: optional random loss, then a FIFO at <see cref="LinkBps"/> with a drop-tail limit of
/// <see cref="QueueLimit"/> of queueing delay, then <see cref="OneWayDelay"/>. Receiver: records arrivals (in its own
/// clock, offset from the sender's) and every <see cref="FeedbackInterval"/> sends a transport-wide feedback built
/// with <see cref="TransportWideFeedbackBuilder"/>; the sender parses it with <see cref="TransportWideFeedback"/>
/// after the return delay.
/// </summary>
internal sealed class SimulatedLink
{
    private const int MaxPacket = 1200;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan ReceiverClockOffset = TimeSpan.FromSeconds(1234.5);

    private readonly Random _random;
    private readonly Queue<int> _pacerQueue = new();
    private readonly Queue<(ushort Seq, TimeSpan Arrival)> _inFlight = new();
    private readonly List<(ushort Seq, TimeSpan Arrival)> _arrived = new();
    private readonly Queue<(byte[] Data, TimeSpan At)> _feedbackInFlight = new();
    private readonly TransportWideFeedbackBuilder _builder = new(0x1234, 0x5678, 0);
    private ushort _seq;
    private TimeSpan _nextFrame;
    private TimeSpan _pacerNext;
    private TimeSpan _linkBusyUntil;
    private TimeSpan _nextFeedback;
    private TimeSpan _nextRtt;
    private byte _feedbackCount;

    private bool _probing;
    private ProbeCluster _cluster;
    private int _probeLeft, _probeSize;
    private TimeSpan _probeNext;

    public SimulatedLink(SendSideBandwidthEstimator bwe, double linkBps, int seed = 1)
    {
        Bwe = bwe;
        LinkBps = linkBps;
        _random = new Random(seed);
        _seq = (ushort)(65536 - 500); // wrap early in every run
        bwe.SetWantedBitrate(WantedBps, TimeSpan.Zero);
    }

    public SendSideBandwidthEstimator Bwe { get; }
    public double LinkBps { get; set; }
    public TimeSpan OneWayDelay { get; set; } = TimeSpan.FromMilliseconds(40);
    public TimeSpan QueueLimit { get; set; } = TimeSpan.FromMilliseconds(300);
    public double RandomLoss { get; set; }
    public long WantedBps
    {
        get => _wantedBps;
        set { _wantedBps = value; Bwe.SetWantedBitrate(value, Now); }
    }
    private long _wantedBps = 2_500_000;

    /// <summary>The most media the application has to send, whatever it would like (a paused video's receiver wants
    /// the video, but the leg carries only voices): probes still look for <see cref="WantedBps"/>.</summary>
    public long MediaCapBps { get; set; } = long.MaxValue;
    public TimeSpan FeedbackInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Video frames per second (30): at a few frames a second the throughput of a short window swings
    /// between frames, as a paused or low-rate layer's does.</summary>
    public int FrameRate { get; set; } = 30;
    public TimeSpan Now { get; private set; }

    /// <summary>Another flow through the bottleneck, in bit/s (0): it takes its share of the link ahead of the queue.</summary>
    public double CrossTrafficBps { get; set; }

    /// <summary>Drops every feedback message on the way back (the receiver's uplink is down).</summary>
    public bool FeedbackBlocked { get; set; }

    public long PacketsSent { get; private set; }
    public long ProbePacketsSent { get; private set; }
    public long QueueDrops { get; private set; }
    public long RandomDrops { get; private set; }
    public long BytesDelivered { get; private set; }

    /// <summary>(time, target bit/s) every 100 ms.</summary>
    public List<(TimeSpan Time, long TargetBps)> Samples { get; } = new();

    /// <summary>Runs until <paramref name="until"/> (absolute virtual time).</summary>
    public void RunUntil(TimeSpan until)
    {
        while (Now < until) Step();
    }

    public void RunFor(TimeSpan duration) => RunUntil(Now + duration);

    private void Step()
    {
        var now = Now;
        var tickEnd = now + Tick;

        Bwe.HandleTimeout(now);
        if (CrossTrafficBps > 0)
            _linkBusyUntil = Max(_linkBusyUntil, now) + TimeSpan.FromTicks((long)(Tick.Ticks * CrossTrafficBps / LinkBps));
        while (_feedbackInFlight.Count > 0 && _feedbackInFlight.Peek().At <= now)
        {
            var data = _feedbackInFlight.Dequeue().Data;
            if (FeedbackBlocked) continue;
            Assert.True(TransportWideFeedback.TryParse(data, out var feedback));
            Bwe.OnTransportFeedback(in feedback, now);
        }
        if (now >= _nextRtt)
        {
            Bwe.OnRoundTripTime(2 * OneWayDelay + FeedbackInterval / 2);
            _nextRtt = now + TimeSpan.FromSeconds(1);
        }

        if (now >= _nextFrame)
        {
            double mediaBps = Math.Min(Math.Min(Bwe.TargetBitrate, WantedBps), MediaCapBps);
            int frameBytes = (int)(mediaBps / FrameRate / 8);
            while (frameBytes > 0)
            {
                int size = Math.Min(MaxPacket, frameBytes);
                _pacerQueue.Enqueue(Math.Max(size, 100));
                frameBytes -= size;
            }
            _nextFrame += TimeSpan.FromTicks(TimeSpan.TicksPerSecond / FrameRate);
        }

        if (!_probing && Bwe.TryGetProbe(now, out _cluster))
        {
            _probing = true;
            _probeSize = Math.Clamp(_cluster.MinBytes / _cluster.MinPackets, 200, MaxPacket);
            _probeLeft = Math.Max(_cluster.MinPackets, (_cluster.MinBytes + _probeSize - 1) / _probeSize);
            _probeNext = now;
        }

        double pacingBps = 2.5 * Math.Max(Math.Min(Math.Min(Bwe.TargetBitrate, WantedBps), MediaCapBps), 50_000);
        while (true)
        {
            // Media waits while a cluster (≈ 15 ms) is sent: the cluster is the whole send rate, in equal packets.
            bool media = !_probing && _pacerQueue.Count > 0 && Max(_pacerNext, now) < tickEnd;
            bool probe = _probing && Max(_probeNext, now) < tickEnd;
            if (!media && !probe) break;
            if (media && (!probe || Max(_pacerNext, now) <= Max(_probeNext, now)))
            {
                var t = Max(_pacerNext, now);
                int size = _pacerQueue.Dequeue();
                Send(size, -1, t);
                _pacerNext = t + TimeSpan.FromTicks((long)(size * 8 * TimeSpan.TicksPerSecond / pacingBps));
            }
            else
            {
                var t = Max(_probeNext, now);
                Send(_probeSize, _cluster.Id, t);
                ProbePacketsSent++;
                _probeNext = t + _cluster.PacketInterval(_probeSize);
                _pacerNext = _probeNext;
                if (--_probeLeft == 0) _probing = false;
            }
        }

        while (_inFlight.Count > 0 && _inFlight.Peek().Arrival <= now)
        {
            var (seq, arrival) = _inFlight.Dequeue();
            _arrived.Add((seq, arrival + ReceiverClockOffset));
        }
        if (now >= _nextFeedback)
        {
            if (_arrived.Count > 0) SendFeedback(now);
            _nextFeedback = now + FeedbackInterval;
        }

        if (now.Ticks % (100 * TimeSpan.TicksPerMillisecond) == 0) Samples.Add((now, Bwe.TargetBitrate));
        Now = tickEnd;
    }

    private void Send(int size, int clusterId, TimeSpan at)
    {
        ushort seq = _seq++;
        Bwe.OnPacketSent(seq, size, clusterId, at);
        PacketsSent++;
        if (RandomLoss > 0 && _random.NextDouble() < RandomLoss)
        {
            RandomDrops++;
            return;
        }
        var start = Max(at, _linkBusyUntil);
        if (start - at > QueueLimit)
        {
            QueueDrops++;
            return;
        }
        var departure = start + TimeSpan.FromTicks((long)(size * 8 * TimeSpan.TicksPerSecond / LinkBps));
        _linkBusyUntil = departure;
        BytesDelivered += size;
        _inFlight.Enqueue((seq, departure + OneWayDelay));
    }

    private void SendFeedback(TimeSpan now)
    {
        _builder.Reset(_feedbackCount++);
        foreach (var (seq, arrival) in _arrived)
            Assert.True(_builder.TryAddReceivedPacket(seq, arrival));
        var data = new byte[_builder.GetSerializedLength()];
        _builder.WriteTo(data);
        _feedbackInFlight.Enqueue((data, now + OneWayDelay));
        _arrived.Clear();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Mean of the sampled target over [from, to).</summary>
    public double MeanTarget(TimeSpan from, TimeSpan to)
    {
        double sum = 0;
        int n = 0;
        foreach (var (t, bps) in Samples)
            if (t >= from && t < to) { sum += bps; n++; }
        return n == 0 ? double.NaN : sum / n;
    }

    public (long Min, long Max) TargetRange(TimeSpan from, TimeSpan to)
    {
        long min = long.MaxValue, max = long.MinValue;
        foreach (var (t, bps) in Samples)
            if (t >= from && t < to) { min = Math.Min(min, bps); max = Math.Max(max, bps); }
        return (min, max);
    }

    /// <summary>First sampled time at or after <paramref name="from"/> when the target satisfies the predicate.</summary>
    public TimeSpan? FirstTime(TimeSpan from, Func<long, bool> predicate)
    {
        foreach (var (t, bps) in Samples)
            if (t >= from && predicate(bps)) return t;
        return null;
    }
}
