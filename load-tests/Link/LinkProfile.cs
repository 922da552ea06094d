using System.Globalization;

namespace TeleRehab.LoadTests.Link;

/// <summary>How packets are lost on one direction of a link.</summary>
public enum LinkLossKind
{
    /// <summary>No loss.</summary>
    None,

    /// <summary>Each packet is lost independently with the average probability.</summary>
    Random,

    /// <summary>Gilbert-Elliott: a good state that loses nothing and a bad state that loses every packet; the transition
    /// probabilities are chosen so the long-run loss is the average and a burst lasts <see cref="LinkLoss.MeanBurstPackets"/>
    /// packets on average.</summary>
    Bursty,
}

/// <summary>The loss model of one direction: a kind, the average loss ratio and, for bursty loss, the mean burst length.</summary>
public sealed record LinkLoss
{
    public static readonly LinkLoss None = new(LinkLossKind.None, 0, 1);

    private LinkLoss(LinkLossKind kind, double average, double meanBurstPackets)
    {
        Kind = kind;
        Average = average;
        MeanBurstPackets = meanBurstPackets;
    }

    public LinkLossKind Kind { get; }

    /// <summary>Long-run fraction of offered packets lost, in [0, 1).</summary>
    public double Average { get; }

    /// <summary>Mean number of consecutive packets lost in one burst (1 for random loss).</summary>
    public double MeanBurstPackets { get; }

    /// <summary>Gilbert-Elliott probability, per packet, of moving from the good to the bad state.</summary>
    public double GoodToBad => Kind == LinkLossKind.Bursty ? Average / (1 - Average) / MeanBurstPackets : 0;

    /// <summary>Gilbert-Elliott probability, per packet, of leaving the bad state (a burst ends).</summary>
    public double BadToGood => Kind == LinkLossKind.Bursty ? 1 / MeanBurstPackets : 1;

    public static LinkLoss Random(double average)
    {
        CheckAverage(average);
        return average == 0 ? None : new LinkLoss(LinkLossKind.Random, average, 1);
    }

    /// <summary>Bursty loss whose long-run average is <paramref name="average"/>, in bursts of
    /// <paramref name="meanBurstPackets"/> packets on average (stationary bad-state probability p/(p+r) = average,
    /// with r = 1/meanBurst).</summary>
    public static LinkLoss Bursty(double average, double meanBurstPackets = 3)
    {
        CheckAverage(average);
        if (!(meanBurstPackets >= 1) || double.IsInfinity(meanBurstPackets))
            throw new ArgumentOutOfRangeException(nameof(meanBurstPackets), meanBurstPackets, "The mean burst length must be at least one packet.");
        return average == 0 ? None : new LinkLoss(LinkLossKind.Bursty, average, meanBurstPackets);
    }

    private static void CheckAverage(double average)
    {
        if (!(average >= 0 && average < 1))
            throw new ArgumentOutOfRangeException(nameof(average), average, "The average loss must be in [0, 1).");
    }

    public override string ToString() => Kind switch
    {
        LinkLossKind.None => "no loss",
        LinkLossKind.Random => string.Create(CultureInfo.InvariantCulture, $"{Average:0.##%} random"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Average:0.##%} bursty ({MeanBurstPackets:0.#} packets)"),
    };
}

/// <summary>The behaviour of one direction of a link.</summary>
/// <param name="RateKbps">Bottleneck rate in kbit/s of UDP payload; 0 means unlimited (no queue).</param>
/// <param name="Delay">Fixed one-way propagation delay.</param>
/// <param name="Jitter">Extra delay drawn uniformly in [0, Jitter] per packet; packets still arrive in order.</param>
/// <param name="Loss">Random or bursty loss, applied before the queue (a lost packet uses no capacity).</param>
/// <param name="QueueLimit">Drop-tail limit expressed as time: a packet that would wait longer than this for the
/// bottleneck is dropped.</param>
/// <param name="BurstBytes">Token bucket depth: how many bytes may leave back to back after the link was idle.</param>
public sealed record LinkDirectionProfile(
    int RateKbps,
    TimeSpan Delay,
    TimeSpan Jitter,
    LinkLoss Loss,
    TimeSpan QueueLimit,
    int BurstBytes = LinkDirectionProfile.DefaultBurstBytes)
{
    /// <summary>Two full-size (1500 byte) packets.</summary>
    public const int DefaultBurstBytes = 3000;

    public static readonly LinkDirectionProfile Unlimited = new(0, TimeSpan.Zero, TimeSpan.Zero, LinkLoss.None, TimeSpan.Zero);

    public bool IsRateLimited => RateKbps > 0;

    /// <summary>Throws <see cref="ArgumentException"/> with a readable message when a value is out of range.</summary>
    public void Validate()
    {
        if (RateKbps < 0) throw new ArgumentException($"The rate must be positive or 0 for unlimited, not {RateKbps} kbit/s.");
        if (Delay < TimeSpan.Zero) throw new ArgumentException($"The delay must not be negative ({Delay}).");
        if (Jitter < TimeSpan.Zero) throw new ArgumentException($"The jitter must not be negative ({Jitter}).");
        if (QueueLimit < TimeSpan.Zero) throw new ArgumentException($"The queue limit must not be negative ({QueueLimit}).");
        if (BurstBytes <= 0) throw new ArgumentException($"The token bucket must hold at least one byte, not {BurstBytes}.");
        ArgumentNullException.ThrowIfNull(Loss);
    }

    /// <summary>Time the bottleneck needs to send <paramref name="bytes"/> (zero when unlimited).</summary>
    public TimeSpan SerializationTime(int bytes) =>
        IsRateLimited ? TimeSpan.FromTicks((long)Math.Round(bytes * 8.0 * TimeSpan.TicksPerMillisecond / RateKbps)) : TimeSpan.Zero;
}

/// <summary>A named two-way link: <see cref="Up"/> carries the patient's (client's) packets to the server,
/// <see cref="Down"/> the server's packets to the client.</summary>
public sealed record LinkProfile(string Name, LinkDirectionProfile Up, LinkDirectionProfile Down)
{
    /// <summary>No limits at all: packets pass straight through.</summary>
    public static readonly LinkProfile Clean = new("clean", LinkDirectionProfile.Unlimited, LinkDirectionProfile.Unlimited);

    public static readonly LinkProfile FourG = Symmetric("4g", 2000, 5000, rttMs: 40, jitterMs: 0, LinkLoss.None, queueMs: 200);
    public static readonly LinkProfile ThreeG = Symmetric("3g", 250, 750, rttMs: 150, jitterMs: 2, LinkLoss.Random(0.01), queueMs: 400);
    public static readonly LinkProfile ThreeGPoor = Symmetric("3g-poor", 150, 400, rttMs: 300, jitterMs: 5, LinkLoss.Bursty(0.02), queueMs: 500);
    public static readonly LinkProfile Edge = Symmetric("edge", 60, 120, rttMs: 600, jitterMs: 10, LinkLoss.Bursty(0.03), queueMs: 800);
    public static readonly LinkProfile Gprs = Symmetric("gprs", 25, 50, rttMs: 800, jitterMs: 10, LinkLoss.Bursty(0.05), queueMs: 1000);

    /// <summary>Every named profile, from best to worst.</summary>
    public static IReadOnlyList<LinkProfile> Named { get; } = [Clean, FourG, ThreeG, ThreeGPoor, Edge, Gprs];

    /// <summary>Round-trip time with empty queues and no jitter.</summary>
    public TimeSpan Rtt => Up.Delay + Down.Delay;

    /// <summary>The named profile (case-insensitive), or a <see cref="FormatException"/> listing the known names.</summary>
    public static LinkProfile Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryGet(name, out var profile)
            ? profile
            : throw new FormatException($"Unknown link profile '{name}'; known profiles: {string.Join(", ", Named.Select(p => p.Name))}.");
    }

    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LinkProfile? profile)
    {
        profile = Named.FirstOrDefault(p => string.Equals(p.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return profile is not null;
    }

    public override string ToString() => Name;

    private static LinkProfile Symmetric(string name, int upKbps, int downKbps, int rttMs, int jitterMs, LinkLoss loss, int queueMs)
    {
        var oneWay = TimeSpan.FromMilliseconds(rttMs / 2.0);
        var jitter = TimeSpan.FromMilliseconds(jitterMs);
        var queue = TimeSpan.FromMilliseconds(queueMs);
        return new LinkProfile(name,
            new LinkDirectionProfile(upKbps, oneWay, jitter, loss, queue),
            new LinkDirectionProfile(downKbps, oneWay, jitter, loss, queue));
    }
}
