namespace TeleRehab.Media.Sfu;

/// <summary>
/// The round-trip time of one leg, from the receiver's reports about the SFU's own streams (RFC 3550 §6.4.1):
/// RTT = A - LSR - DLSR, where A is the compact NTP time (middle 32 bits, 1/65536 s) at which the report block
/// arrived, LSR the compact NTP time of the SFU's last sender report the receiver had, and DLSR how long it held
/// it. The figure feeds NACK timing and how long packets are kept for retransmission on that leg. Smoothed like
/// TCP's SRTT (RFC 6298 §2, alpha = 1/8). Sans-I/O; single-threaded.
/// </summary>
public sealed class RoundTripTime
{
    /// <summary>Used until a report gives a measurement.</summary>
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);

    /// <summary>Measurements above this are taken as this (a report about a stale sender report, a clock step).</summary>
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    public TimeSpan Smoothed { get; private set; } = Initial;

    /// <summary>The last measurement (null until one came).</summary>
    public TimeSpan? Latest { get; private set; }

    /// <summary>RFC 3550 §6.4.1 with compact NTP values. Returns false when the block carries no LSR (the receiver
    /// has not had a sender report yet) or the result is negative.</summary>
    public static bool TryCompute(uint arrivalCompactNtp, uint lastSenderReport, uint delaySinceLastSenderReport, out TimeSpan rtt)
    {
        rtt = default;
        if (lastSenderReport == 0) return false;
        var units = (int)(arrivalCompactNtp - lastSenderReport - delaySinceLastSenderReport); // modulo 2^32
        if (units < 0) return false;
        rtt = TimeSpan.FromTicks(units * TimeSpan.TicksPerSecond / 65536);
        return true;
    }

    /// <summary>Takes a report block's LSR/DLSR that arrived at <paramref name="arrivalCompactNtp"/>. True when it gave
    /// a measurement.</summary>
    public bool OnReportBlock(uint arrivalCompactNtp, uint lastSenderReport, uint delaySinceLastSenderReport)
    {
        if (!TryCompute(arrivalCompactNtp, lastSenderReport, delaySinceLastSenderReport, out var rtt)) return false;
        if (rtt > Max) rtt = Max;
        Smoothed = Latest is null ? rtt : TimeSpan.FromTicks(Smoothed.Ticks + (rtt.Ticks - Smoothed.Ticks) / 8);
        Latest = rtt;
        return true;
    }
}
