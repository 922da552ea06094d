namespace TeleRehab.Media.Sdp;

/// <summary>One m-section the server offers. <see cref="Direction"/> is the server's view (SendOnly: the server sends, the browser receives).</summary>
public sealed record SdpTransceiver(string Kind, string Mid, SdpDirection Direction)
{
    /// <summary>Codecs to offer; null means the local codecs of this kind.</summary>
    public IReadOnlyList<SdpCodecCapability>? Codecs { get; init; }

    /// <summary>The stream the server sends (used when <see cref="Direction"/> sends).</summary>
    public SdpLocalStream? LocalStream { get; init; }

    /// <summary>Rids the server wants to receive as simulcast (RFC 8853), e.g. ["h", "m", "l"].</summary>
    public IReadOnlyList<string> ReceiveRids { get; init; } = [];
}

/// <summary>A server-made offer, kept to apply the answer to.</summary>
public sealed class SdpOffer
{
    internal SdpOffer(SessionDescription description, IReadOnlyList<SdpTransceiver> transceivers)
    {
        Description = description;
        Transceivers = transceivers;
    }

    public SessionDescription Description { get; }

    public IReadOnlyList<SdpTransceiver> Transceivers { get; }

    public string Sdp => Description.ToString();
}

/// <summary>Builds server offers (ICE-lite, setup:actpass, one BUNDLE group, JSEP §5.2) and applies the browser's answer.</summary>
public sealed class SdpOfferer
{
    private readonly SdpLocalParameters _local;

    public SdpOfferer(SdpLocalParameters local) => _local = local;

    public SdpOffer CreateOffer(IReadOnlyList<SdpTransceiver> transceivers)
    {
        var mids = new HashSet<string>();
        foreach (var t in transceivers)
        {
            if (!SdpText.IsToken(t.Mid) || !mids.Add(t.Mid)) throw new ArgumentException($"mid '{t.Mid}' is empty, not a token or repeated", nameof(transceivers));
            if (t.Kind is not ("audio" or "video" or "application")) throw new ArgumentException($"kind '{t.Kind}' is not audio, video or application", nameof(transceivers));
        }

        var s = SdpSectionWriter.NewSession(_local);
        if (_local.IceLite) s.AddAttribute("ice-lite");
        if (transceivers.Count > 0) s.AddAttribute("group", "BUNDLE " + string.Join(' ', transceivers.Select(t => t.Mid)));
        s.AddAttribute("msid-semantic", " WMS *");

        var (port, connection) = _local.DefaultAddress();
        // One payload type per codec across the BUNDLE group (RFC 8843 §9.1.2), derived from the local codecs first and
        // then any section-specific ones, so the same parameters give the same numbers in every (re)offer.
        var payloadTypes = new SdpPayloadTypeTable(_local.Codecs.Concat(transceivers.SelectMany(t => t.Codecs ?? [])));
        var extIds = new Dictionary<string, int>();
        bool first = true;
        foreach (var t in transceivers)
        {
            if (t.Kind == "application")
            {
                var dm = new SdpMediaDescription("application", port, "UDP/DTLS/SCTP", [SdpDataChannel.Format]);
                dm.Connections.Add(connection);
                SdpSectionWriter.WriteTransport(dm, _local, SdpSetupRole.ActPass, first);
                dm.AddAttribute("mid", t.Mid);
                SdpDataChannel.WriteAttributes(dm, _local);
                s.Media.Add(dm);
                first = false;
                continue;
            }

            var codecs = new List<NegotiatedCodec>();
            foreach (var cap in (t.Codecs ?? _local.Codecs).Where(c => c.Kind == t.Kind))
            {
                if (!payloadTypes.TryGet(cap, out int pt, out int? rtx))
                    throw new InvalidOperationException($"out of dynamic payload types for {cap.Name}/{cap.ClockRate} (mid '{t.Mid}')");
                if (codecs.Exists(c => c.PayloadType == pt)) continue; // the same codec listed twice for this section
                var fbs = cap.RtcpFeedback.Select(f => ToFeedback(pt, f)).ToList();
                codecs.Add(new NegotiatedCodec(pt, cap.Name, cap.ClockRate, cap.Channels ?? 1, cap.Fmtp, fbs, rtx));
            }
            if (codecs.Count == 0) throw new ArgumentException($"no local codec for kind '{t.Kind}' (mid '{t.Mid}')", nameof(transceivers));

            var m = new SdpMediaDescription(t.Kind, port, "UDP/TLS/RTP/SAVPF", SdpSectionWriter.FormatList(codecs));
            m.Connections.Add(connection);
            SdpSectionWriter.WriteTransport(m, _local, SdpSetupRole.ActPass, first);
            m.AddAttribute("mid", t.Mid);
            // One id per URI across the whole offer (RFC 8843 §9.1).
            foreach (var ext in _local.HeaderExtensions.Where(h => h.AppliesTo(t.Kind)))
            {
                if (!extIds.TryGetValue(ext.Uri, out int id)) extIds[ext.Uri] = id = extIds.Count + 1;
                m.AddAttribute("extmap", new SdpExtmap(id, null, ext.Uri).ToString());
            }
            m.SetDirection(t.Direction);
            m.AddAttribute("rtcp-mux");
            m.AddAttribute("rtcp-rsize");
            SdpSectionWriter.WriteCodecs(m, codecs);
            if (t.ReceiveRids.Count > 0 && t.Direction.Receives())
            {
                foreach (var rid in t.ReceiveRids) m.AddAttribute("rid", rid + " recv");
                m.AddAttribute("simulcast", "recv " + string.Join(';', t.ReceiveRids));
            }
            if (t.LocalStream is not null && t.Direction.Sends())
                SdpSectionWriter.WriteLocalStream(m, t.LocalStream, codecs.Any(c => c.RtxPayloadType is not null));
            s.Media.Add(m);
            first = false;
        }
        return new SdpOffer(s, transceivers);
    }

    private static SdpRtcpFeedback ToFeedback(int pt, string kind)
    {
        int sp = kind.IndexOf(' ');
        return sp < 0 ? new SdpRtcpFeedback(pt, kind, null) : new SdpRtcpFeedback(pt, kind[..sp], kind[(sp + 1)..]);
    }

    public NegotiatedSession ApplyAnswer(SdpOffer offer, string answer)
        => TryApplyAnswer(offer, answer, out var session, out var error) ? session! : throw new SdpNegotiationException(error!);

    /// <summary>Checks the browser's answer against our offer (JSEP §5.10) and returns what was agreed.</summary>
    public bool TryApplyAnswer(SdpOffer offer, string answerText, out NegotiatedSession? session, out string? error)
    {
        session = null;
        if (!SessionDescription.TryParse(answerText, out var answer, out error)) { error = "answer does not parse: " + error; return false; }
        var od = offer.Description;
        if (answer!.Media.Count != od.Media.Count)
        { error = $"answer has {answer.Media.Count} m-lines but the offer had {od.Media.Count} (RFC 3264 §6)"; return false; }

        for (int i = 0; i < od.Media.Count; i++)
        {
            var am = answer.Media[i];
            if (am.Kind != od.Media[i].Kind) { error = $"answer m-line {i} is '{am.Kind}' but the offer's is '{od.Media[i].Kind}'"; return false; }
            if (!am.IsRejected && am.Mid != od.Media[i].Mid) { error = $"answer m-line {i} has mid '{am.Mid}' but the offer's is '{od.Media[i].Mid}'"; return false; }
        }

        var bundle = answer.BundleMids.Where(mid => od.Media.Any(m => m.Mid == mid)).ToList();
        var transport = bundle.Count > 0 ? answer.FindMedia(bundle[0]) : answer.Media.FirstOrDefault(m => !m.IsRejected);
        string? ufrag = transport?.IceUfrag ?? answer.IceUfrag;
        string? pwd = transport?.IcePwd ?? answer.IcePwd;
        var fingerprint = transport?.Fingerprint ?? answer.Fingerprint;
        var setup = transport?.Setup ?? answer.Setup;
        if (ufrag is null || pwd is null) { error = "answer has no a=ice-ufrag/a=ice-pwd"; return false; }
        if (fingerprint is null) { error = "answer has no a=fingerprint"; return false; }
        // RFC 5763 §5: the answer to actpass must be active or passive; our role is the opposite one.
        SdpSetupRole localSetup;
        switch (setup ?? SdpSetupRole.Active)
        {
            case SdpSetupRole.Active: localSetup = SdpSetupRole.Passive; break;
            case SdpSetupRole.Passive: localSetup = SdpSetupRole.Active; break;
            default: error = $"answer a=setup:{setup!.Value.ToSdp()} is not allowed in an answer (must be active or passive)"; return false;
        }

        var media = new List<NegotiatedMedia>();
        for (int i = 0; i < od.Media.Count; i++)
        {
            var om = od.Media[i];
            var am = answer.Media[i];
            string mid = om.Mid ?? SdpText.Inv(i);
            if (am.IsRejected)
            {
                media.Add(new NegotiatedMedia { Mid = mid, MLineIndex = i, Kind = om.Kind, Protocol = om.Protocol, IsRejected = true });
                continue;
            }
            if (om.Kind == "application")
            {
                // RFC 8841: the answer's a=sctp-port and a=max-message-size are the peer's (defaults when absent).
                if (!SdpDataChannel.TryRead(am, out var remotePort, out var remoteMax, out var reason))
                { error = $"answer m-line {i} (mid '{mid}'): {reason}"; return false; }
                if (media.Exists(m => m.IsDataChannel))
                { error = $"answer m-line {i} (mid '{mid}') accepts a second data channel section (one SCTP association per transport, RFC 8841 §4.2)"; return false; }
                media.Add(new NegotiatedMedia
                {
                    Mid = mid, MLineIndex = i, Kind = om.Kind, Protocol = am.Protocol, Direction = SdpDirection.SendRecv,
                    SctpPort = remotePort, MaxMessageSize = remoteMax,
                    LocalSctpPort = _local.SctpPort, LocalMaxMessageSize = _local.MaxMessageSize,
                });
                continue;
            }

            var codecs = new List<NegotiatedCodec>();
            var usedRtx = new HashSet<int>();
            var offeredMaps = om.RtpMaps;
            var answerFmtps = am.Fmtps;
            var answerMaps = am.RtpMaps;
            foreach (var f in am.Formats)
            {
                if (!SdpText.TryPayloadType(f, out int pt)) continue;
                var omap = offeredMaps.FirstOrDefault(r => r.PayloadType == pt);
                var amap = answerMaps.FirstOrDefault(r => r.PayloadType == pt) ?? omap;
                if (codecs.Exists(c => c.PayloadType == pt) || usedRtx.Contains(pt)) continue;
                if (omap is null || amap is null || omap.EncodingName.Equals("rtx", StringComparison.OrdinalIgnoreCase)) continue;
                if (!omap.EncodingName.Equals(amap.EncodingName, StringComparison.OrdinalIgnoreCase) || omap.ClockRate != amap.ClockRate) continue;
                var offeredFb = om.GetRtcpFeedback(pt).Select(x => x.Kind).ToHashSet();
                var fbs = am.GetRtcpFeedback(pt).Where(x => offeredFb.Contains(x.Kind)).Select(x => x with { PayloadType = pt }).Distinct().ToList();
                int? rtx = null;
                foreach (var af in answerFmtps)
                {
                    var rmap = answerMaps.FirstOrDefault(r => r.PayloadType == af.PayloadType);
                    // The rtx payload type must be one this section offered as rtx (the offer gives each PT one meaning).
                    if (rmap is not null && rmap.EncodingName.Equals("rtx", StringComparison.OrdinalIgnoreCase) && am.Formats.Contains(SdpText.Inv(af.PayloadType))
                        && offeredMaps.Any(r => r.PayloadType == af.PayloadType && r.EncodingName.Equals("rtx", StringComparison.OrdinalIgnoreCase))
                        && af.ToDictionary().TryGetValue("apt", out var apt) && apt == SdpText.Inv(pt) && usedRtx.Add(af.PayloadType))
                    { rtx = af.PayloadType; break; }
                }
                string? fmtp = answerFmtps.FirstOrDefault(x => x.PayloadType == pt)?.Parameters;
                codecs.Add(new NegotiatedCodec(pt, omap.EncodingName, omap.ClockRate, omap.Channels ?? 1, string.IsNullOrEmpty(fmtp) ? null : fmtp, fbs, rtx));
            }
            if (codecs.Count == 0) { error = $"answer m-line {i} (mid '{mid}') accepts none of the offered payload types"; return false; }

            var offeredExt = om.Extmaps.ToDictionary(e => e.Id, e => e.Uri);
            var ext = new Dictionary<int, string>();
            foreach (var e in am.Extmaps)
                if (offeredExt.TryGetValue(e.Id, out var uri) && uri == e.Uri) ext[e.Id] = e.Uri;

            var t = offer.Transceivers.FirstOrDefault(x => x.Mid == mid);
            // The answer's direction is the browser's view; the server's is its reverse (RFC 3264 §6.1).
            var direction = answer.GetDirection(am).Reverse();
            // The browser's a=simulcast:send answers our recv list (RFC 8853 §5.3): keep the rids we offered, in its order.
            SdpSimulcast? receiveSimulcast = null;
            if (direction.Receives() && t is { ReceiveRids.Count: > 0 } && am.Simulcast is { Send.Count: > 0 } asim)
            {
                var streams = asim.Send.Select(st => (IReadOnlyList<SdpSimulcastRid>)st.Where(a => t.ReceiveRids.Contains(a.Rid)).ToList())
                    .Where(st => st.Count > 0).ToList();
                if (streams.Count > 0) receiveSimulcast = new SdpSimulcast([], streams);
            }
            media.Add(new NegotiatedMedia
            {
                Mid = mid, MLineIndex = i, Kind = om.Kind, Protocol = am.Protocol, Direction = direction,
                Codecs = codecs,
                RtxPayloadTypes = codecs.Where(c => c.RtxPayloadType is not null).ToDictionary(c => c.RtxPayloadType!.Value, c => c.PayloadType),
                HeaderExtensions = ext,
                RemoteSsrcs = am.Ssrcs, RemoteSsrcGroups = am.SsrcGroups, RemoteMsids = am.Msids,
                RemoteRids = am.Rids, RemoteSimulcast = am.Simulcast,
                ReceiveRids = receiveSimulcast?.Recv.SelectMany(st => st).Select(a => a.Rid).ToList() ?? [],
                ReceiveSimulcast = receiveSimulcast,
                LocalStream = direction.Sends() ? t?.LocalStream : null,
                RtcpMux = am.RtcpMux, RtcpReducedSize = am.RtcpReducedSize && om.RtcpReducedSize,
            });
        }

        session = new NegotiatedSession
        {
            RemoteIceUfrag = ufrag, RemoteIcePwd = pwd, RemoteIceLite = answer.IceLite, RemoteFingerprint = fingerprint,
            RemoteSetup = setup ?? SdpSetupRole.Active, LocalSetup = localSetup, BundleMids = bundle, Media = media,
        };
        error = null;
        return true;
    }
}
