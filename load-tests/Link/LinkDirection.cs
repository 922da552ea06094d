namespace TeleRehab.LoadTests.Link;

/// <summary>Why <see cref="LinkDirection.Enqueue"/> refused a packet.</summary>
public enum LinkDrop
{
    None,

    /// <summary>Random or bursty loss.</summary>
    Loss,

    /// <summary>The packet would have waited longer than the queue limit (drop-tail).</summary>
    Queue,
}

/// <summary>Counters of one direction since it was made.</summary>
public readonly record struct LinkCounters(
    long Offered,
    long OfferedBytes,
    long Delivered,
    long DeliveredBytes,
    long DroppedByQueue,
    long DroppedByLoss)
{
    public long Dropped => DroppedByQueue + DroppedByLoss;

    public static LinkCounters operator +(LinkCounters a, LinkCounters b) => new(
        a.Offered + b.Offered, a.OfferedBytes + b.OfferedBytes, a.Delivered + b.Delivered,
        a.DeliveredBytes + b.DeliveredBytes, a.DroppedByQueue + b.DroppedByQueue, a.DroppedByLoss + b.DroppedByLoss);

    public static LinkCounters operator -(LinkCounters a, LinkCounters b) => new(
        a.Offered - b.Offered, a.OfferedBytes - b.OfferedBytes, a.Delivered - b.Delivered,
        a.DeliveredBytes - b.DeliveredBytes, a.DroppedByQueue - b.DroppedByQueue, a.DroppedByLoss - b.DroppedByLoss);
}

/// <summary>A packet leaving the link: its sequence (in the order packets were accepted), size and times.</summary>
/// <param name="Sequence">0 for the first accepted packet, then 1, 2, ...: the caller that keeps payloads in a FIFO in
/// accept order finds this packet at the head of it.</param>
/// <param name="EnqueuedAt">When the packet was offered.</param>
/// <param name="DepartedAt">When it left the bottleneck queue (EnqueuedAt + queueing delay).</param>
/// <param name="DeliverAt">When it reaches the far end (DepartedAt + one-way delay + jitter, never before an earlier packet).</param>
public readonly record struct LinkDelivery(long Sequence, int Size, TimeSpan EnqueuedAt, TimeSpan DepartedAt, TimeSpan DeliverAt)
{
    public TimeSpan QueueDelay => DepartedAt - EnqueuedAt;

    public TimeSpan OneWayDelay => DeliverAt - EnqueuedAt;
}

/// <summary>
/// One direction of an emulated link, sans I/O: the caller offers packet sizes with the time now and later asks which
/// packets are due, so the same code runs under a fake clock in tests and under a socket loop in
/// <see cref="UdpLinkEmulator"/>. It holds no payloads: a caller that accepts a packet (Enqueue returned true) appends its
/// payload to its own FIFO, and each successful <see cref="TryDequeue"/> means "send the head of that FIFO" (order is
/// always kept).
/// <para>The model, per packet: loss first (random, or Gilbert-Elliott bursts; a lost packet takes no capacity), then a
/// token bucket at the link rate with a bucket of <see cref="LinkDirectionProfile.BurstBytes"/> (implemented as GCRA:
/// a theoretical arrival time that advances by the packet's serialization time), a drop-tail queue whose limit is a
/// time (the wait a packet would have before the bucket lets it through), then the fixed one-way delay plus jitter.</para>
/// <para>Changing <see cref="Profile"/> affects packets offered afterwards; queued packets keep their times.</para>
/// Not thread-safe: one owner drives it.
/// </summary>
public sealed class LinkDirection
{
    private readonly Random _random;
    private readonly Queue<LinkDelivery> _inFlight = new();
    private LinkDirectionProfile _profile;
    private TimeSpan _theoreticalArrival;  // GCRA: when the bucket would be exactly empty again
    private TimeSpan _lastDeparture;
    private TimeSpan _lastDeliverAt;
    private bool _badState;
    private long _nextSequence;
    private long _offered, _offeredBytes, _delivered, _deliveredBytes, _droppedByQueue, _droppedByLoss;

    public LinkDirection(LinkDirectionProfile profile, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _profile = Checked(profile);
        _random = random;
    }

    public LinkDirection(LinkDirectionProfile profile, int seed) : this(profile, new Random(seed))
    {
    }

    public LinkDirectionProfile Profile
    {
        get => _profile;
        set => _profile = Checked(value);
    }

    /// <summary>Why the last refused packet was refused.</summary>
    public LinkDrop LastDrop { get; private set; }

    public LinkCounters Counters => new(_offered, _offeredBytes, _delivered, _deliveredBytes, _droppedByQueue, _droppedByLoss);

    /// <summary>Packets accepted and not yet dequeued (waiting in the queue or in flight).</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>When the oldest accepted packet is due at the far end, or null when nothing is in flight.</summary>
    public TimeSpan? NextDelivery => _inFlight.Count > 0 ? _inFlight.Peek().DeliverAt : null;

    /// <summary>Offers a packet of <paramref name="size"/> bytes at <paramref name="now"/>. True when it was accepted
    /// (it will come out of <see cref="TryDequeue"/>); false when lost or dropped by the queue (see <see cref="LastDrop"/>).</summary>
    public bool Enqueue(int size, TimeSpan now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        _offered++;
        _offeredBytes += size;

        if (IsLost())
            return Drop(LinkDrop.Loss);

        var profile = _profile;
        var departure = now;
        if (profile.IsRateLimited)
        {
            // A full bucket of B bytes lets a packet of s bytes go at once while TAT - now <= (B - s) / rate.
            var tolerance = profile.SerializationTime(Math.Max(0, profile.BurstBytes - size));
            var tat = _theoreticalArrival > now ? _theoreticalArrival : now;
            var conforming = tat - tolerance;
            if (conforming > departure) departure = conforming;
            if (departure < _lastDeparture) departure = _lastDeparture;
            if (departure - now > profile.QueueLimit)
                return Drop(LinkDrop.Queue);
            _theoreticalArrival = (departure > tat ? departure : tat) + profile.SerializationTime(size);
        }
        else if (departure < _lastDeparture)
        {
            departure = _lastDeparture; // a link that just became unlimited still lets queued packets out first
        }

        var deliverAt = departure + profile.Delay;
        if (profile.Jitter > TimeSpan.Zero)
            deliverAt += TimeSpan.FromTicks((long)(_random.NextDouble() * profile.Jitter.Ticks));
        if (deliverAt < _lastDeliverAt) deliverAt = _lastDeliverAt; // jitter never reorders

        _lastDeparture = departure;
        _lastDeliverAt = deliverAt;
        _inFlight.Enqueue(new LinkDelivery(_nextSequence++, size, now, departure, deliverAt));
        LastDrop = LinkDrop.None;
        return true;
    }

    /// <summary>The oldest accepted packet if it is due at <paramref name="now"/>.</summary>
    public bool TryDequeue(TimeSpan now, out LinkDelivery delivery)
    {
        if (_inFlight.TryPeek(out delivery) && delivery.DeliverAt <= now)
        {
            _inFlight.Dequeue();
            _delivered++;
            _deliveredBytes += delivery.Size;
            return true;
        }

        delivery = default;
        return false;
    }

    /// <summary>How long a small packet offered at <paramref name="now"/> would wait for the bottleneck.</summary>
    public TimeSpan QueueDelay(TimeSpan now)
    {
        var profile = _profile;
        var start = _lastDeparture;
        if (profile.IsRateLimited)
        {
            var conforming = _theoreticalArrival - profile.SerializationTime(profile.BurstBytes);
            if (conforming > start) start = conforming;
        }
        return start > now ? start - now : TimeSpan.Zero;
    }

    private bool IsLost()
    {
        var loss = _profile.Loss;
        switch (loss.Kind)
        {
            case LinkLossKind.Random:
                _badState = false;
                return _random.NextDouble() < loss.Average;
            case LinkLossKind.Bursty:
                // Gilbert-Elliott with a loss-free good state and an all-loss bad state: move, then lose while bad.
                _badState = _badState ? _random.NextDouble() >= loss.BadToGood : _random.NextDouble() < loss.GoodToBad;
                return _badState;
            default:
                _badState = false;
                return false;
        }
    }

    private bool Drop(LinkDrop reason)
    {
        if (reason == LinkDrop.Loss) _droppedByLoss++;
        else _droppedByQueue++;
        LastDrop = reason;
        return false;
    }

    private static LinkDirectionProfile Checked(LinkDirectionProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        return profile;
    }
}
