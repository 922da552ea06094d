using System.Buffers.Binary;
using System.Text;

namespace TeleRehab.LoadTests;

/// <summary>Recognizable synthetic payloads. Nothing here can be decoded as audio or video; instead every payload
/// names its publisher, kind and sequence, and its filler bytes follow from the sequence, so a receiver checks that the
/// SFU forwarded it intact and from whom. Layout: a codec-like prefix (an Opus TOC byte, or a VP8 payload descriptor and
/// frame header), the ASCII tag <c>TRH1 &lt;participantId&gt; &lt;a|v&gt; &lt;sequence&gt;[@&lt;sentAt&gt;];</c>, then filler byte
/// k = (seq * 31 + k) mod 256. The optional <c>sentAt</c> is the sender's clock in microseconds (the load generator's
/// <see cref="MediaClock"/>), so a receiver in the same process measures end-to-end latency and jitter.</summary>
public static class SyntheticPayload
{
    public const string Magic = "TRH1 ";
    public const int MaxParticipantIdLength = 64;

    /// <summary>Writes a payload of <paramref name="length"/> bytes (at least the tag's length); returns the bytes written.</summary>
    public static int Write(Span<byte> destination, string participantId, bool video, bool keyframe, uint sequence, int length) =>
        Write(destination, participantId, video, keyframe, sequence, length, sentAt: -1);

    /// <summary>As <see cref="Write(Span{byte}, string, bool, bool, uint, int)"/>, with a send time in microseconds
    /// (negative: none).</summary>
    public static int Write(Span<byte> destination, string participantId, bool video, bool keyframe, uint sequence, int length, long sentAt)
    {
        var prefix = Prefix(destination, video, keyframe);
        var position = prefix;
        position += Encoding.ASCII.GetBytes(Magic, destination[position..]);
        position += Encoding.ASCII.GetBytes(participantId, destination[position..]);
        destination[position++] = (byte)' ';
        destination[position++] = (byte)(video ? 'v' : 'a');
        destination[position++] = (byte)' ';
        sequence.TryFormat(destination[position..], out var digits);
        position += digits;
        if (sentAt >= 0)
        {
            destination[position++] = (byte)'@';
            sentAt.TryFormat(destination[position..], out digits);
            position += digits;
        }
        destination[position++] = (byte)';';
        var filler = Math.Max(0, length - position);
        for (var k = 0; k < filler; k++) destination[position + k] = (byte)(sequence * 31 + (uint)k);
        return position + filler;
    }

    private static int Prefix(Span<byte> destination, bool video, bool keyframe)
    {
        if (!video)
        {
            destination[0] = 0xFC; // Opus TOC: CELT FB 20 ms, one frame (RFC 6716 §3.1)
            return 1;
        }
        // VP8 payload descriptor (RFC 7741 §4.2): S=1, partition 0; then a 3-byte frame tag, P=0 for a keyframe.
        destination[0] = 0x10;
        destination[1] = (byte)(keyframe ? 0x00 : 0x01);
        destination[2] = 0x00;
        destination[3] = 0x00;
        return 4;
    }

    /// <summary>Reads and checks a payload. False when it is not a synthetic payload at all; otherwise
    /// <paramref name="intact"/> tells whether every byte is as written.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, Span<char> participantId, out int participantIdLength, out bool video, out uint sequence, out bool intact) =>
        TryRead(payload, participantId, out participantIdLength, out video, out sequence, out intact, out _);

    /// <summary>As the other overload, also giving the send time the payload carries (-1 when none).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, Span<char> participantId, out int participantIdLength, out bool video, out uint sequence,
        out bool intact, out long sentAt)
    {
        sentAt = -1;
        participantIdLength = 0;
        video = false;
        sequence = 0;
        intact = false;
        if (payload.Length < 1) return false;
        var start = payload[0] == 0xFC ? 1 : payload[0] == 0x10 && payload.Length >= 4 ? 4 : -1;
        if (start < 0) return false;
        var rest = payload[start..];
        if (!rest.StartsWith("TRH1 "u8)) return false;
        rest = rest[5..];
        var space = rest.IndexOf((byte)' ');
        if (space <= 0 || space > MaxParticipantIdLength || space > participantId.Length) return false;
        for (var i = 0; i < space; i++) participantId[i] = (char)rest[i];
        participantIdLength = space;
        rest = rest[(space + 1)..];
        if (rest.Length < 3 || rest[1] != (byte)' ') return false;
        video = rest[0] == (byte)'v';
        if (!video && rest[0] != (byte)'a') return false;
        if (video != (start == 4)) return true; // the prefix and the tag disagree: not intact
        if (video && (payload[1] > 1 || payload[2] != 0 || payload[3] != 0)) return true; // a changed frame header
        rest = rest[2..];
        var end = rest.IndexOf((byte)';');
        if (end <= 0) return false;
        var tag = rest[..end];
        var at = tag.IndexOf((byte)'@');
        var sequenceDigits = at < 0 ? tag : tag[..at];
        if (!System.Buffers.Text.Utf8Parser.TryParse(sequenceDigits, out sequence, out var consumed) || consumed != sequenceDigits.Length) return false;
        if (at >= 0 && (!System.Buffers.Text.Utf8Parser.TryParse(tag[(at + 1)..], out sentAt, out consumed) || consumed != tag.Length - at - 1 || sentAt < 0))
        {
            sentAt = -1;
            return false;
        }
        var filler = rest[(end + 1)..];
        for (var k = 0; k < filler.Length; k++)
        {
            if (filler[k] != (byte)(sequence * 31 + (uint)k)) return true;
        }
        intact = true;
        return true;
    }

    /// <summary>The RTP header's fields in a packet (no extensions written by the synthetic sender).</summary>
    public static int WriteHeader(Span<byte> packet, byte payloadType, ushort sequence, uint timestamp, uint ssrc, bool marker)
    {
        packet[0] = 0x80;
        packet[1] = (byte)((marker ? 0x80 : 0) | payloadType);
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(packet[8..], ssrc);
        return 12;
    }
}

/// <summary>The load generator's one clock for send times in payloads: microseconds since one second before its first
/// use, monotonic (so every reading is positive).</summary>
public static class MediaClock
{
    private static readonly long Origin;

    static MediaClock() => Origin = System.Diagnostics.Stopwatch.GetTimestamp() - System.Diagnostics.Stopwatch.Frequency;

    public static long NowMicroseconds => (long)((System.Diagnostics.Stopwatch.GetTimestamp() - Origin) * (1_000_000.0 / System.Diagnostics.Stopwatch.Frequency));
}
