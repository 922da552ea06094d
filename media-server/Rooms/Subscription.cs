using TeleRehab.Media.Codecs;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Rooms;

/// <summary>One publication forwarded to one subscriber on the subscriber's m-section <see cref="Mid"/>: the
/// subscriber's own SSRC with continuous sequence numbers and timestamps (<see cref="RtpStreamRewriter"/>), its
/// payload types and extension ids, and the answers to its NACKs. Worker-thread only; forwarding allocates nothing.</summary>
internal sealed class Subscription : IPaddingSource
{
    /// <summary>Extensions whose values belong to one leg and must not cross the SFU: the publisher's MID and RIDs
    /// would make the subscriber's browser route the packet to the wrong transceiver (RFC 8843 §15), and the
    /// transport-wide sequence numbers are per transport (the SFU will number each leg itself).</summary>
    private static readonly HashSet<string> LegLocalExtensions =
    [
        SdpHeaderExtensionCapability.Mid,
        SdpHeaderExtensionCapability.RtpStreamId,
        SdpHeaderExtensionCapability.RepairedRtpStreamId,
    ];
    // The transport-wide number is mapped to the subscriber's id, and the leg's egress always overwrites its value
    // with the leg's own numbering (or the element is removed when the subscriber did not negotiate it).

    private readonly PayloadTypeMap _payloadTypes;
    private readonly ExtensionIdMap _extensionIds;
    private readonly NackResponder _nacks;
    private readonly byte _paddingPayloadType;
    private int _probeCursor;
    private TimeSpan _starvedSince = TimeSpan.MinValue;

    /// <summary>A starting publication's top encoding is taken at its first key frame only by a leg whose budget (after
    /// audio) is at least this (or not yet estimated); the next allocation judges it against its measured rate.</summary>
    public const long StartOnTopBps = 500_000;

    /// <summary>How long the budget must stay below the lowest layer before this subscriber's video is paused.</summary>
    public static readonly TimeSpan PauseAfterStarving = TimeSpan.FromSeconds(3);
    private readonly Vp8Rewriter? _vp8;
    private readonly Vp8ForwardedHistory? _vp8Forwarded;
    private LayerRates _rates;

    public Subscription(Publication publication, RoomParticipant subscriber, NegotiatedMedia subscriberMedia)
    {
        Publication = publication;
        Subscriber = subscriber;
        Mid = subscriberMedia.Mid;
        var local = subscriberMedia.LocalStream ?? throw new ArgumentException("a subscription needs the server's stream on its m-section");
        OutgoingSsrc = local.Ssrc;
        RtxSsrc = local.RtxSsrc;
        Statistics = new SendStatistics(OutgoingSsrc, publication.ClockRate);
        Rewriter = new RtpStreamRewriter(OutgoingSsrc, publication.ClockRate,
            initialSequenceNumber: (ushort)Random.Shared.Next(0, 0x8000), initialTimestamp: (uint)Random.Shared.NextInt64(0, uint.MaxValue));
        var publisherCodecs = Codecs(publication.Media);
        var subscriberCodecs = Codecs(subscriberMedia);
        _payloadTypes = PayloadTypeMap.Build(publisherCodecs, subscriberCodecs);
        _extensionIds = ExtensionIdMap.Build(Extensions(publication.Media, keepAll: true), Extensions(subscriberMedia, keepAll: false));
        _nacks = new NackResponder(Rewriter, _payloadTypes, _extensionIds);
        if (!publication.IsVideo && _payloadTypes.PublisherRedPayloadType != 0xFF) Red = new RedForwarder(_payloadTypes);
        if (publication.IsVideo)
        {
            Layers = new LayerSelector();
            _vp8 = new Vp8Rewriter(Random.Shared.Next(0, 0x8000), (byte)Random.Shared.Next(0, 256));
            _vp8Forwarded = new Vp8ForwardedHistory();
        }
        if (local.RtxSsrc is { } rtxSsrc && subscriberMedia.RtxPayloadTypes.Count > 0)
        {
            var pairs = PayloadTypeMap.GetRtxPairs(subscriberCodecs).ToList();
            _nacks.EnableRtx(rtxSsrc, pairs, (ushort)Random.Shared.Next(0, 0x8000));
            if (pairs.Count > 0) _paddingPayloadType = pairs[0].RtxPayloadType;
        }
    }

    public Publication Publication { get; }

    public RoomParticipant Subscriber { get; }

    public string Mid { get; }

    public uint OutgoingSsrc { get; }

    /// <summary>The subscriber's RTX SSRC for this stream (RFC 4588), when the subscriber negotiated RTX.</summary>
    public uint? RtxSsrc { get; }

    public RtpStreamRewriter Rewriter { get; }

    /// <summary>What this leg sent, for the SFU's own sender reports to the subscriber (RFC 3550 §6.4.1).</summary>
    public SendStatistics Statistics { get; private set; } = null!;

    /// <summary>The spatial and temporal layer this subscriber gets (video), chosen from its leg's budget.</summary>
    public LayerSelector? Layers { get; }

    /// <summary>Higher first when the leg's budget is shared out (set by the control plane: a patient sees the
    /// therapist first).</summary>
    public int Priority { get; set; }

    /// <summary>Copies a publisher's packet into the subscriber's buffer, rewrites it for this leg and sends it; video
    /// packets of layers this subscriber does not get are dropped (their sequence numbers closed up).</summary>
    public void Forward(ReadOnlySpan<byte> packet, in LayerInfo layer, TimeSpan now)
    {
        var buffer = Subscriber.ForwardBuffer;
        if (packet.Length > buffer.Length - 64) return;
        if (Red is not null)
        {
            ForwardRed(packet, buffer, now);
            return;
        }
        var ssrc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        var vp8 = _vp8 is not null && Publication.IsVp8(packet[1]);
        if (Layers is not null && Publication.IsLayered)
        {
            var action = Layers.OnPacket(layer.Spatial, layer.Temporal, layer.Keyframe, layer.FrameStart, layer.LayerSync);
            if (action == LayerPacketAction.Drop)
            {
                Rewriter.Drop(packet);
                if (vp8 && RtpPacketReader.TryParse(packet, out var dropped)) _vp8!.OnDropped(dropped.Payload, ssrc);
                return;
            }
            if (action == LayerPacketAction.ForwardSwitched)
            {
                LayerSwitches++;
                // The switch is explicit: the rewriter's own auto-switch refuses a source it forwarded before (late
                // packets of an old layer), and going back down to a layer forwarded earlier is exactly that source.
                Rewriter.SwitchSource(ssrc);
                if (vp8) _vp8!.SwitchSource(ssrc);
            }
        }
        var work = buffer.AsSpan(0, packet.Length);
        packet.CopyTo(work);
        if (!_payloadTypes.TryRewrite(work) || !_extensionIds.TryRewrite(work) || !Rewriter.TryRewrite(work, now, out _))
        {
            Unforwardable++;
            return;
        }
        if (vp8 && RtpPacketReader.TryParse(work, out var rewritten))
        {
            var payload = work.Slice(rewritten.PayloadOffset, rewritten.PayloadLength);
            if (!_vp8!.TryRewrite(payload, ssrc))
            {
                Unforwardable++;
                return;
            }
            _vp8Forwarded!.Record(rewritten.SequenceNumber, payload);
        }
        Statistics.OnPacketSent(work, now);
        Subscriber.SendMedia(buffer, packet.Length, Publication.IsVideo ? EgressKind.Video : EgressKind.Audio, now);
    }

    /// <summary>
    /// A voice whose publisher negotiated RED (RFC 2198): each packet as <see cref="RedForwarder"/> shapes it for this
    /// receiver (RED as it came, or the packets the uplink lost rebuilt from the redundancy and then the primary Opus
    /// block), rewritten for this leg and sent.
    /// </summary>
    private void ForwardRed(ReadOnlySpan<byte> packet, byte[] buffer, TimeSpan now)
    {
        var cursor = default(RedCursor);
        int length;
        while ((length = Red!.Next(packet, ref cursor, buffer.AsSpan(0, buffer.Length - 64))) > 0)
        {
            var work = buffer.AsSpan(0, length);
            if (!_payloadTypes.TryRewrite(work) || !_extensionIds.TryRewrite(work) || !Rewriter.TryRewrite(work, now, out _))
            {
                Unforwardable++;
                continue;
            }
            if (cursor.Last == RedOutput.Recovered) RecoveredFromRedundancy++;
            Statistics.OnPacketSent(work, now);
            Subscriber.SendMedia(buffer, length, EgressKind.Audio, now);
        }
        if (cursor.Dropped) Unforwardable++;
    }

    /// <summary>This leg's handling of the voice's RED, when the publisher negotiated RED.</summary>
    public RedForwarder? Red { get; }

    /// <summary>Voice packets lost on the publisher's uplink that this leg got rebuilt from the redundancy.</summary>
    public long RecoveredFromRedundancy { get; private set; }

    /// <summary>Answers the subscriber's NACK for <paramref name="outgoingSeq"/> from the publication's buffer
    /// (RTX when the subscriber negotiated it). False when the packet is gone or was resent moments ago; a packet the
    /// SFU itself never received is asked for upstream, and reaches the subscriber when the publisher resends it.</summary>
    public RetransmitResult Retransmit(ushort outgoingSeq, TimeSpan now, out bool firstRequest)
    {
        firstRequest = _nacks.NoteRequest(outgoingSeq);
        var buffer = Subscriber.ForwardBuffer;
        var length = _nacks.TryBuildRetransmission(outgoingSeq, Publication, now, buffer.AsSpan(0, buffer.Length - 64));
        if (length <= 0)
        {
            if (!Rewriter.TryMapToSource(outgoingSeq, out var sourceSsrc, out var sourceSeq) || Publication.FindStream(sourceSsrc) is not { } stream)
                return RetransmitResult.Gone;
            if (stream.Buffer.TryGet(sourceSsrc, sourceSeq, now, out _)) return RetransmitResult.ResentRecently;
            if (!stream.Buffer.IsMissing(sourceSsrc, sourceSeq)) return RetransmitResult.TooOld;
            Publication.Publisher.RequestRetransmission(stream, sourceSeq, now);
            return RetransmitResult.AskedUpstream;
        }
        if (!RewriteResentVp8(buffer.AsSpan(0, length), outgoingSeq, now)) return RetransmitResult.Gone;
        Subscriber.SendMedia(buffer, length, EgressKind.Retransmission, now);
        return RetransmitResult.Sent;
    }

    internal SubscriptionStats GetStats(int budgetRank = -1) => new(Publication.Info.TrackId, Publication.Publisher.Id, Publication.Kind,
        Layers is null || !Publication.IsLayered ? "all" : Layers.Current.IsNone ? "paused" : Layers.Current.ToString(),
        Layers is null || !Publication.IsLayered ? "all" : Layers.Target.IsNone ? "paused" : Layers.Target.ToString(),
        LayerSwitches, _nacks.RetransmittedCount, DescribeRates(), budgetRank);

    private string DescribeRates()
    {
        if (Layers is null)
        {
            return Red is null ? "" : $"red {(Red.ForwardsRed ? "forwarded" : "stripped")} (switches {Red.Gate.Switches}); " +
                $"recovered {RecoveredFromRedundancy}; unforwardable {Unforwardable}";
        }
        var parts = new List<string>();
        for (var s = 0; s < Sfu.LayerRates.MaxSpatialLayers; s++)
        {
            if (_rates.IsActive(s)) parts.Add($"S{s} {_rates[s, 0] / 1000}/{_rates[s, 1] / 1000}/{_rates[s, 2] / 1000}");
        }
        return $"{string.Join(", ", parts)} kbit/s; paused at publisher {Publication.PausedMask}; unforwardable {Unforwardable}";
    }

    /// <summary>Packets that could not be rewritten for this leg (malformed, or not continuing the forwarded stream).</summary>
    public long Unforwardable { get; private set; }

    /// <summary>Spatial-layer switches this subscriber saw (metrics).</summary>
    public long LayerSwitches { get; private set; }

    /// <summary>The subscriber asked for a keyframe (PLI/FIR): of the layer it gets, or every layer before it gets one.</summary>
    public void RequestKeyframe(TimeSpan now)
    {
        var current = Layers?.Current ?? VideoLayer.None;
        if (!current.IsNone && Publication.StreamAt(current.Spatial) is { } stream) Publication.Publisher.RequestKeyframe(stream, now);
        else Publication.Publisher.RequestKeyframes(Publication, now);
    }

    /// <summary>
    /// Chooses this video's layer from what is left of the leg's <paramref name="budget"/> (and takes its rate from it).
    /// Returns what the subscriber would like: the publication's top layer. A track with a single layer (no simulcast,
    /// no temporal layers) is never paused here: there is nothing lower to switch to, and its publisher adapts itself.
    /// </summary>
    public long Allocate(ref long budget, TimeSpan now)
    {
        if (Layers is null) return 0;
        Publication.GetSelectionRates(now, ref _rates);
        if (_rates.ActiveMask == 0) return 0;
        // The first choice waits (a moment, nothing forwarded) for the encodings that are about to start, and takes the top
        // one at its first key frame when the leg can plausibly carry it.
        if (!Layers.HasChosen && Publication.IsStarting(now))
        {
            Layers.AwaitStart(Publication.Streams.Count - 1, Math.Max(0, budget), StartOnTopBps, now);
            return 0;
        }
        // A layer taken at its first key frame is judged once its rate is known: until then its measured rate is mostly
        // that key frame, and judged by it the receiver would step down (asking for the key frame the start avoided).
        // Unless the budget falls below what the start needed.
        if (Layers.StartedAtKeyframe && !Layers.Current.IsNone && !Publication.IsKnown(Layers.Current.Spatial) && budget >= StartOnTopBps)
        {
            budget -= StartOnTopBps;
            return TopRate();
        }
        if (!Publication.IsLayered)
        {
            budget -= _rates[0, 2];
            return _rates[0, 2];
        }
        // Pausing a video is a big step: only when the budget has stayed below the lowest rung for a while, not on one
        // dip of the estimate (stepping down to the lowest rung happens at once).
        var lowest = long.MaxValue;
        for (var s = 0; s < Sfu.LayerRates.MaxSpatialLayers; s++)
        {
            if (_rates.IsActive(s) && _rates[s, 0] > 0) lowest = Math.Min(lowest, _rates[s, 0]);
        }
        var offered = Math.Max(0, budget);
        if (lowest != long.MaxValue && offered < lowest)
        {
            if (_starvedSince == TimeSpan.MinValue) _starvedSince = now;
            if (now - _starvedSince < PauseAfterStarving) offered = lowest;
        }
        else
        {
            _starvedSince = TimeSpan.MinValue;
        }
        var decision = Layers.Update(offered, _rates, now);
        if (!decision.Target.IsNone) budget -= _rates[decision.Target.Spatial, decision.Target.Temporal];
        if (Layers.PollKeyframeRequest(now, out var spatial) && Publication.StreamAt(spatial) is { } stream)
            Publication.Publisher.RequestKeyframe(stream, now);
        return TopRate();
    }

    /// <summary>The publication's top layer rate (what this subscriber would like).</summary>
    private long TopRate()
    {
        long top = 0;
        for (var s = 0; s < Sfu.LayerRates.MaxSpatialLayers; s++)
        {
            if (_rates.IsActive(s)) top = Math.Max(top, _rates[s, 2]);
        }
        return top;
    }

    /// <summary>
    /// A resent packet (a retransmission, or an RTX copy used as probe) must carry the PictureID and TL0PICIDX this
    /// subscriber saw on the original (RFC 7741 §4.2), or its receiver would assemble frames from mismatched pictures.
    /// False when the packet was forwarded too long ago to be remembered (<see cref="Vp8ForwardedHistory.Capacity"/>
    /// packets): then it is not sent.
    /// </summary>
    private bool RewriteResentVp8(Span<byte> packet, ushort outgoingSeq, TimeSpan now)
    {
        if (_vp8Forwarded is null || !Rewriter.TryMapToSource(outgoingSeq, out var sourceSsrc, out var sourceSeq)) return true;
        if (!Publication.TryGet(sourceSsrc, sourceSeq, now, out var original) || !RtpPacketReader.TryParse(original, out var source)
            || !Publication.IsVp8(source.PayloadType)) return true;
        if (!RtpPacketReader.TryParse(packet, out var resent)) return false;
        var rtx = resent.Ssrc == RtxSsrc;
        var offset = resent.PayloadOffset + (rtx ? 2 : 0); // RFC 4588 §4: the OSN comes first in an RTX payload
        var length = resent.PayloadLength - (rtx ? 2 : 0);
        // The descriptor as it was forwarded, not as the rewriter would map it now (it may have switched layers since).
        return length > 0 && _vp8Forwarded.TryApply(outgoingSeq, packet.Slice(offset, length));
    }

    /// <summary>True when this subscription can carry probe padding: video with an RTX stream (RFC 4588).</summary>
    public bool CanPad => Publication.IsVideo && RtxSsrc is not null && _paddingPayloadType != 0;

    /// <summary>A padding-only packet on the RTX stream (RFC 3550 §5.1 padding; RFC 4588 §4 sequence space shared
    /// with retransmissions), for the leg's bandwidth probes. The receiver counts it for its feedback and drops it.</summary>
    public int WritePadding(Span<byte> destination, int paddingBytes, TimeSpan now)
    {
        if (!CanPad || paddingBytes is < 1 or > 255) return 0;
        // A recent packet again on RTX makes a full-size probe packet; padding alone when there is none yet.
        var recent = (ushort)(Rewriter.HighestOutgoingSequenceNumber - (_probeCursor++ & 7));
        var probe = Statistics.HasSent ? _nacks.TryBuildProbe(recent, Publication, now, destination[..^64]) : 0;
        if (probe > 0 && RewriteResentVp8(destination[..probe], recent, now)) return probe;
        var header = new RtpHeaderWriter(destination, _paddingPayloadType, _nacks.RtxSequenceNumber++, Statistics.LastTimestamp,
            RtxSsrc!.Value, marker: false, csrcs: default).Finish();
        if (destination.Length < header + paddingBytes + 64) return 0;
        return RtpHeaderWriter.AddPadding(destination, header, paddingBytes);
    }

    /// <summary>The subscriber's leg round trip changed: a resend waits about one round trip before another (the
    /// subscriber asks again only after its own round trip).</summary>
    public void OnRoundTrip(TimeSpan rtt)
    {
        var interval = rtt * 3 / 4;
        _nacks.MinResendInterval = interval < DefaultMinResendInterval ? DefaultMinResendInterval : interval;
    }

    private static readonly TimeSpan DefaultMinResendInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a subscriber's reported loss counts for the publisher's protection after its last report.</summary>
    public static readonly TimeSpan DownstreamLossMemory = TimeSpan.FromSeconds(10);

    private byte _downstreamFractionLost;
    private TimeSpan _downstreamLossAt = TimeSpan.MinValue;

    /// <summary>The subscriber's report about this stream (RFC 3550 §6.4.1): the fraction of the SFU's packets it lost.</summary>
    public void OnReportBlock(byte fractionLost, TimeSpan now)
    {
        _downstreamFractionLost = fractionLost;
        _downstreamLossAt = now;
        if (Red is null || !_payloadTypes.SubscriberHasRed) return;
        // RED down this leg follows the loss on the whole way (the publisher's uplink as the SFU measured it, and this
        // leg's) and the leg's estimate.
        var uplink = Publication.StreamAt(0) is { } stream ? stream.UplinkFractionLost(now) : (byte)0;
        var estimate = Subscriber.Egress.Estimator.FeedbacksReceived > 0 ? Subscriber.Egress.EstimateBps : 0;
        Red.Gate.Update(Math.Max(fractionLost, uplink), estimate, Publication.IncomingBitrate.Bps(now), now);
    }

    /// <summary>The fraction (of 256) of this stream the subscriber lost in its latest report, 0 when it has not reported
    /// for <see cref="DownstreamLossMemory"/>.</summary>
    public byte DownstreamFractionLost(TimeSpan now) =>
        _downstreamLossAt != TimeSpan.MinValue && now - _downstreamLossAt <= DownstreamLossMemory ? _downstreamFractionLost : (byte)0;

    private static List<CodecDescription> Codecs(NegotiatedMedia media)
    {
        var list = new List<CodecDescription>();
        foreach (var codec in media.Codecs)
        {
            list.Add(new CodecDescription((byte)codec.PayloadType, codec.Name, (uint)codec.ClockRate, Math.Max(1, codec.Channels), codec.Fmtp));
            if (codec.RtxPayloadType is { } rtx)
                list.Add(new CodecDescription((byte)rtx, "rtx", (uint)codec.ClockRate, 1, $"apt={codec.PayloadType}"));
        }
        return list;
    }

    private static List<HeaderExtensionDescription> Extensions(NegotiatedMedia media, bool keepAll)
    {
        var list = new List<HeaderExtensionDescription>();
        foreach (var (id, uri) in media.HeaderExtensions)
        {
            if (id is > 0 and < 256 && (keepAll || !LegLocalExtensions.Contains(uri))) list.Add(new HeaderExtensionDescription((byte)id, uri));
        }
        return list;
    }
}

/// <summary>What became of one NACKed packet.</summary>
internal enum RetransmitResult
{
    /// <summary>Resent from the buffer.</summary>
    Sent,
    /// <summary>Held, but resent less than about a round trip ago (the resend is still on its way).</summary>
    ResentRecently,
    /// <summary>The SFU never received it: asked for upstream.</summary>
    AskedUpstream,
    /// <summary>The SFU had it, but it is older than the buffer keeps.</summary>
    TooOld,
    /// <summary>Never forwarded to this subscriber.</summary>
    Gone,
}

/// <summary>What the ingress read of a video packet: its spatial layer (simulcast encoding), temporal id, and whether it
/// starts a keyframe, a frame, or a temporal layer sync point.</summary>
internal struct LayerInfo
{
    public int Spatial;
    public int Temporal;
    public bool Keyframe;
    public bool FrameStart;
    public bool LayerSync;
}
