namespace TeleRehab.Media.Rtp;

/// <summary>16-bit RTP sequence number arithmetic (RFC 3550 §5.1, Appendix A.1; RFC 1982 serial numbers).</summary>
public static class SequenceNumber
{
    /// <summary>True if <paramref name="a"/> is newer than <paramref name="b"/> modulo 2^16.</summary>
    public static bool IsNewer(ushort a, ushort b) => a != b && (short)(a - b) > 0;

    /// <summary>Signed forward distance from <paramref name="from"/> to <paramref name="to"/> (-32768..32767).</summary>
    public static int Delta(ushort from, ushort to) => (short)(ushort)(to - from);
}

/// <summary>
/// Unwraps 16-bit sequence numbers to 64-bit extended sequence numbers (cycles × 65536 + seq, as in
/// RFC 3550 Appendix A.1). Each value is placed nearest to the highest value seen so far, so reordered
/// (older) packets map to their original cycle. The first value maps to itself; packets reordered to
/// before a 0-crossing of the first one can unwrap to negative values.
/// </summary>
public struct SequenceNumberUnwrapper
{
    private long _highest;
    private bool _started;

    /// <summary>Highest extended sequence number seen (valid after the first call).</summary>
    public readonly long Highest => _highest;

    public readonly bool HasValue => _started;

    public long Unwrap(ushort sequenceNumber)
    {
        if (!_started)
        {
            _started = true;
            _highest = sequenceNumber;
            return _highest;
        }
        long extended = _highest + (short)(ushort)(sequenceNumber - (ushort)_highest);
        if (extended > _highest) _highest = extended;
        return extended;
    }

    /// <summary>Returns the extended value without updating state.</summary>
    public readonly long Peek(ushort sequenceNumber) =>
        _started ? _highest + (short)(ushort)(sequenceNumber - (ushort)_highest) : sequenceNumber;
}

/// <summary>
/// Unwraps 32-bit RTP timestamps (RFC 3550 §5.1) to 64-bit values, relative to the newest timestamp
/// seen; older (reordered) timestamps within 2^31 map backwards.
/// </summary>
public struct TimestampUnwrapper
{
    private long _highest;
    private bool _started;

    public readonly long Highest => _highest;

    public readonly bool HasValue => _started;

    public long Unwrap(uint timestamp)
    {
        if (!_started)
        {
            _started = true;
            _highest = timestamp;
            return _highest;
        }
        long extended = _highest + (int)(timestamp - (uint)_highest);
        if (extended > _highest) _highest = extended;
        return extended;
    }

    public readonly long Peek(uint timestamp) =>
        _started ? _highest + (int)(timestamp - (uint)_highest) : timestamp;
}
