using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Rooms;

/// <summary>One published track (a publisher's m-section): the streams the publisher sends on it, its
/// retransmission buffer (the one place a packet is kept), upstream NACK generation, keyframe-request throttling,
/// and the subscriptions it fans out to. Worker-thread only.</summary>
internal sealed class Publication
{
    private readonly List<Subscription> _subscribers = [];
    private readonly HashSet<uint> _rtxSsrcs = [];
    private readonly byte[] _aptByRtxPayloadType = new byte[128];

    public Publication(RoomParticipant publisher, string mid, string kind, int sequence)
    {
        Publisher = publisher;
        Mid = mid;
        Kind = kind;
        Info = new TrackInfo($"{publisher.Id}-{kind}-{mid}-{sequence}", publisher.Id, kind);
        // Video keeps up to MaxRetention of packets (1,024 slots hold 3 s at 2.7 Mbit/s of 1,000-byte packets).
        Buffer = new RetransmissionBuffer(kind == "video" ? 1024 : 64, maxAge: MinRetention);
        Nack = new NackGenerator();
        Keyframes = new KeyframeRequestThrottle();
    }

    public RoomParticipant Publisher { get; }

    public string Mid { get; }

    public string Kind { get; }

    public TrackInfo Info { get; }

    public bool IsVideo => Kind == "video";

    /// <summary>The stream's primary SSRC once known (from SDP or the first packet).</summary>
    public uint? PrimarySsrc { get; private set; }

    public NegotiatedMedia Media { get; private set; } = null!;

    public RetransmissionBuffer Buffer { get; }

    public NackGenerator Nack { get; }

    public KeyframeRequestThrottle Keyframes { get; }

    public ReceiveStatistics? Statistics { get; private set; }

    public bool Muted { get; set; }

    /// <summary>What the publisher sends on this track (bit/s), for the subscribers' wanted rates.</summary>
    public BitrateMeter IncomingBitrate { get; } = new();

    /// <summary>The extended highest sequence number of the previous receiver report (a stall shows as no change).</summary>
    public uint? LastReportedHighestSequence { get; set; }

    /// <summary>Packets are kept for retransmission at least this long, and for twice the slowest subscriber's round
    /// trip up to <see cref="MaxRetention"/>: on a 2G leg a NACK arrives more than a second after the packet left.</summary>
    public static readonly TimeSpan MinRetention = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxRetention = TimeSpan.FromSeconds(3);

    /// <summary>How long to keep (or keep asking for) packets on a leg with round trip <paramref name="rtt"/>.</summary>
    public static TimeSpan RetentionFor(TimeSpan rtt)
    {
        var twice = rtt * 2;
        return twice < MinRetention ? MinRetention : twice > MaxRetention ? MaxRetention : twice;
    }

    /// <summary>Sizes the retransmission buffer's age limit from the subscribers' round trips (cold path: once per report).</summary>
    public void UpdateRetention()
    {
        var slowest = TimeSpan.Zero;
        foreach (var subscription in _subscribers)
        {
            if (subscription.Subscriber.RoundTrip.Smoothed > slowest) slowest = subscription.Subscriber.RoundTrip.Smoothed;
        }
        Buffer.MaxAge = RetentionFor(slowest);
    }

    /// <summary>The subscriptions (a concrete list: the forwarding loop indexes it without an enumerator).</summary>
    public List<Subscription> Subscribers => _subscribers;

    /// <summary>Takes the negotiated description of the publisher's m-section (first or renegotiated).</summary>
    public void Update(NegotiatedMedia media)
    {
        Media = media;
        Array.Clear(_aptByRtxPayloadType);
        foreach (var (rtx, apt) in media.RtxPayloadTypes)
        {
            if (rtx is > 0 and < 128 && apt is > 0 and < 128) _aptByRtxPayloadType[rtx] = (byte)apt;
        }
        _rtxSsrcs.Clear();
        foreach (var group in media.RemoteSsrcGroups)
        {
            if (group.Semantics == "FID" && group.Ssrcs.Count == 2)
            {
                PrimarySsrc ??= group.Ssrcs[0];
                _rtxSsrcs.Add(group.Ssrcs[1]);
            }
        }
        if (PrimarySsrc is null && media.RemoteSsrcIds.Count > 0) PrimarySsrc = media.RemoteSsrcIds[0];
    }

    /// <summary>The SSRCs this publication owns (primary and RTX), for the publisher's SSRC table.</summary>
    public IEnumerable<uint> Ssrcs => PrimarySsrc is { } primary ? _rtxSsrcs.Append(primary) : _rtxSsrcs;

    public bool IsRtxSsrc(uint ssrc) => _rtxSsrcs.Contains(ssrc);

    public void AdoptPrimarySsrc(uint ssrc)
    {
        PrimarySsrc = ssrc;
    }

    public void AdoptRtxSsrc(uint ssrc) => _rtxSsrcs.Add(ssrc);

    /// <summary>The clock rate of the publication's first codec (audio 48 kHz Opus, video 90 kHz).</summary>
    public uint ClockRate => Media.Codecs.Count > 0 ? (uint)Media.Codecs[0].ClockRate : (IsVideo ? 90000u : 48000u);

    /// <summary>RFC 4588 §4: turns the publisher's RTX packet (a retransmission the SFU asked for) back into the
    /// original packet in place. False when it is not a usable RTX packet (e.g. a padding-only probe).</summary>
    public bool TryUnwrapRtx(Span<byte> packet, ref int length)
    {
        if (length < 2 || PrimarySsrc is not { } primary) return false;
        var rtxPayloadType = packet[1] & 0x7F;
        var apt = _aptByRtxPayloadType[rtxPayloadType];
        if (apt == 0) return false;
        var unwrapped = RtxPacket.TryUnwrap(packet[..length], primary, apt);
        if (unwrapped == 0) return false;
        length = unwrapped;
        return true;
    }

    public void EnsureStatistics(uint ssrc)
    {
        Statistics ??= new ReceiveStatistics(ssrc, ClockRate);
    }

    public void AddSubscriber(Subscription subscription)
    {
        _subscribers.Add(subscription);
    }

    public void RemoveSubscriber(Subscription subscription) => _subscribers.Remove(subscription);
}
