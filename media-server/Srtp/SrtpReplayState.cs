namespace TeleRehab.Media.Srtp;

/// <summary>
/// Per-SSRC SRTP state: the highest 48-bit packet index seen (ROC || s_l, RFC 3711 §3.3.1) and a 64-packet
/// replay window (RFC 3711 §3.3.2; bit k set = index (highest - k) was received). Also used for SRTCP with
/// the 31-bit SRTCP index as the index. A plain struct kept by value in a dictionary: no per-packet allocation.
/// </summary>
internal struct SrtpReplayState
{
    public const int WindowSize = 64;

    public ulong HighestIndex;
    public ulong Window;

    public readonly uint Roc => (uint)(HighestIndex >> 16);

    /// <summary>
    /// Estimates the 48-bit index of a packet with sequence number <paramref name="seq"/> (RFC 3711 Appendix A).
    /// Returns false when the estimate would precede ROC 0 (a packet older than the start of the stream).
    /// </summary>
    public readonly bool TryEstimateIndex(ushort seq, out ulong index)
    {
        uint roc = Roc;
        ushort sl = (ushort)HighestIndex;
        long v = roc;
        if (sl < 32768)
        {
            if (seq - sl > 32768) v = (long)roc - 1;
        }
        else if (sl - 32768 > seq)
        {
            v = (long)roc + 1;
        }
        if (v < 0)
        {
            index = 0;
            return false;
        }
        index = ((ulong)v << 16) | seq;
        return true;
    }

    /// <summary>True when <paramref name="index"/> has not been seen and is not older than the window (§3.3.2).</summary>
    public readonly bool IsFresh(ulong index)
    {
        if (index > HighestIndex) return true;
        ulong behind = HighestIndex - index;
        if (behind >= WindowSize) return false;
        return (Window & (1UL << (int)behind)) == 0;
    }

    /// <summary>Records an authenticated packet: advances the highest index or marks the window bit.</summary>
    public void Accept(ulong index)
    {
        if (index > HighestIndex)
        {
            ulong ahead = index - HighestIndex;
            Window = ahead >= WindowSize ? 1UL : (Window << (int)ahead) | 1UL;
            HighestIndex = index;
        }
        else
        {
            Window |= 1UL << (int)(HighestIndex - index);
        }
    }

    /// <summary>The state after the first authenticated packet of a stream.</summary>
    public static SrtpReplayState First(ulong index) => new() { HighestIndex = index, Window = 1UL };
}
