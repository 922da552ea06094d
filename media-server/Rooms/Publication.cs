using TeleRehab.Media.Codecs;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Rooms;

/// <summary>One SSRC a publisher sends on a track: the only stream of a plain track, or one simulcast encoding
/// (RFC 8853; <see cref="Index"/> is its spatial layer, 0 = lowest). It has its own receive statistics, upstream NACKs,
/// keyframe-request throttle and retransmission buffer (the one place a packet is kept). Worker-thread only.</summary>
internal sealed class PublishedStream
{
    public PublishedStream(Publication publication, int index, string? rid)
    {
        Publication = publication;
        Index = index;
        Rid = rid;
        Buffer = new RetransmissionBuffer(publication.IsVideo ? VideoBufferPackets : AudioBufferPackets, maxAge: Publication.MinRetention);
    }

    /// <summary>Video keeps up to <see cref="Publication.MaxRetention"/> of packets, as far as 1,024 slots go (3 s at
    /// 2.7 Mbit/s of 1,000-byte packets; the low layers an EDGE leg gets hold far longer); audio is not retransmitted by
    /// browsers, a few packets do.</summary>
    public const int VideoBufferPackets = 1024;

    public const int AudioBufferPackets = 64;

    /// <summary>What one stream's retransmission buffer allocates (about 1.5 MB for video, 0.1 MB for audio).</summary>
    public static long BufferBytes(bool video) => RetransmissionBuffer.FootprintBytes(video ? VideoBufferPackets : AudioBufferPackets);

    public Publication Publication { get; }

    /// <summary>The spatial layer: the encoding's position in the negotiated simulcast list (low to high).</summary>
    public int Index { get; }

    /// <summary>The RTP stream id (RFC 8852) of a simulcast encoding; null for a plain track.</summary>
    public string? Rid { get; }

    public uint? Ssrc { get; set; }

    public uint? RtxSsrc { get; set; }

    public RetransmissionBuffer Buffer { get; }

    public NackGenerator Nack { get; } = new();

    public KeyframeRequestThrottle Keyframes { get; } = new();

    public ReceiveStatistics? Statistics { get; private set; }

    /// <summary>The extended highest sequence number of the previous receiver report (a stall shows as no change).</summary>
    public uint? LastReportedHighestSequence { get; set; }

    public ReceiveStatistics EnsureStatistics(uint ssrc) => Statistics ??= new ReceiveStatistics(ssrc, Publication.ClockRate);

    /// <summary>Notes the loss (of 256) the SFU's latest receiver report for this stream gave (RFC 3550 §6.4.1).</summary>
    public void OnUplinkReport(byte fractionLost, TimeSpan now)
    {
        _uplinkFractionLost = fractionLost;
        _uplinkLossAt = now;
    }

    /// <summary>The publisher's uplink loss (of 256) in the SFU's latest report, 0 when older than
    /// <see cref="Subscription.DownstreamLossMemory"/>.</summary>
    public byte UplinkFractionLost(TimeSpan now) =>
        _uplinkLossAt != TimeSpan.MinValue && now - _uplinkLossAt <= Subscription.DownstreamLossMemory ? _uplinkFractionLost : (byte)0;

    private byte _uplinkFractionLost;
    private TimeSpan _uplinkLossAt = TimeSpan.MinValue;

    /// <summary>The standing queue on the publisher's uplink, measured on an audio stream (created with its first packet).</summary>
    public QueueDelayMeter QueueDelay => _queueDelay ??= new QueueDelayMeter(Publication.ClockRate);

    private QueueDelayMeter? _queueDelay;

    /// <summary>Video frames begun on this encoding (first packets of frames, as the payload descriptor marks them).</summary>
    public long FramesReceived { get; set; }

    /// <summary>The counts at the publisher's last uplink mode check (<see cref="RoomParticipant"/>).</summary>
    internal long FramesAtModeCheck { get; set; }

    internal long FramesAtPreviousModeCheck { get; set; }

    internal long ReceivedAtModeCheck { get; set; }

    internal long LostAtModeCheck { get; set; }
}

/// <summary>One published track (a publisher's m-section): the streams the publisher sends on it (one, or one per
/// simulcast encoding), what each layer carries (for the subscribers' layer choice), and the subscriptions it fans out
/// to. Worker-thread only.</summary>
internal sealed class Publication : IRetransmissionSource
{
    private readonly List<Subscription> _subscribers = [];
    private readonly List<PublishedStream> _streams = [];
    private readonly byte[] _aptByRtxPayloadType = new byte[128];
    private readonly bool[] _vp8PayloadTypes = new bool[128];
    private readonly bool[] _h264PayloadTypes = new bool[128];

    public Publication(RoomParticipant publisher, string mid, string kind, int sequence)
    {
        Publisher = publisher;
        Mid = mid;
        Kind = kind;
        Info = new TrackInfo($"{publisher.Id}-{kind}-{mid}-{sequence}", publisher.Id, kind);
    }

    public RoomParticipant Publisher { get; }

    public string Mid { get; }

    public string Kind { get; }

    public TrackInfo Info { get; }

    public bool IsVideo => Kind == "video";

    public NegotiatedMedia Media { get; private set; } = null!;

    /// <summary>The streams, by spatial layer (a plain track has one). A concrete list: the timer paths walk it without
    /// boxing an enumerator.</summary>
    public List<PublishedStream> Streams => _streams;

    /// <summary>True when the publisher sends several simulcast encodings of this track.</summary>
    public bool IsSimulcast => _streams.Count > 1;

    /// <summary>The first stream's SSRC once known (from SDP or the first packet).</summary>
    public uint? PrimarySsrc => _streams.Count > 0 ? _streams[0].Ssrc : null;

    public bool Muted { get; set; }

    /// <summary>The bytes this publication holds in the server's <see cref="RetransmissionMemory"/> for its streams'
    /// buffers (reserved before they are made, released when it is unpublished).</summary>
    public long RetransmissionBytes { get; set; }

    /// <summary>True once a packet showed a temporal layer above the base (VP8 TID > 0): the track has frame-rate steps.</summary>
    public bool HasTemporalLayers { get; private set; }

    /// <summary>Whether subscribers choose layers of this track: simulcast or temporal layers. A single-layer track is
    /// forwarded whole (there is nothing lower to switch to; its publisher adapts to its own estimate).</summary>
    public bool IsLayered => IsSimulcast || HasTemporalLayers;

    /// <summary>What the publisher sends on this track (bit/s), for the subscribers' wanted rates.</summary>
    public BitrateMeter IncomingBitrate { get; } = new();

    /// <summary>What each spatial and temporal layer carries, for the subscribers' layer choice.</summary>
    public LayerBitrateMeter LayerRates { get; } = new();

    /// <summary>Simulcast encodings the server asked the publisher to pause (bit per spatial layer).</summary>
    public int PausedMask { get; private set; }

    private readonly Sfu.LayerRates[] _known = new Sfu.LayerRates[1];
    private readonly TimeSpan[] _unneededSince = new TimeSpan[Sfu.LayerRates.MaxSpatialLayers];
    private readonly TimeSpan[] _activeSince = new TimeSpan[Sfu.LayerRates.MaxSpatialLayers];
    private readonly TimeSpan?[] _resumedAt = new TimeSpan?[Sfu.LayerRates.MaxSpatialLayers];

    /// <summary>How long a layer the SFU asked the publisher to resume stays selectable at its remembered rate before
    /// it flows again (the request crosses the hub, the page re-enables the encoding, the encoder starts with a key
    /// frame). Without it the subscriber that wanted the layer would find it gone at once, step back down, and the
    /// layer would be paused again: an oscillation that kept a 4G therapist on the low layer.</summary>
    public static readonly TimeSpan ResumeGrace = TimeSpan.FromSeconds(5);
    private int _knownMask;

    /// <summary>A layer is paused at the publisher only after nobody needed it for this long; it is resumed at once.
    /// Long, because resuming costs the publisher: the encoding restarts with a key frame burst while its send estimate
    /// was application-limited, and a delay spike then halves that estimate (measured on 4G: 1.65 to 0.54 Mbit/s, and
    /// 10 s of additive increase to come back). Short dips of a receiver's budget should not pay that.</summary>
    public static readonly TimeSpan PauseAfter = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan KnownAfter = TimeSpan.FromSeconds(1.5);

    /// <summary>
    /// A layer that no subscriber has needed since the track began is paused sooner: pausing one makes the publisher's
    /// encoder start again with a key frame (Chromium reconfigures its simulcast encoder), cheap in the first seconds
    /// while it still runs at its start rate, and on 4G a cause of the same back-off as a key frame request once it runs
    /// at full rate (seen 10 s into a call: the patient's estimate from 2.25 to 1.6 Mbit/s).
    /// </summary>
    public static readonly TimeSpan FirstPauseAfter = TimeSpan.FromSeconds(2);

    private int _everNeeded;

    /// <summary>How long encoding <paramref name="spatial"/> must go unneeded before it is paused at the publisher, given
    /// the encodings some subscriber has needed since the track began.</summary>
    internal static TimeSpan PauseDelay(int everNeeded, int spatial) => (everNeeded & (1 << spatial)) == 0 ? FirstPauseAfter : PauseAfter;

    /// <summary>
    /// The layer rates a subscriber's choice works from: per layer the higher of what is measured now and what it
    /// carried at its peak (decaying over <see cref="PeakMemory"/>), so that a layer which has just been resumed and is
    /// ramping up, or which the server paused, still costs what it will cost; a paused layer stays selectable (and is
    /// resumed when chosen). A peak is taken only from a layer that has flowed for a whole meter window (not from a
    /// keyframe burst).
    /// </summary>
    public void GetSelectionRates(TimeSpan now, ref Sfu.LayerRates rates)
    {
        LayerRates.GetRates(now, ref rates);
        ref var peak = ref _known[0];
        var elapsed = _lastSelection == TimeSpan.Zero ? TimeSpan.Zero : now - _lastSelection;
        if (elapsed < TimeSpan.Zero) elapsed = TimeSpan.Zero;
        _lastSelection = now;
        var decay = Math.Min(1.0, elapsed / PeakMemory);
        for (var s = 0; s < Sfu.LayerRates.MaxSpatialLayers; s++)
        {
            var active = rates.IsActive(s);
            if (active && _activeSince[s] == TimeSpan.Zero) _activeSince[s] = now;
            if (!active) _activeSince[s] = TimeSpan.Zero;
            var steady = active && now - _activeSince[s] >= KnownAfter;
            var resuming = !active && (PausedMask & (1 << s)) == 0 && _resumedAt[s] is { } resumed && now - resumed < ResumeGrace;
            if (steady)
            {
                for (var t = 0; t < Sfu.LayerRates.MaxTemporalLayers; t++)
                {
                    var measured = rates[s, t];
                    var known = peak[s, t];
                    peak[s, t] = measured >= known ? measured : known - (long)((known - measured) * decay);
                }
                peak.SetActive(s, true);
                _knownMask |= 1 << s;
            }
            if ((_knownMask & (1 << s)) == 0) continue;
            if (active || resuming || (PausedMask & (1 << s)) != 0)
            {
                // A layer just (re)started measures its key frame burst, not its rate: until it is steady, its
                // remembered rate stands.
                for (var t = 0; t < Sfu.LayerRates.MaxTemporalLayers; t++) rates[s, t] = steady ? Math.Max(rates[s, t], peak[s, t]) : peak[s, t];
                rates.SetActive(s, true);
            }
        }
    }

    /// <summary>
    /// True while a simulcast track is starting: some encoding has flowed for less than <see cref="StartWait"/> and
    /// another one the publisher announced (and the server has not paused) has not flowed yet. A subscriber's first
    /// choice waits for it. Chosen at once, it would be a lower encoding than the receiver can take (the higher one
    /// starts a moment later), and the step up a second later asks the publisher for a key frame while its encoder runs
    /// at full rate: on 4G that key frame queues in the uplink and the publisher's browser cuts its estimate to 0.85 of
    /// what it had, climbing back at some 30 kbit/s a second (the SFU gave 62-86 % of a direct call's video). Chosen
    /// now, the switch asks for a key frame in the first second, while the encoder still runs at its start rate.
    /// Call after <see cref="GetSelectionRates"/> (which tracks when each layer began to flow).
    /// </summary>
    public bool IsStarting(TimeSpan now) =>
        IsSimulcast && IsStarting(_activeSince.AsSpan(0, Math.Min(_streams.Count, _activeSince.Length)), PausedMask, _knownMask, now);

    /// <summary>The rule of <see cref="IsStarting(TimeSpan)"/>: <paramref name="activeSince"/> per announced encoding
    /// (<see cref="TimeSpan.Zero"/>: not flowing), the encodings the server paused, and those whose rate is known (they
    /// flowed before: one that stopped since is not about to start).</summary>
    internal static bool IsStarting(ReadOnlySpan<TimeSpan> activeSince, int pausedMask, int knownMask, TimeSpan now)
    {
        var firstActive = TimeSpan.MaxValue;
        var awaited = false;
        for (var s = 0; s < activeSince.Length; s++)
        {
            if (activeSince[s] != TimeSpan.Zero)
            {
                if (activeSince[s] < firstActive) firstActive = activeSince[s];
            }
            else if (((pausedMask | knownMask) & (1 << s)) == 0)
            {
                awaited = true;
            }
        }
        return awaited && firstActive != TimeSpan.MaxValue && now - firstActive < StartWait;
    }

    /// <summary>True once encoding <paramref name="spatial"/> has flowed long enough for its rate to be known (its first
    /// second measures its key frame, several times its rate).</summary>
    public bool IsKnown(int spatial) => (uint)spatial < Sfu.LayerRates.MaxSpatialLayers && (_knownMask & (1 << spatial)) != 0;

    /// <summary>How long a subscriber's first choice waits for the announced encodings to start (see <see cref="IsStarting"/>).</summary>
    public static readonly TimeSpan StartWait = TimeSpan.FromSeconds(1);

    /// <summary>How long a layer's peak rate is remembered (it decays towards what is measured over this time).</summary>
    public static readonly TimeSpan PeakMemory = TimeSpan.FromSeconds(30);

    private TimeSpan _lastSelection;

    /// <summary>
    /// Decides which encodings of a simulcast track the publisher should send: those some subscriber forwards or is
    /// switching to (the lowest alone while nobody subscribes). Returns true when the
    /// set changed (then tell the publisher <see cref="ActiveRids"/>).
    /// </summary>
    public bool UpdatePausedLayers(TimeSpan now)
    {
        if (!IsSimulcast) return false;
        // With nobody watching, the lowest layer keeps flowing so that a new receiver starts at once.
        var needed = _subscribers.Count == 0 ? 1 : 0;
        foreach (var subscription in _subscribers)
        {
            if (subscription.Layers is not { } layers) continue;
            if (!layers.Target.IsNone) needed |= 1 << layers.Target.Spatial;
            if (!layers.Current.IsNone) needed |= 1 << layers.Current.Spatial;
        }
        _everNeeded |= needed;
        // Nobody forwards anything (every receiver paused, or nothing measured yet): the lowest keeps flowing, so that
        // rates stay known and video can come back.
        if (needed == 0) needed = 1;
        var paused = PausedMask;
        for (var s = 0; s < _streams.Count; s++)
        {
            var bit = 1 << s;
            if ((needed & bit) != 0)
            {
                if ((paused & bit) != 0) _resumedAt[s] = now;
                paused &= ~bit;
                _unneededSince[s] = TimeSpan.MaxValue;
                continue;
            }
            if (_unneededSince[s] == TimeSpan.MaxValue || _unneededSince[s] == TimeSpan.Zero) _unneededSince[s] = now;
            // Paused only once its rate is known, so a subscriber can still choose it (and have it resumed).
            if (now - _unneededSince[s] >= PauseDelay(_everNeeded, s) && (_knownMask & bit) != 0) paused |= bit;
        }
        if (paused == PausedMask) return false;
        PausedMask = paused;
        return true;
    }

    /// <summary>The rids the publisher should keep sending.</summary>
    public IReadOnlyList<string> ActiveRids =>
        _streams.Where(s => s.Rid is not null && (PausedMask & (1 << s.Index)) == 0).Select(s => s.Rid!).ToList();

    /// <summary>The subscriptions (a concrete list: the forwarding loop indexes it without an enumerator).</summary>
    public List<Subscription> Subscribers => _subscribers;

    /// <summary>Packets are kept for retransmission at least this long, and for twice the slowest subscriber's round
    /// trip up to <see cref="MaxRetention"/>: on a 2G leg a NACK arrives more than a second after the packet left.</summary>
    public static readonly TimeSpan MinRetention = TimeSpan.FromSeconds(1);

    /// <remarks>5 s: on EDGE the packet and then the NACK each wait in a deep queue, and NACKs came 2.7-3 s after their
    /// packet (with 3 s, four of five NACKed packets were gone in one run). The ring's size, not this, bounds memory.</remarks>
    public static readonly TimeSpan MaxRetention = TimeSpan.FromSeconds(5);

    /// <summary>How long to keep (or keep asking for) packets on a leg with round trip <paramref name="rtt"/>.</summary>
    public static TimeSpan RetentionFor(TimeSpan rtt)
    {
        var twice = rtt * 2;
        return twice < MinRetention ? MinRetention : twice > MaxRetention ? MaxRetention : twice;
    }

    /// <summary>The highest fraction lost (of 256) that a subscriber of this publication reported recently.</summary>
    public byte WorstDownstreamLoss(TimeSpan now)
    {
        byte worst = 0;
        foreach (var subscription in _subscribers)
        {
            var lost = subscription.DownstreamFractionLost(now);
            if (lost > worst) worst = lost;
        }
        return worst;
    }

    /// <summary>Sizes the retransmission buffers' age limit from the subscribers' round trips (cold path: once per report).</summary>
    public void UpdateRetention()
    {
        var slowest = TimeSpan.Zero;
        foreach (var subscription in _subscribers)
        {
            // The latest measurement too: on a link whose queue fills, the smoothed round trip lags by several reports,
            // and NACKs arrive after the real one (seen on EDGE: buffers kept 1 s while NACKs came after 2 s).
            var roundTrip = subscription.Subscriber.RoundTrip;
            var rtt = roundTrip.Latest is { } latest && latest > roundTrip.Smoothed ? latest : roundTrip.Smoothed;
            if (rtt > slowest) slowest = rtt;
        }
        foreach (var stream in _streams) stream.Buffer.MaxAge = RetentionFor(slowest);
    }

    /// <summary>Takes the negotiated description of the publisher's m-section (first or renegotiated).</summary>
    public void Update(NegotiatedMedia media)
    {
        Media = media;
        Array.Clear(_aptByRtxPayloadType);
        Array.Clear(_vp8PayloadTypes);
        Array.Clear(_h264PayloadTypes);
        foreach (var (rtx, apt) in media.RtxPayloadTypes)
        {
            if (rtx is > 0 and < 128 && apt is > 0 and < 128) _aptByRtxPayloadType[rtx] = (byte)apt;
        }
        foreach (var codec in media.Codecs)
        {
            if (codec.PayloadType is < 0 or > 127) continue;
            if (codec.Name.Equals("VP8", StringComparison.OrdinalIgnoreCase)) _vp8PayloadTypes[codec.PayloadType] = true;
            else if (codec.Name.Equals("H264", StringComparison.OrdinalIgnoreCase)) _h264PayloadTypes[codec.PayloadType] = true;
        }

        if (IsVideo && media.ReceiveRids.Count > 1)
        {
            // Simulcast (RFC 8853): one stream per negotiated rid, in the offer's order (our client lists low to high).
            // SSRCs are learnt from the RID and repaired-RID header extensions of the first packets.
            foreach (var rid in media.ReceiveRids)
            {
                var index = media.GetSimulcastStreamIndex(rid);
                if (index < 0 || FindStreamByRid(rid) is not null) continue;
                while (_streams.Count <= index) _streams.Add(new PublishedStream(this, _streams.Count, null));
                if (_streams[index].Rid is null && _streams[index].Ssrc is null) _streams[index] = new PublishedStream(this, index, rid);
            }
            return;
        }
        if (_streams.Count == 0) _streams.Add(new PublishedStream(this, 0, null));
        var stream = _streams[0];
        foreach (var group in media.RemoteSsrcGroups)
        {
            if (group.Semantics == "FID" && group.Ssrcs.Count == 2)
            {
                stream.Ssrc ??= group.Ssrcs[0];
                stream.RtxSsrc ??= group.Ssrcs[1];
            }
        }
        if (stream.Ssrc is null && media.RemoteSsrcIds.Count > 0) stream.Ssrc = media.RemoteSsrcIds[0];
    }

    public PublishedStream? FindStreamByRid(ReadOnlySpan<byte> rid)
    {
        foreach (var stream in _streams)
        {
            if (stream.Rid is not null && RtpStringExtension.Equals(rid, stream.Rid)) return stream;
        }
        return null;
    }

    private PublishedStream? FindStreamByRid(string rid)
    {
        foreach (var stream in _streams)
        {
            if (stream.Rid == rid) return stream;
        }
        return null;
    }

    public PublishedStream? FindStream(uint ssrc)
    {
        foreach (var stream in _streams)
        {
            if (stream.Ssrc == ssrc) return stream;
        }
        return null;
    }

    /// <summary>The stream of spatial layer <paramref name="index"/>, or the nearest lower one.</summary>
    public PublishedStream? StreamAt(int index)
    {
        for (var i = Math.Min(index, _streams.Count - 1); i >= 0; i--)
        {
            if (_streams[i].Ssrc is not null) return _streams[i];
        }
        return _streams.Count > 0 ? _streams[0] : null;
    }

    /// <summary>The clock rate of the publication's first codec (audio 48 kHz Opus, video 90 kHz).</summary>
    public uint ClockRate => Media.Codecs.Count > 0 ? (uint)Media.Codecs[0].ClockRate : (IsVideo ? 90000u : 48000u);

    /// <summary>RFC 4588 §4: turns the publisher's RTX packet (a retransmission the SFU asked for) back into the
    /// original packet of <paramref name="stream"/> in place. False when it is not a usable RTX packet (e.g. a
    /// padding-only probe).</summary>
    public bool TryUnwrapRtx(PublishedStream stream, Span<byte> packet, ref int length)
    {
        if (length < 2 || stream.Ssrc is not { } primary) return false;
        var rtxPayloadType = packet[1] & 0x7F;
        var apt = _aptByRtxPayloadType[rtxPayloadType];
        if (apt == 0) return false;
        var unwrapped = RtxPacket.TryUnwrap(packet[..length], primary, apt);
        if (unwrapped == 0) return false;
        length = unwrapped;
        return true;
    }

    /// <summary>What a video packet says about its layer and frame: the VP8 payload descriptor (RFC 7741 §4.2) or an
    /// H.264 keyframe (RFC 6184). Packets of other codecs are one layer, each a frame start.</summary>
    public void ReadLayerInfo(in RtpPacketReader rtp, out int temporal, out bool keyframe, out bool frameStart, out bool layerSync)
    {
        temporal = 0;
        keyframe = false;
        frameStart = true;
        layerSync = false;
        var payloadType = rtp.PayloadType;
        if (_vp8PayloadTypes[payloadType])
        {
            if (!Vp8PayloadDescriptor.TryParse(rtp.Payload, out var vp8)) return;
            temporal = vp8.HasTemporalId ? vp8.TemporalId : 0;
            if (temporal > 0) HasTemporalLayers = true;
            keyframe = vp8.IsKeyframe;
            frameStart = vp8.IsFrameStart;
            layerSync = vp8.IsLayerSync;
        }
        else if (_h264PayloadTypes[payloadType])
        {
            keyframe = H264Keyframe.IsKeyframe(rtp.Payload);
        }
    }

    public bool IsVp8(byte payloadType) => _vp8PayloadTypes[payloadType & 0x7F];

    /// <inheritdoc/>
    public bool TryGet(uint ssrc, ushort sequenceNumber, TimeSpan now, out ReadOnlySpan<byte> packet)
    {
        foreach (var stream in _streams)
        {
            if (stream.Ssrc == ssrc) return stream.Buffer.TryGet(ssrc, sequenceNumber, now, out packet);
        }
        packet = default;
        return false;
    }

    public void AddSubscriber(Subscription subscription)
    {
        _subscribers.Add(subscription);
    }

    public void RemoveSubscriber(Subscription subscription) => _subscribers.Remove(subscription);
}
