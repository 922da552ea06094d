namespace TeleRehab.Media.Sfu;

/// <summary>
/// The pacing budget of one leg: a leaky bucket that lets bytes out at <see cref="PacingFactor"/> times the leg's
/// estimate, with bursts bounded to <see cref="BurstWindow"/> of that rate (at least two full packets), and a FIFO of
/// the video packets that had to wait. Audio (and retransmissions) never wait: they are sent at once and only take
/// from the budget, so they are never stuck behind a keyframe. Queued packets are plaintext copies in slots allocated
/// on first use; the caller encrypts when it sends. Sans-I/O, single-threaded, nothing allocated per packet.
/// </summary>
public sealed class Pacer
{
    /// <summary>How far above the estimate the pacer lets media out. libwebrtc paces its own encoder's output at 2.5x
    /// (the encoder's rate control keeps the average at the estimate); an SFU forwards layers whose rates only step,
    /// and a leg's estimate can be above the link for a while after a probe through a shaper's burst allowance, so the
    /// bursts it lets into a slow link are kept closer to the estimate.</summary>
    public const double PacingFactor = 1.5;

    public static readonly TimeSpan BurstWindow = TimeSpan.FromMilliseconds(40);

    /// <summary>Queued packets are sent anyway once they waited this long (the queue must not turn into latency).</summary>
    public static readonly TimeSpan MaxQueueDelay = TimeSpan.FromMilliseconds(500);

    public const int SlotCount = 128;
    public const int SlotSize = 2048;
    private const int MinBurstBytes = 2 * 1500;

    private byte[]? _slots;
    private readonly int[] _lengths = new int[SlotCount];
    private readonly long[] _enqueuedAt = new long[SlotCount];
    private int _head;
    private int _count;
    private double _budget;
    private TimeSpan _lastRefill;
    private long _rateBps = 300_000;

    /// <summary>The leg's estimate in bit/s; the pacing rate is <see cref="PacingFactor"/> times it.</summary>
    public long RateBps
    {
        get => _rateBps;
        set => _rateBps = Math.Max(10_000, value);
    }

    public int QueuedPackets => _count;

    /// <summary>Packets that waited in the queue, and the longest and total wait (metrics).</summary>
    public long PacketsQueued { get; private set; }
    public TimeSpan LongestWait { get; private set; }
    public TimeSpan TotalWait { get; private set; }

    /// <summary>Packets sent past a full queue or after <see cref="MaxQueueDelay"/>.</summary>
    public long Overflows { get; private set; }

    private double PacingBytesPerSecond => _rateBps * PacingFactor / 8;

    private double BurstBytes => Math.Max(MinBurstBytes, PacingBytesPerSecond * BurstWindow.TotalSeconds);

    private void Refill(TimeSpan now)
    {
        if (now <= _lastRefill) return;
        _budget = Math.Min(BurstBytes, _budget + PacingBytesPerSecond * (now - _lastRefill).TotalSeconds);
        _lastRefill = now;
    }

    /// <summary>Takes <paramref name="size"/> bytes from the budget for a packet that goes now whatever the budget
    /// (audio, retransmissions, probes).</summary>
    public void Consume(int size, TimeSpan now)
    {
        Refill(now);
        _budget -= size;
    }

    /// <summary>True when a video packet of <paramref name="size"/> may go now (nothing is queued before it and the
    /// budget has room); it is then taken from the budget. False: queue it with <see cref="TryEnqueue"/>.</summary>
    public bool TrySendNow(int size, TimeSpan now)
    {
        if (_count > 0) return false;
        Refill(now);
        if (_budget <= 0) return false;
        _budget -= size;
        return true;
    }

    /// <summary>Copies a packet into the queue. False when the queue is full or the packet too large (send it anyway).</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> packet, TimeSpan now)
    {
        if (_count == SlotCount || packet.Length > SlotSize - 64)
        {
            Overflows++;
            return false;
        }
        _slots ??= new byte[SlotCount * SlotSize];
        var slot = (_head + _count) % SlotCount;
        packet.CopyTo(_slots.AsSpan(slot * SlotSize, SlotSize));
        _lengths[slot] = packet.Length;
        _enqueuedAt[slot] = now.Ticks;
        _count++;
        PacketsQueued++;
        return true;
    }

    /// <summary>
    /// The next queued packet when it may go now (its whole slot, for in-place encryption, and its length), taken
    /// from the budget. A packet that waited <see cref="MaxQueueDelay"/> goes whatever the budget.
    /// </summary>
    public bool TryDequeue(TimeSpan now, out byte[] buffer, out int offset, out int length)
    {
        buffer = _slots!;
        offset = length = 0;
        if (_count == 0) return false;
        Refill(now);
        var waited = TimeSpan.FromTicks(now.Ticks - _enqueuedAt[_head]);
        if (_budget <= 0)
        {
            if (waited < MaxQueueDelay) return false;
            Overflows++;
        }
        offset = _head * SlotSize;
        length = _lengths[_head];
        _budget -= length;
        _head = (_head + 1) % SlotCount;
        _count--;
        TotalWait += waited;
        if (waited > LongestWait) LongestWait = waited;
        return true;
    }

    /// <summary>When the head of the queue may go (null when the queue is empty).</summary>
    public TimeSpan? NextTimeout
    {
        get
        {
            if (_count == 0) return null;
            var deadline = TimeSpan.FromTicks(_enqueuedAt[_head]) + MaxQueueDelay;
            if (_budget > 0) return _lastRefill;
            var refill = _lastRefill + TimeSpan.FromSeconds(-_budget / PacingBytesPerSecond) + TimeSpan.FromTicks(1);
            return refill < deadline ? refill : deadline;
        }
    }
}
