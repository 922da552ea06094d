namespace TeleRehab.Media.Bwe;

/// <summary>
/// A request to the pacer: send at least <see cref="MinPackets"/> packets and <see cref="MinBytes"/> bytes at
/// <see cref="TargetBitrateBps"/> (≈ <see cref="Duration"/>), each passed to <c>OnPacketSent</c> with <see cref="Id"/>
/// as its probe cluster id. Use packets of about equal size (padding, or RTX of recent packets) and hold other
/// media for those few milliseconds, so the cluster is the whole send rate and its result measures the path.
/// </summary>
public readonly record struct ProbeCluster(int Id, long TargetBitrateBps, int MinPackets, int MinBytes)
{
    /// <summary>The intended length of a cluster's burst at its rate: long enough that a shaper's burst allowance (a
    /// token bucket lets a few packets through at line rate) is a small part of what the cluster measures.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(30);
    public const int DefaultMinPackets = 8;

    /// <summary>Interval between two probe packets of <paramref name="size"/> bytes at the cluster's rate.</summary>
    public TimeSpan PacketInterval(int size) => TimeSpan.FromTicks(size * 8L * TimeSpan.TicksPerSecond / Math.Max(TargetBitrateBps, 1));
}
