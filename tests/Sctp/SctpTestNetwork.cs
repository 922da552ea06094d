using TeleRehab.Media.Sctp;

namespace TeleRehab.Media.Tests.Sctp;

/// <summary>
/// Two endpoints on a fake clock joined by a simulated link with delay, jitter (reordering), loss and
/// duplication, all drawn from one seeded Random, so every run is deterministic. No sockets, no waiting.
/// </summary>
internal sealed class SctpTestNetwork
{
    private readonly List<InFlight> _inFlight = new();
    private readonly byte[] _buffer = new byte[2048];
    private long _sequence;

    public SctpTestNetwork(int seed = 1, SctpAssociationOptions? optionsA = null, SctpAssociationOptions? optionsB = null)
    {
        Random = new Random(seed);
        A = new SctpAssociation(optionsA ?? new SctpAssociationOptions { Random = new Random(seed * 7 + 1) });
        B = new SctpAssociation(optionsB ?? new SctpAssociationOptions { Random = new Random(seed * 7 + 2) });
    }

    public Random Random { get; }
    public SctpAssociation A { get; }
    public SctpAssociation B { get; }
    public TimeSpan Now { get; private set; } = TimeSpan.FromSeconds(1);
    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(10);
    public TimeSpan Jitter { get; set; } = TimeSpan.Zero;
    /// <summary>Time each packet occupies the link (a simple rate model): packets sent together arrive spread out.</summary>
    public TimeSpan TransmissionTime { get; set; } = TimeSpan.FromTicks(1000);
    private TimeSpan _linkFreeAtoB;
    private TimeSpan _linkFreeBtoA;

    public double LossRate { get; set; }
    public double DuplicateRate { get; set; }

    /// <summary>Return true to drop a packet (in addition to random loss). Arguments: from A to B?, packet bytes.</summary>
    public Func<bool, byte[], bool>? Drop { get; set; }

    public List<SctpEvent> EventsA { get; } = new();
    public List<SctpEvent> EventsB { get; } = new();
    public int PacketsAtoB { get; private set; }
    public int PacketsBtoA { get; private set; }

    /// <summary>Optional hooks that replace delivery to an endpoint (used to put a DataChannelEndpoint on top).</summary>
    public Action<byte[], TimeSpan>? DeliverToA { get; set; }
    public Action<byte[], TimeSpan>? DeliverToB { get; set; }
    public Action<TimeSpan>? TimeoutA { get; set; }
    public Action<TimeSpan>? TimeoutB { get; set; }
    public Func<TimeSpan?>? NextTimeoutA { get; set; }
    public Func<TimeSpan?>? NextTimeoutB { get; set; }
    public Action? DrainEvents { get; set; }

    private readonly record struct InFlight(TimeSpan At, long Sequence, bool ToB, byte[] Packet);

    public void Pump()
    {
        while (A.TryPollTransmit(_buffer, out int length)) Enqueue(toB: true, _buffer.AsSpan(0, length).ToArray());
        while (B.TryPollTransmit(_buffer, out int length)) Enqueue(toB: false, _buffer.AsSpan(0, length).ToArray());
        if (DrainEvents is not null) DrainEvents();
        else
        {
            while (A.TryPollEvent(out var ev)) EventsA.Add(ev);
            while (B.TryPollEvent(out var ev)) EventsB.Add(ev);
        }
    }

    private void Enqueue(bool toB, byte[] packet)
    {
        if (toB) PacketsAtoB++;
        else PacketsBtoA++;
        ref var linkFree = ref toB ? ref _linkFreeAtoB : ref _linkFreeBtoA;
        var sent = (linkFree > Now ? linkFree : Now) + TransmissionTime;
        linkFree = sent;
        if (Drop?.Invoke(toB, packet) == true) return;
        if (LossRate > 0 && Random.NextDouble() < LossRate) return;
        int copies = DuplicateRate > 0 && Random.NextDouble() < DuplicateRate ? 2 : 1;
        for (int i = 0; i < copies; i++)
        {
            var jitter = Jitter > TimeSpan.Zero ? TimeSpan.FromTicks((long)(Random.NextDouble() * Jitter.Ticks)) : TimeSpan.Zero;
            _inFlight.Add(new InFlight(sent + Delay + jitter, _sequence++, toB, packet));
        }
    }

    /// <summary>Advances to the next packet arrival or timer, at most to <paramref name="until"/>. False when nothing was due before it.</summary>
    public bool Step(TimeSpan until)
    {
        Pump();
        TimeSpan? next = null;
        foreach (var p in _inFlight)
        {
            if (next is null || p.At < next) next = p.At;
        }
        var ta = NextTimeoutA?.Invoke() ?? A.NextTimeout;
        var tb = NextTimeoutB?.Invoke() ?? B.NextTimeout;
        if (ta is { } a && (next is null || a < next)) next = a;
        if (tb is { } b && (next is null || b < next)) next = b;
        if (next is null || next.Value > until)
        {
            if (until > Now) Now = until;
            return false;
        }
        if (next.Value > Now) Now = next.Value;
        // Deliver every packet due now, in arrival order.
        _inFlight.Sort((x, y) => x.At != y.At ? x.At.CompareTo(y.At) : x.Sequence.CompareTo(y.Sequence));
        int due = 0;
        while (due < _inFlight.Count && _inFlight[due].At <= Now) due++;
        var batch = _inFlight.GetRange(0, due);
        _inFlight.RemoveRange(0, due);
        foreach (var p in batch)
        {
            if (p.ToB)
            {
                if (DeliverToB is not null) DeliverToB(p.Packet, Now);
                else B.HandlePacket(p.Packet, Now);
            }
            else
            {
                if (DeliverToA is not null) DeliverToA(p.Packet, Now);
                else A.HandlePacket(p.Packet, Now);
            }
        }
        if ((NextTimeoutA?.Invoke() ?? A.NextTimeout) is { } da && da <= Now)
        {
            if (TimeoutA is not null) TimeoutA(Now);
            else A.HandleTimeout(Now);
        }
        if ((NextTimeoutB?.Invoke() ?? B.NextTimeout) is { } db && db <= Now)
        {
            if (TimeoutB is not null) TimeoutB(Now);
            else B.HandleTimeout(Now);
        }
        Pump();
        return true;
    }

    /// <summary>Runs until <paramref name="condition"/> holds or <paramref name="limit"/> of simulated time passes. Returns the condition.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan limit)
    {
        var end = Now + limit;
        Pump();
        int steps = 0;
        while (!condition())
        {
            if (Now >= end || ++steps > 2_000_000) return false;
            Step(end);
        }
        return true;
    }

    public void RunFor(TimeSpan duration)
    {
        var end = Now + duration;
        int steps = 0;
        while (Now < end && ++steps < 2_000_000) Step(end);
    }

    public bool Connect(bool simultaneous = false)
    {
        A.Connect(Now);
        if (simultaneous) B.Connect(Now);
        return RunUntil(() => A.State == SctpAssociationState.Established && B.State == SctpAssociationState.Established, TimeSpan.FromSeconds(30));
    }

    public IEnumerable<SctpMessageReceived> MessagesAtB => EventsB.OfType<SctpMessageReceived>();
    public IEnumerable<SctpMessageReceived> MessagesAtA => EventsA.OfType<SctpMessageReceived>();

    /// <summary>Packets in flight in the link right now.</summary>
    public int InFlightCount => _inFlight.Count;

    /// <summary>Takes every packet queued for one direction out of the link (for tests that play the wire by hand).</summary>
    public List<byte[]> Intercept(bool toB)
    {
        Pump();
        var taken = _inFlight.Where(p => p.ToB == toB).OrderBy(p => p.Sequence).Select(p => p.Packet).ToList();
        _inFlight.RemoveAll(p => p.ToB == toB);
        return taken;
    }
}
