namespace TeleRehab.Media.Sdp;

/// <summary>An answer SDP plus what was negotiated.</summary>
public sealed class SdpAnswer
{
    public SdpAnswer(SessionDescription description, NegotiatedSession session)
    {
        Description = description;
        Session = session;
    }

    public SessionDescription Description { get; }

    public NegotiatedSession Session { get; }

    /// <summary>The answer text (CRLF lines).</summary>
    public string Sdp => Description.ToString();
}

/// <summary>Thrown by the non-Try negotiation helpers.</summary>
public sealed class SdpNegotiationException(string reason) : InvalidOperationException(reason);

/// <summary>Answers a browser's offer as an ICE-lite, DTLS-passive server (JSEP RFC 8829 §5.3, RFC 3264 §6, BUNDLE RFC 8843,
/// simulcast RFC 8853 with rids RFC 8851).</summary>
public sealed class SdpAnswerer
{
    private readonly SdpLocalParameters _local;

    public SdpAnswerer(SdpLocalParameters local) => _local = local;

    public SdpAnswer CreateAnswer(string offer)
        => TryCreateAnswer(offer, out var answer, out var error) ? answer! : throw new SdpNegotiationException(error!);

    public bool TryCreateAnswer(string offerText, out SdpAnswer? answer, out string? error)
    {
        answer = null;
        if (!SessionDescription.TryParse(offerText, out var offer, out error)) { error = "offer does not parse: " + error; return false; }
        return TryCreateAnswer(offer!, out answer, out error);
    }

    public bool TryCreateAnswer(SessionDescription offer, out SdpAnswer? answer, out string? error)
    {
        answer = null;
        if (offer.Media.Count == 0) { error = "offer has no media sections"; return false; }
        if (!SdpFingerprint.TryParse(_local.Fingerprint, out _, out var fpError)) { error = "local fingerprint is invalid: " + fpError; return false; }

        var mids = new HashSet<string>();
        for (int i = 0; i < offer.Media.Count; i++)
        {
            var m = offer.Media[i];
            if (m.Mid is { } mid)
            {
                if (!mids.Add(mid)) { error = $"m-line {i} repeats mid '{mid}'"; return false; }
            }
            else if (!m.IsRejected) { error = $"m-line {i} ({m.Kind}) has no a=mid (JSEP §5.2.1 requires one)"; return false; }
        }

        var offeredBundle = offer.BundleMids;
        // One extension table for the whole answer: RFC 8843 §9.1 requires it inside a BUNDLE group, and the server
        // receives every section on the same ICE-lite port, so unbundled sections get the same rule.
        var extensionTable = new SdpSectionWriter.ExtensionTable();
        var ambiguousIds = AmbiguousExtensionIds(offer);
        var plans = new List<SectionPlan>();
        for (int i = 0; i < offer.Media.Count; i++)
        {
            // One SCTP association per transport (RFC 8841 §4.2): the first usable data channel section is accepted.
            bool dataTaken = plans.Exists(p => p.IsData && !p.Rejected);
            plans.Add(PlanSection(offer.Media[i], offer.GetDirection(offer.Media[i]), i, extensionTable, ambiguousIds, dataTaken));
        }

        // RFC 8843 §7.3.3: the answerer cannot reject the offerer-tagged m= section; of the allowed choices
        // we reject the whole offer, with a reason. (An offer that itself disabled its tag section is tolerated.)
        if (offeredBundle.Count > 0 && offer.FindMedia(offeredBundle[0]) is { IsRejected: false } tagged
            && plans[offer.Media.IndexOf(tagged)].Rejected)
        {
            error = $"cannot accept the offerer-tagged m= section (mid '{offeredBundle[0]}', {tagged.Kind} {tagged.Protocol}): nothing in it is supported, and RFC 8843 §7.3.3 forbids rejecting it alone";
            return false;
        }

        // Answer BUNDLE group: the accepted mids of the offered group, offerer's tag first (RFC 8843 §7.3.1).
        // Rejected sections leave the group (RFC 8843 §7.3.3).
        var accepted = plans.Where(p => !p.Rejected).Select(p => p.Mid).ToHashSet();
        var answerBundle = offeredBundle.Where(accepted.Contains).Distinct().ToList();

        var firstAccepted = plans.FirstOrDefault(p => !p.Rejected);
        var transportSource = answerBundle.Count > 0 ? offer.FindMedia(answerBundle[0])! : (firstAccepted is null ? offer.Media[0] : offer.Media[firstAccepted.Index]);
        string? ufrag = transportSource.IceUfrag ?? offer.IceUfrag;
        string? pwd = transportSource.IcePwd ?? offer.IcePwd;
        var fingerprint = transportSource.Fingerprint ?? offer.Fingerprint;
        if (ufrag is null || pwd is null) { error = "offer has no a=ice-ufrag/a=ice-pwd"; return false; }
        if (fingerprint is null) { error = "offer has no a=fingerprint (DTLS-SRTP is mandatory, RFC 8827)"; return false; }
        var remoteSetup = transportSource.Setup ?? offer.Setup ?? SdpSetupRole.ActPass;
        // RFC 5763 §5: the answerer to actpass picks; an ICE-lite server waits for the browser's ClientHello (passive).
        var localSetup = remoteSetup == SdpSetupRole.Passive ? SdpSetupRole.Active : SdpSetupRole.Passive;

        var answer0 = SdpSectionWriter.NewSession(_local);
        if (_local.IceLite) answer0.AddAttribute("ice-lite");
        if (answerBundle.Count > 0) answer0.AddAttribute("group", "BUNDLE " + string.Join(' ', answerBundle));
        if (offer.ExtmapAllowMixed) answer0.AddAttribute("extmap-allow-mixed");
        answer0.AddAttribute("msid-semantic", " WMS *");

        var (port, connection) = _local.DefaultAddress();
        string? tag = answerBundle.Count > 0 ? answerBundle[0] : null;
        var media = new List<NegotiatedMedia>();
        foreach (var plan in plans)
        {
            var om = offer.Media[plan.Index];
            if (plan.Rejected)
            {
                var rm = new SdpMediaDescription(om.Kind, 0, om.Protocol, om.Formats.Count > 0 ? om.Formats : ["0"]);
                rm.Connections.Add(SdpConnection.Ip4Any);
                if (om.Mid is { } rmid) rm.AddAttribute("mid", rmid);
                rm.SetDirection(SdpDirection.Inactive);
                answer0.Media.Add(rm);
                media.Add(new NegotiatedMedia { Mid = plan.Mid, MLineIndex = plan.Index, Kind = om.Kind, Protocol = om.Protocol, IsRejected = true });
                continue;
            }

            bool inBundle = answerBundle.Contains(plan.Mid);
            bool withCandidates = !inBundle || plan.Mid == tag; // JSEP §5.3.1: candidates only with the BUNDLE tag
            var am = new SdpMediaDescription(om.Kind, port, om.Protocol, plan.IsData ? om.Formats : SdpSectionWriter.FormatList(plan.Codecs));
            am.Connections.Add(connection);
            SdpSectionWriter.WriteTransport(am, _local, localSetup, withCandidates);
            am.AddAttribute("mid", plan.Mid);
            if (plan.IsData)
            {
                // RFC 8841 §5-§6: our port and the largest message we take; the peer's are recorded for the transport.
                SdpDataChannel.WriteAttributes(am, _local);
                answer0.Media.Add(am);
                media.Add(new NegotiatedMedia
                {
                    Mid = plan.Mid, MLineIndex = plan.Index, Kind = om.Kind, Protocol = om.Protocol, Direction = SdpDirection.SendRecv,
                    SctpPort = plan.RemoteSctpPort, MaxMessageSize = plan.RemoteMaxMessageSize,
                    LocalSctpPort = _local.SctpPort, LocalMaxMessageSize = _local.MaxMessageSize,
                });
                continue;
            }

            SdpSectionWriter.WriteExtmaps(am, plan.Extmaps);
            am.SetDirection(plan.Direction);
            if (om.RtcpMux) am.AddAttribute("rtcp-mux");
            if (om.RtcpReducedSize) am.AddAttribute("rtcp-rsize");
            SdpSectionWriter.WriteCodecs(am, plan.Codecs);
            if (_local.AudioPacketTime is { } ptime && om.Kind == "audio" && plan.Direction is SdpDirection.RecvOnly or SdpDirection.SendRecv)
                am.AddAttribute("ptime", SdpText.Inv(ptime));
            foreach (var rid in plan.Rids) am.AddAttribute("rid", rid.ToString());
            if (plan.Simulcast is not null) am.AddAttribute("simulcast", plan.Simulcast.ToString());
            if (plan.LocalStream is not null)
                SdpSectionWriter.WriteLocalStream(am, plan.LocalStream, plan.Codecs.Any(c => c.RtxPayloadType is not null));
            answer0.Media.Add(am);

            media.Add(new NegotiatedMedia
            {
                Mid = plan.Mid, MLineIndex = plan.Index, Kind = om.Kind, Protocol = om.Protocol, Direction = plan.Direction,
                Codecs = plan.Codecs,
                RtxPayloadTypes = plan.Codecs.Where(c => c.RtxPayloadType is not null).ToDictionary(c => c.RtxPayloadType!.Value, c => c.PayloadType),
                HeaderExtensions = plan.Extmaps.ToDictionary(e => e.Id, e => e.Uri),
                RemoteSsrcs = om.Ssrcs, RemoteSsrcGroups = om.SsrcGroups, RemoteMsids = om.Msids,
                RemoteRids = om.Rids, RemoteSimulcast = om.Simulcast,
                ReceiveRids = plan.Simulcast is null ? plan.Rids.Select(r => r.Id).ToList() : plan.Simulcast.Recv.SelectMany(s => s).Select(a => a.Rid).ToList(),
                ReceiveSimulcast = plan.Simulcast,
                LocalStream = plan.LocalStream,
                RtcpMux = om.RtcpMux, RtcpReducedSize = om.RtcpReducedSize,
            });
        }

        var session = new NegotiatedSession
        {
            RemoteIceUfrag = ufrag, RemoteIcePwd = pwd, RemoteIceLite = offer.IceLite, RemoteFingerprint = fingerprint,
            RemoteSetup = remoteSetup, LocalSetup = localSetup, BundleMids = answerBundle, Media = media,
        };
        answer = new SdpAnswer(answer0, session);
        error = null;
        return true;
    }

    private sealed class SectionPlan
    {
        public int Index;
        public string Mid = "";
        public bool Rejected;
        public bool IsData;
        public int RemoteSctpPort;
        public long RemoteMaxMessageSize;
        public SdpDirection Direction;
        public List<NegotiatedCodec> Codecs = [];
        public List<SdpExtmap> Extmaps = [];
        public List<SdpRid> Rids = [];
        public SdpSimulcast? Simulcast;
        public SdpLocalStream? LocalStream;
    }

    /// <summary>
    /// The header extension ids the offer gives more than one meaning (URI) across its audio and video sections, which
    /// RFC 8843 §9.1 forbids inside a BUNDLE group. Such an id is answered with none of its meanings: the offerer itself
    /// cannot tell them apart. aiortc 1.4.0 offers id 2 as ssrc-audio-level for audio and abs-send-time for video, and
    /// parses every packet of its bundle with one id table, which may hold both meanings: its createOffer resets each
    /// transceiver's extensions to all it supports until the answer narrows them again, and a transport that connects
    /// while a renegotiation's offer is out registers its senders and receivers with those. Then the server's audio level
    /// (one byte) under id 2 is read as a three-byte abs-send-time, the struct error ends aiortc's DTLS receive loop and
    /// with it all its media, while its connection still says "connected" (docs/transport.md). Answering neither
    /// meaning, the server never sends the id, nor reads it.
    /// </summary>
    private static HashSet<int> AmbiguousExtensionIds(SessionDescription offer)
    {
        var meanings = new Dictionary<int, string>();
        var ambiguous = new HashSet<int>();
        foreach (var media in offer.Media)
        {
            if (media.IsRejected || media.Kind is not ("audio" or "video")) continue;
            foreach (var e in media.Extmaps)
            {
                if (e.Direction == SdpDirection.Inactive) continue;
                if (!meanings.TryAdd(e.Id, e.Uri) && meanings[e.Id] != e.Uri) ambiguous.Add(e.Id);
            }
        }
        return ambiguous;
    }

    private SectionPlan PlanSection(SdpMediaDescription om, SdpDirection offeredDirection, int index, SdpSectionWriter.ExtensionTable table,
        HashSet<int> ambiguousIds, bool dataTaken)
    {
        var plan = new SectionPlan { Index = index, Mid = om.Mid ?? SdpText.Inv(index) };
        if (om.IsRejected || om.Mid is null) { plan.Rejected = true; return plan; }

        if (om.Kind == "application")
        {
            // RFC 8841: m=application <port> UDP/DTLS/SCTP webrtc-datachannel, at most one per transport. The legacy
            // DTLS/SCTP + a=sctpmap form, a malformed a=sctp-port or a=max-message-size, a second data section, or data
            // channels turned off: rejected with port 0 (the rest of the offer is answered as usual).
            plan.IsData = true;
            plan.Rejected = !_local.AcceptDataChannels || dataTaken
                || !SdpDataChannel.TryRead(om, out plan.RemoteSctpPort, out plan.RemoteMaxMessageSize, out _);
            return plan;
        }
        // WebRTC media must be DTLS-SRTP with RTCP feedback (RFC 8827, RFC 8834 §5.1): plain RTP/AVP sections are rejected.
        if ((om.Kind != "audio" && om.Kind != "video") || !om.Protocol.EndsWith("RTP/SAVPF", StringComparison.Ordinal))
        { plan.Rejected = true; return plan; }

        plan.Codecs = NegotiateCodecs(om);
        if (plan.Codecs.Count == 0) { plan.Rejected = true; return plan; }
        if (om.Kind == "audio" && _local.AudioRedundancy != SdpAudioRedundancy.Off && NegotiateRed(om, plan.Codecs) is { } red)
        {
            // JSEP §5.3.1 keeps the answer's codecs in the offer's order of preference, but a browser sends the first one
            // it can (and RED when red precedes the codec its blocks carry): the server's choice is the order.
            if (_local.AudioRedundancy == SdpAudioRedundancy.Preferred) plan.Codecs.Insert(0, red);
            else plan.Codecs.Insert(plan.Codecs.FindIndex(c => c.Name.Equals("opus", StringComparison.OrdinalIgnoreCase)) + 1, red);
        }

        // RFC 8843 §9.1: an id keeps one meaning across the BUNDLE group. An id the offer gives two meanings is answered
        // with neither (AmbiguousExtensionIds); of a URI offered under two ids, the first id wins.
        foreach (var e in om.Extmaps)
        {
            if (e.Direction == SdpDirection.Inactive || ambiguousIds.Contains(e.Id)) continue;
            if (!_local.HeaderExtensions.Any(h => h.Uri == e.Uri && h.AppliesTo(om.Kind))) continue;
            if (plan.Extmaps.Exists(x => x.Id == e.Id || x.Uri == e.Uri) || !table.TryClaim(e.Id, e.Uri)) continue;
            plan.Extmaps.Add(new SdpExtmap(e.Id, e.Direction?.Reverse(), e.Uri));
        }

        // RFC 3264 §6.1 direction rules, from the server's side.
        _local.LocalStreams.TryGetValue(plan.Mid, out var stream);
        plan.Direction = offeredDirection switch
        {
            SdpDirection.SendRecv => stream is null ? SdpDirection.RecvOnly : SdpDirection.SendRecv,
            SdpDirection.SendOnly => SdpDirection.RecvOnly,
            SdpDirection.RecvOnly => stream is null ? SdpDirection.Inactive : SdpDirection.SendOnly,
            _ => SdpDirection.Inactive,
        };
        plan.LocalStream = plan.Direction.Sends() ? stream : null;

        PlanReceiveSimulcast(om, plan);
        return plan;
    }

    // Restrictions of RFC 8851 §5 the answer keeps; others ("depend", unknown names) are left out of the answer
    // (RFC 8851 §6: an answerer may omit restrictions it will not honour, never add any).
    private static readonly HashSet<string> KnownRidRestrictions =
        ["max-width", "max-height", "max-fps", "max-fs", "max-br", "max-pps", "max-bpp"];

    /// <summary>
    /// RFC 8851 §6.2 / RFC 8853 §5.3 for a section the server receives: each offered send rid becomes a recv rid,
    /// and the offer's <c>a=simulcast:send</c> becomes <c>a=simulcast:recv</c> with the same streams, order,
    /// alternatives and paused marks, less the rids dropped. Whatever cannot be used is left out, never an error:
    /// without simulcast the browser sends one stream (RFC 8853 §5.3), which is today's behaviour.
    /// </summary>
    private static void PlanReceiveSimulcast(SdpMediaDescription om, SectionPlan plan)
    {
        if (!plan.Direction.Receives() || om.Rids.Count == 0) return;

        var acceptedPts = plan.Codecs.Select(c => c.PayloadType).ToHashSet();
        var offered = om.Rids;
        var sendRids = new Dictionary<string, SdpRid>();
        foreach (var rid in offered)
        {
            if (rid.Direction != SdpRidDirection.Send) continue;
            // RFC 8851 §6.2: a rid id repeated in the section discards every line with that id.
            if (offered.Count(r => r.Id == rid.Id) > 1) continue;
            var pts = rid.PayloadTypes.Where(acceptedPts.Contains).ToList();
            if (rid.PayloadTypes.Count > 0 && pts.Count == 0) continue; // RFC 8851 §6.2: no usable format -> drop the rid
            var restrictions = rid.Restrictions.Where(r => KnownRidRestrictions.Contains(r.Key) && r.Value is not null).ToList();
            sendRids[rid.Id] = rid with { Direction = SdpRidDirection.Recv, PayloadTypes = pts, Restrictions = restrictions };
        }
        if (sendRids.Count == 0) return;

        if (om.Simulcast is null)
        {
            // rids without simulcast: one stream with restrictions (RFC 8851), answered as before.
            plan.Rids = offered.Where(r => sendRids.ContainsKey(r.Id)).Select(r => sendRids[r.Id]).ToList();
            return;
        }
        var send = om.Simulcast.Send;
        if (send.Count == 0) return; // the offerer only wants to receive simulcast; the server sends one stream
        // Each simulcast stream is told apart by its rid in the RTP stream id header extension (RFC 8852 §3):
        // without that extension negotiated, take one stream.
        if (!plan.Extmaps.Exists(e => e.Uri == SdpHeaderExtensionCapability.RtpStreamId)) return;
        // RFC 8853 §5.1: a rid id names one RTP stream. One listed twice makes the line ambiguous: ignore simulcast
        // rather than guess which stream it is.
        var all = send.SelectMany(s => s).Concat(om.Simulcast.Recv.SelectMany(s => s)).Select(a => a.Rid).ToList();
        if (all.Count != all.Distinct().Count()) return;

        // RFC 8853 §5.3: the answer may remove alternatives (and streams left empty) but not add or reorder any.
        var streams = send
            .Select(s => (IReadOnlyList<SdpSimulcastRid>)s.Where(a => sendRids.ContainsKey(a.Rid)).ToList())
            .Where(s => s.Count > 0).ToList();
        if (streams.Count == 0) return;
        plan.Simulcast = new SdpSimulcast([], streams);
        plan.Rids = streams.SelectMany(s => s).Select(a => sendRids[a.Rid]).ToList();
    }

    /// <summary>
    /// The offer's <c>red/48000/2</c> for the Opus payload type this answer accepted, or null. The fmtp of RED lists the
    /// payload type of each block (RFC 2198 §5, "primary/redundant"); the server accepts Opus carried in Opus only,
    /// "111/111" with the offer's Opus payload type, and an offer's red without an fmtp or with another list is answered
    /// with that form (the answerer decides what it receives, RFC 3264 §6.1).
    /// </summary>
    private static NegotiatedCodec? NegotiateRed(SdpMediaDescription om, List<NegotiatedCodec> accepted)
    {
        var opus = accepted.FirstOrDefault(c => c.Name.Equals("opus", StringComparison.OrdinalIgnoreCase));
        if (opus is null) return null;
        var offeredPts = om.Formats.Select(f => SdpText.TryPayloadType(f, out int p) ? p : -1).ToHashSet();
        var fmtps = om.Fmtps;
        SdpRtpMap? best = null;
        foreach (var map in om.RtpMaps)
        {
            if (!offeredPts.Contains(map.PayloadType) || !map.EncodingName.Equals("red", StringComparison.OrdinalIgnoreCase)
                || map.ClockRate != 48000 || (map.Channels ?? 1) != 2 || accepted.Exists(c => c.PayloadType == map.PayloadType)) continue;
            // Prefer the red whose fmtp names this Opus (an offer may carry red for several codecs).
            var fmtp = fmtps.FirstOrDefault(f => f.PayloadType == map.PayloadType)?.Parameters;
            var blocks = fmtp?.Split('/', StringSplitOptions.TrimEntries);
            if (blocks is not null && blocks.Length > 0 && blocks.All(b => b == SdpText.Inv(opus.PayloadType))) { best = map; break; }
            best ??= map;
        }
        if (best is null) return null;
        var pt = SdpText.Inv(opus.PayloadType);
        return new NegotiatedCodec(best.PayloadType, best.EncodingName, 48000, 2, $"{pt}/{pt}", [], null);
    }

    private List<NegotiatedCodec> NegotiateCodecs(SdpMediaDescription om)
    {
        var result = new List<NegotiatedCodec>();
        var usedRtx = new HashSet<int>();
        var rtpmaps = om.RtpMaps;
        var fmtps = om.Fmtps;
        var feedback = om.RtcpFeedbacks;
        var offeredPts = om.Formats.Select(f => SdpText.TryPayloadType(f, out int p) ? p : -1).Where(p => p >= 0).Distinct().ToList();
        foreach (int pt in offeredPts)
        {
            var map = rtpmaps.FirstOrDefault(r => r.PayloadType == pt);
            if (map is null || map.EncodingName.Equals("rtx", StringComparison.OrdinalIgnoreCase)) continue;
            string? offeredFmtp = fmtps.FirstOrDefault(f => f.PayloadType == pt)?.Parameters;
            var cap = _local.Codecs.FirstOrDefault(c => c.Kind == om.Kind
                && c.Name.Equals(map.EncodingName, StringComparison.OrdinalIgnoreCase)
                && c.ClockRate == map.ClockRate && (c.Channels ?? 1) == (map.Channels ?? 1)
                && c.IsCompatibleFmtp(offeredFmtp));
            if (cap is null) continue;
            var fbs = feedback.Where(f => (f.PayloadType is null || f.PayloadType == pt) && cap.RtcpFeedback.Contains(f.Kind))
                .Select(f => f with { PayloadType = pt }).Distinct().ToList();
            string? fmtp = cap.EchoOfferedFmtp ? offeredFmtp : cap.Fmtp ?? offeredFmtp;
            // RFC 4588 §8.6: rtx is accepted where the offer pairs it with this payload type (apt).
            int? rtx = null;
            foreach (var f in fmtps)
            {
                if (!offeredPts.Contains(f.PayloadType)) continue;
                var rmap = rtpmaps.FirstOrDefault(r => r.PayloadType == f.PayloadType);
                if (rmap is null || !rmap.EncodingName.Equals("rtx", StringComparison.OrdinalIgnoreCase) || rmap.ClockRate != map.ClockRate) continue;
                if (f.ToDictionary().TryGetValue("apt", out var apt) && apt == SdpText.Inv(pt) && usedRtx.Add(f.PayloadType)) { rtx = f.PayloadType; break; }
            }
            result.Add(new NegotiatedCodec(pt, map.EncodingName, map.ClockRate, map.Channels ?? 1, string.IsNullOrEmpty(fmtp) ? null : fmtp, fbs, rtx));
        }
        return result;
    }
}
