using System.Buffers.Binary;

namespace TeleRehab.Media.Rtp;

/// <summary>
/// abs-send-time header extension value (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time):
/// 3 bytes, a 24-bit 6.18 fixed-point number of seconds (wraps every 64 s).
/// </summary>
public static class AbsSendTime
{
    public const int ValueLength = 3;
    private const long TicksPerSecond = TimeSpan.TicksPerSecond;

    /// <summary>Converts a (non-negative) monotonic time to the 24-bit 6.18 value, rounded to nearest.</summary>
    public static uint FromTimeSpan(TimeSpan now)
    {
        long ticks = now.Ticks;
        if (ticks < 0) throw new ArgumentOutOfRangeException(nameof(now));
        long seconds = ticks / TicksPerSecond;
        long fraction = ((ticks % TicksPerSecond << 18) + TicksPerSecond / 2) / TicksPerSecond;
        return (uint)((((seconds & 0x3F) << 18) + fraction) & 0xFFFFFF);
    }

    /// <summary>Converts a 24-bit value to the time within its 64-second cycle.</summary>
    public static TimeSpan ToTimeSpan(uint value) =>
        TimeSpan.FromTicks(((long)(value & 0xFFFFFF) * TicksPerSecond + (1 << 17)) >> 18);

    public static bool TryRead(ReadOnlySpan<byte> value, out uint absSendTime)
    {
        if (value.Length != ValueLength) { absSendTime = 0; return false; }
        absSendTime = (uint)(value[0] << 16 | value[1] << 8 | value[2]);
        return true;
    }

    public static int Write(Span<byte> destination, uint absSendTime)
    {
        destination[2] = (byte)absSendTime;
        destination[1] = (byte)(absSendTime >> 8);
        destination[0] = (byte)(absSendTime >> 16);
        return ValueLength;
    }
}

/// <summary>
/// transport-wide-cc header extension value (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2):
/// a 16-bit transport-wide sequence number.
/// </summary>
public static class TransportSequenceNumberExtension
{
    public const int ValueLength = 2;

    /// <summary>Reads the sequence number; also accepts the 4-byte "-02" variant (seq first).</summary>
    public static bool TryRead(ReadOnlySpan<byte> value, out ushort sequenceNumber)
    {
        if (value.Length is not (2 or 4)) { sequenceNumber = 0; return false; }
        sequenceNumber = BinaryPrimitives.ReadUInt16BigEndian(value);
        return true;
    }

    public static int Write(Span<byte> destination, ushort sequenceNumber)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, sequenceNumber);
        return ValueLength;
    }
}

/// <summary>ssrc-audio-level header extension value (RFC 6464 §3): V flag + 7-bit level in -dBov.</summary>
public readonly record struct AudioLevel(bool VoiceActivity, byte Level)
{
    public const int ValueLength = 1;

    /// <summary>RFC 6464 §3 allows the one-byte value to be followed by padding in the two-byte form, so
    /// any non-empty value is accepted and only the first byte is read.</summary>
    public static bool TryRead(ReadOnlySpan<byte> value, out AudioLevel level)
    {
        if (value.IsEmpty) { level = default; return false; }
        level = new AudioLevel((value[0] & 0x80) != 0, (byte)(value[0] & 0x7F));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (Level > 127) throw new InvalidOperationException("Audio level is a 7-bit value.");
        destination[0] = (byte)((VoiceActivity ? 0x80 : 0) | Level);
        return ValueLength;
    }
}

/// <summary>
/// String-valued extensions: sdes:mid (RFC 8843 §15.2), rtp-stream-id and repaired-rtp-stream-id
/// (RFC 8852 §3). Values stay as byte spans; comparisons allocate nothing.
/// </summary>
public static class RtpStringExtension
{
    /// <summary>Byte-for-byte comparison of an extension value with an ASCII string.</summary>
    public static bool Equals(ReadOnlySpan<byte> value, ReadOnlySpan<char> ascii)
    {
        if (value.Length != ascii.Length) return false;
        for (int i = 0; i < value.Length; i++)
        {
            char c = ascii[i];
            if (c > 127 || value[i] != c) return false;
        }
        return true;
    }

    public static bool Equals(ReadOnlySpan<byte> value, ReadOnlySpan<byte> utf8) => value.SequenceEqual(utf8);

    /// <summary>Writes an ASCII identifier; returns its length. Ids must be 1-16 characters for the one-byte form.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<char> ascii)
    {
        if (destination.Length < ascii.Length) throw new ArgumentException("Destination too small.", nameof(destination));
        for (int i = 0; i < ascii.Length; i++)
        {
            char c = ascii[i];
            if (c > 127) throw new ArgumentException("Identifier must be ASCII.", nameof(ascii));
            destination[i] = (byte)c;
        }
        return ascii.Length;
    }
}
