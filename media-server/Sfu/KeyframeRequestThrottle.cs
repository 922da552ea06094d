using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Sfu;

/// <summary>How a keyframe is requested from the publisher: PLI (RFC 4585 §6.3.1) or FIR (RFC 5104 §4.3.1).</summary>
public enum KeyframeRequestKind
{
    Pli,
    Fir,
}

/// <summary>
/// Relays subscribers' keyframe requests (PLI/FIR) upstream to one publication at most once per
/// <see cref="MinInterval"/>. A request arriving during the quiet period is remembered and becomes due when the
/// period ends (<see cref="NextTimeout"/>, then <see cref="Poll"/>). Keeps the FIR command sequence number,
/// incremented once per new request sent (RFC 5104 §4.3.1.2). Sans-I/O, single-threaded, no allocation.
/// </summary>
public sealed class KeyframeRequestThrottle
{
    private bool _hasSent;
    private TimeSpan _lastSent;
    private bool _pending;

    public KeyframeRequestThrottle(KeyframeRequestKind kind = KeyframeRequestKind.Pli, TimeSpan? minInterval = null)
    {
        Kind = kind;
        MinInterval = minInterval ?? TimeSpan.FromMilliseconds(300);
    }

    public KeyframeRequestKind Kind { get; }

    public TimeSpan MinInterval { get; set; }

    /// <summary>FIR command sequence number of the next FIR written.</summary>
    public byte FirSequenceNumber { get; set; }

    /// <summary>True when a request is waiting for the quiet period to end.</summary>
    public bool IsPending => _pending;

    /// <summary>Requests sent upstream so far.</summary>
    public long SentCount { get; private set; }

    /// <summary>
    /// A subscriber asked for a keyframe (or the SFU needs one, e.g. after a layer switch). Returns true if the
    /// request should be sent now (then call <see cref="WriteRequest"/>); otherwise it is kept pending.
    /// </summary>
    public bool OnRequest(TimeSpan now)
    {
        if (!_hasSent || now - _lastSent >= MinInterval)
        {
            MarkSent(now);
            return true;
        }
        _pending = true;
        return false;
    }

    /// <summary>Returns true if a pending request is now due (then call <see cref="WriteRequest"/>).</summary>
    public bool Poll(TimeSpan now)
    {
        if (!_pending || now - _lastSent < MinInterval) return false;
        MarkSent(now);
        return true;
    }

    /// <summary>When a pending request becomes due; null if none is pending.</summary>
    public TimeSpan? NextTimeout => _pending ? _lastSent + MinInterval : null;

    /// <summary>A keyframe arrived from the publisher: a pending request is no longer needed.</summary>
    public void OnKeyframeReceived() => _pending = false;

    /// <summary>Bytes <see cref="WriteRequest"/> writes.</summary>
    public int GetSerializedLength() => Kind == KeyframeRequestKind.Pli ? PictureLossIndication.Size : 20;

    /// <summary>
    /// Writes the PLI or FIR for <paramref name="mediaSsrc"/> into <paramref name="destination"/> and returns its
    /// length. A FIR carries and then advances <see cref="FirSequenceNumber"/>.
    /// </summary>
    public int WriteRequest(Span<byte> destination, uint senderSsrc, uint mediaSsrc)
    {
        if (Kind == KeyframeRequestKind.Pli)
            return new PictureLossIndication(senderSsrc, mediaSsrc).WriteTo(destination);
        var entry = new FirEntry(mediaSsrc, FirSequenceNumber);
        int n = new FullIntraRequest(senderSsrc, new ReadOnlySpan<FirEntry>(in entry)).WriteTo(destination);
        FirSequenceNumber++;
        return n;
    }

    private void MarkSent(TimeSpan now)
    {
        _hasSent = true;
        _lastSent = now;
        _pending = false;
        SentCount++;
    }
}
