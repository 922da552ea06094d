using Microsoft.Extensions.Time.Testing;
using TeleRehab.LoadTests.Link;

namespace TeleRehab.Media.Tests.Link;

/// <summary>Drives a <see cref="LinkDirection"/> on a fake clock: a constant-rate sender offers packets of one size,
/// and every packet is taken out exactly when it is due (event by event, so no time step blurs the figures).</summary>
internal sealed class LinkSimulation
{
    private readonly FakeTimeProvider _clock = new();
    private readonly long _start;

    public LinkSimulation(LinkDirection link)
    {
        Link = link;
        _start = _clock.GetTimestamp();
    }

    public LinkDirection Link { get; }

    public TimeSpan Now => _clock.GetElapsedTime(_start);

    public List<LinkDelivery> Deliveries { get; } = new();

    /// <summary>For each offered packet in order: true if it was lost (not queue-dropped, not accepted).</summary>
    public List<bool> LostFlags { get; } = new();

    /// <summary>Offers <paramref name="size"/>-byte packets at <paramref name="kbps"/> from now for
    /// <paramref name="duration"/>, then lets the link drain.</summary>
    public void OfferConstantRate(int size, double kbps, TimeSpan duration)
    {
        var interval = TimeSpan.FromTicks((long)(size * 8.0 / kbps * TimeSpan.TicksPerMillisecond));
        var end = Now + duration;
        var nextOffer = Now;
        while (true)
        {
            var offering = nextOffer < end;
            var next = offering ? nextOffer : TimeSpan.MaxValue;
            if (Link.NextDelivery is { } due && due <= next) next = due;
            if (next == TimeSpan.MaxValue) return;
            AdvanceTo(next);
            DrainDue();
            if (offering && nextOffer <= Now)
            {
                Offer(size);
                nextOffer += interval;
            }
        }
    }

    public bool Offer(int size)
    {
        var accepted = Link.Enqueue(size, Now);
        LostFlags.Add(!accepted && Link.LastDrop == LinkDrop.Loss);
        return accepted;
    }

    public void AdvanceTo(TimeSpan time)
    {
        if (time > Now) _clock.Advance(time - Now);
    }

    public void DrainDue()
    {
        while (Link.TryDequeue(Now, out var delivery)) Deliveries.Add(delivery);
    }

    public void RunUntilEmpty()
    {
        while (Link.NextDelivery is { } due)
        {
            AdvanceTo(due);
            DrainDue();
        }
    }

    /// <summary>Delivered rate in kbit/s of the packets that arrived in [from, to).</summary>
    public double DeliveredKbps(TimeSpan from, TimeSpan to)
    {
        long bytes = 0;
        foreach (var d in Deliveries)
            if (d.DeliverAt >= from && d.DeliverAt < to) bytes += d.Size;
        return bytes * 8 / (to - from).TotalMilliseconds;
    }

    /// <summary>Lengths of the runs of consecutive lost packets.</summary>
    public List<int> LossBursts()
    {
        var bursts = new List<int>();
        var run = 0;
        foreach (var lost in LostFlags)
        {
            if (lost) run++;
            else if (run > 0)
            {
                bursts.Add(run);
                run = 0;
            }
        }
        if (run > 0) bursts.Add(run);
        return bursts;
    }
}
