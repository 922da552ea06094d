using System.Buffers.Binary;
using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// Sender statistics of one outgoing SSRC for its sender reports (RFC 3550 §6.4.1): packet and payload octet
/// counts and the RTP timestamp matching a given NTP time, extrapolated at the clock rate from the newest
/// timestamp sent. Sans-I/O, single-threaded, no allocation.
/// </summary>
public sealed class SendStatistics
{
    private bool _hasTimestamp;
    private uint _lastTimestamp;
    private TimeSpan _lastTimestampTime;

    public SendStatistics(uint ssrc, uint clockRate)
    {
        if (clockRate == 0) throw new ArgumentOutOfRangeException(nameof(clockRate));
        Ssrc = ssrc;
        ClockRate = clockRate;
    }

    public uint Ssrc { get; }

    public uint ClockRate { get; }

    /// <summary>Packets sent (wraps modulo 2^32 as the SR field does).</summary>
    public uint PacketCount { get; private set; }

    /// <summary>Payload octets sent, excluding header and padding (wraps modulo 2^32).</summary>
    public uint OctetCount { get; private set; }

    /// <summary>True once a packet was sent: an SR is only meaningful after that (§6.4: "active sender").</summary>
    public bool HasSent => _hasTimestamp;

    /// <summary>The newest RTP timestamp sent (0 before any).</summary>
    public uint LastTimestamp => _lastTimestamp;

    /// <summary>Records a sent packet by its RTP timestamp and payload length (without header and padding).</summary>
    public void OnPacketSent(uint rtpTimestamp, int payloadLength, TimeSpan now)
    {
        PacketCount++;
        OctetCount += (uint)payloadLength;
        // Only a newer timestamp moves the reference (a retransmission carries an old one).
        if (!_hasTimestamp || (int)(rtpTimestamp - _lastTimestamp) >= 0)
        {
            _lastTimestamp = rtpTimestamp;
            _lastTimestampTime = now;
            _hasTimestamp = true;
        }
    }

    /// <summary>Records a sent packet, reading timestamp and payload length from it; false if it is malformed.</summary>
    public bool OnPacketSent(ReadOnlySpan<byte> packet, TimeSpan now)
    {
        if (!RtpPacketReader.TryParse(packet, out var reader)) return false;
        OnPacketSent(reader.Timestamp, reader.PayloadLength, now);
        return true;
    }

    /// <summary>The RTP timestamp corresponding to <paramref name="now"/>: the newest sent one plus elapsed time × clock rate.</summary>
    public uint GetRtpTimestamp(TimeSpan now)
    {
        if (!_hasTimestamp) return 0;
        long ticks = (now - _lastTimestampTime).Ticks;
        long units = ticks >= 0
            ? (long)((UInt128)(ulong)ticks * ClockRate / TimeSpan.TicksPerSecond)
            : -(long)((UInt128)(ulong)(-ticks) * ClockRate / TimeSpan.TicksPerSecond);
        return _lastTimestamp + (uint)units;
    }

    /// <summary>Sender report for this SSRC at NTP time <paramref name="ntpTimestamp"/> (local time <paramref name="now"/>).</summary>
    public SenderReport CreateSenderReport(ulong ntpTimestamp, TimeSpan now, ReadOnlySpan<ReportBlock> reportBlocks = default) =>
        new(Ssrc, ntpTimestamp, GetRtpTimestamp(now), PacketCount, OctetCount, reportBlocks);

    /// <summary>64-bit NTP timestamp (RFC 5905: 32.32 fixed-point seconds since 1900-01-01 UTC) of a UTC time.</summary>
    public static ulong ToNtpTimestamp(DateTime utc)
    {
        long ticks = utc.ToUniversalTime().Ticks - NtpEpoch.Ticks;
        ulong seconds = (ulong)(ticks / TimeSpan.TicksPerSecond);
        ulong fraction = (ulong)(ticks % TimeSpan.TicksPerSecond) * (1UL << 32) / TimeSpan.TicksPerSecond;
        return (seconds << 32) | fraction;
    }

    private static readonly DateTime NtpEpoch = new(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc);
}

/// <summary>
/// Writes the RTCP compounds an SFU sends periodically (RFC 3550 §6.1: a report first, then SDES with CNAME)
/// into a caller's span, without allocating. Each returns the bytes written, or 0 if the destination is too
/// small or there are more than 31 report blocks.
/// </summary>
public static class RtcpReportWriter
{
    /// <summary>Length of an SDES packet with one chunk carrying only a CNAME of <paramref name="cnameLength"/> bytes.</summary>
    public static int GetSdesCnameLength(int cnameLength) => RtcpHeader.Size + ((4 + 2 + cnameLength + 1 + 3) & ~3);

    /// <summary>Writes SDES (RFC 3550 §6.5) with one chunk: <paramref name="ssrc"/>, CNAME item, null terminator and padding.</summary>
    public static int WriteSdesCname(Span<byte> destination, uint ssrc, ReadOnlySpan<byte> cnameUtf8)
    {
        if (cnameUtf8.Length > 255) return 0;
        int length = GetSdesCnameLength(cnameUtf8.Length);
        if (destination.Length < length) return 0;
        RtcpHeader.Write(destination, 1, RtcpPacketType.SourceDescription, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        destination[8] = (byte)SdesItemType.Cname;
        destination[9] = (byte)cnameUtf8.Length;
        cnameUtf8.CopyTo(destination[10..]);
        destination[(10 + cnameUtf8.Length)..length].Clear(); // END item plus padding to 32 bits
        return length;
    }

    /// <summary>SR (from <paramref name="statistics"/>) + SDES CNAME.</summary>
    public static int WriteSenderReport(Span<byte> destination, SendStatistics statistics, ulong ntpTimestamp, TimeSpan now,
        ReadOnlySpan<ReportBlock> reportBlocks, ReadOnlySpan<byte> cnameUtf8)
    {
        if (reportBlocks.Length > 31) return 0;
        var sr = statistics.CreateSenderReport(ntpTimestamp, now, reportBlocks);
        int srLength = sr.GetSerializedLength();
        if (destination.Length < srLength + GetSdesCnameLength(cnameUtf8.Length)) return 0;
        sr.WriteTo(destination);
        int sdes = WriteSdesCname(destination[srLength..], statistics.Ssrc, cnameUtf8);
        return sdes == 0 ? 0 : srLength + sdes;
    }

    /// <summary>RR from <paramref name="senderSsrc"/> (may carry no blocks) + SDES CNAME.</summary>
    public static int WriteReceiverReport(Span<byte> destination, uint senderSsrc, ReadOnlySpan<ReportBlock> reportBlocks,
        ReadOnlySpan<byte> cnameUtf8)
    {
        if (reportBlocks.Length > 31) return 0;
        var rr = new ReceiverReport(senderSsrc, reportBlocks);
        int rrLength = rr.GetSerializedLength();
        if (destination.Length < rrLength + GetSdesCnameLength(cnameUtf8.Length)) return 0;
        rr.WriteTo(destination);
        int sdes = WriteSdesCname(destination[rrLength..], senderSsrc, cnameUtf8);
        return sdes == 0 ? 0 : rrLength + sdes;
    }
}
