namespace TeleRehab.Media.Sdp;

/// <summary>Shared pieces for building answer and offer media sections.</summary>
internal static class SdpSectionWriter
{
    public static SessionDescription NewSession(SdpLocalParameters local)
    {
        var s = new SessionDescription
        {
            Origin = new SdpOrigin("-", local.SessionId, local.SessionVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), "IN", "IP4", "127.0.0.1"),
            SessionName = local.SessionName,
        };
        s.Timings.Add(new SdpTiming("0 0"));
        return s;
    }

    /// <summary>ICE and DTLS lines for one section (JSEP §5.3.1 puts them in every m-section).</summary>
    public static void WriteTransport(SdpMediaDescription m, SdpLocalParameters local, SdpSetupRole setup, bool withCandidates)
    {
        if (withCandidates)
        {
            foreach (var c in local.NormalizedCandidates()) m.AddAttribute("candidate", c);
            m.AddAttribute("end-of-candidates");
        }
        m.AddAttribute("ice-ufrag", local.IceUfrag);
        m.AddAttribute("ice-pwd", local.IcePwd);
        m.AddAttribute("fingerprint", local.Fingerprint.Trim());
        m.AddAttribute("setup", setup.ToSdp());
    }

    public static void WriteExtmaps(SdpMediaDescription m, IEnumerable<SdpExtmap> extmaps)
    {
        foreach (var e in extmaps) m.AddAttribute("extmap", e.ToString());
    }

    public static void WriteCodecs(SdpMediaDescription m, IReadOnlyList<NegotiatedCodec> codecs)
    {
        foreach (var c in codecs)
        {
            m.AddAttribute("rtpmap", new SdpRtpMap(c.PayloadType, c.Name, c.ClockRate, c.Channels > 1 ? c.Channels : null).ToString());
            foreach (var fb in c.RtcpFeedback) m.AddAttribute("rtcp-fb", fb.ToString());
            if (!string.IsNullOrEmpty(c.Fmtp)) m.AddAttribute("fmtp", SdpText.Inv(c.PayloadType) + " " + c.Fmtp);
            if (c.RtxPayloadType is { } rtx)
            {
                m.AddAttribute("rtpmap", new SdpRtpMap(rtx, "rtx", c.ClockRate, null).ToString());
                m.AddAttribute("fmtp", SdpText.Inv(rtx) + " apt=" + SdpText.Inv(c.PayloadType));
            }
        }
    }

    public static IEnumerable<string> FormatList(IReadOnlyList<NegotiatedCodec> codecs)
    {
        foreach (var c in codecs)
        {
            yield return SdpText.Inv(c.PayloadType);
            if (c.RtxPayloadType is { } rtx) yield return SdpText.Inv(rtx);
        }
    }

    /// <summary>a=msid plus a=ssrc cname/msid lines and the FID group when rtx is in use (RFC 8830, RFC 5576, RFC 4588).</summary>
    public static void WriteLocalStream(SdpMediaDescription m, SdpLocalStream stream, bool rtx)
    {
        string msid = stream.StreamId + " " + stream.TrackId;
        m.AddAttribute("msid", msid);
        uint? rtxSsrc = rtx ? stream.RtxSsrc : null;
        if (rtxSsrc is { } r) m.AddAttribute("ssrc-group", "FID " + SdpText.Inv(stream.Ssrc) + " " + SdpText.Inv(r));
        foreach (uint ssrc in rtxSsrc is { } r2 ? new[] { stream.Ssrc, r2 } : [stream.Ssrc])
        {
            m.AddAttribute("ssrc", SdpText.Inv(ssrc) + " cname:" + stream.Cname);
            m.AddAttribute("ssrc", SdpText.Inv(ssrc) + " msid:" + msid);
        }
    }

    /// <summary>Bundle-wide (or section-local) header extension table enforcing one meaning per id and one id per URI (RFC 8843 §9.1).</summary>
    public sealed class ExtensionTable
    {
        private readonly Dictionary<int, string> _idToUri = [];
        private readonly Dictionary<string, int> _uriToId = [];

        /// <summary>True when the pair can be used without giving an id a second meaning.</summary>
        public bool TryClaim(int id, string uri)
        {
            if (_idToUri.TryGetValue(id, out var existing)) return existing == uri;
            if (_uriToId.ContainsKey(uri)) return false;
            _idToUri[id] = uri;
            _uriToId[uri] = id;
            return true;
        }

        public int? IdOf(string uri) => _uriToId.TryGetValue(uri, out int id) ? id : null;

        public bool IsUsed(int id) => _idToUri.ContainsKey(id);
    }
}
