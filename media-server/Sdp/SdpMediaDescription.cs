namespace TeleRehab.Media.Sdp;

/// <summary>One media section: <c>m=</c> line plus its i/c/b/k/a lines (RFC 8866 §5.14).</summary>
public sealed class SdpMediaDescription : SdpAttributeHolder
{
    public SdpMediaDescription(string kind, int port, string protocol, IEnumerable<string> formats)
    {
        Kind = kind;
        Port = port;
        Protocol = protocol;
        Formats = [.. formats];
    }

    /// <summary>Media type: audio, video, application, text, message.</summary>
    public string Kind { get; set; }

    public int Port { get; set; }

    /// <summary>The optional <c>/number of ports</c> of the m-line.</summary>
    public int? PortCount { get; set; }

    public string Protocol { get; set; }

    public List<string> Formats { get; }

    public string? Information { get; set; }

    public List<SdpConnection> Connections { get; } = [];

    public SdpConnection? Connection => Connections.Count > 0 ? Connections[0] : null;

    public List<string> Bandwidths { get; } = [];

    public string? EncryptionKey { get; set; }

    /// <summary>True when the protocol carries RTP, so the formats are RTP payload types.</summary>
    public bool IsRtp => Protocol.Contains("RTP/", StringComparison.Ordinal);

    /// <summary>Port 0 marks a rejected or disabled section (RFC 3264 §6, §8.2) unless it is bundle-only (RFC 8843 §6).</summary>
    public bool IsRejected => Port == 0 && !HasAttribute("bundle-only");

    public string? Mid => GetAttributeValue("mid")?.Trim();

    /// <summary>The direction attribute, sendrecv when absent (RFC 8866 §6.7).</summary>
    public SdpDirection Direction => ExplicitDirection ?? SdpDirection.SendRecv;

    public bool RtcpMux => HasAttribute("rtcp-mux");

    public bool RtcpReducedSize => HasAttribute("rtcp-rsize");

    public bool BundleOnly => HasAttribute("bundle-only");

    public IReadOnlyList<SdpRtpMap> RtpMaps => ParseAll<SdpRtpMap>("rtpmap", SdpRtpMap.TryParse);

    public IReadOnlyList<SdpFmtp> Fmtps => ParseAll<SdpFmtp>("fmtp", SdpFmtp.TryParse);

    public IReadOnlyList<SdpRtcpFeedback> RtcpFeedbacks => ParseAll<SdpRtcpFeedback>("rtcp-fb", SdpRtcpFeedback.TryParse);

    public IReadOnlyList<SdpSsrc> Ssrcs => ParseAll<SdpSsrc>("ssrc", SdpSsrc.TryParse);

    public IReadOnlyList<SdpSsrcGroup> SsrcGroups => ParseAll<SdpSsrcGroup>("ssrc-group", SdpSsrcGroup.TryParse);

    public IReadOnlyList<SdpMsid> Msids => ParseAll<SdpMsid>("msid", SdpMsid.TryParse);

    public IReadOnlyList<SdpRid> Rids => ParseAll<SdpRid>("rid", SdpRid.TryParse);

    public SdpSimulcast? Simulcast
        => GetAttributeValue("simulcast") is { } v && SdpSimulcast.TryParse(v, out var s, out _) ? s : null;

    /// <summary>Raw candidate values (text after <c>a=candidate:</c>); parsing is left to the ICE layer.</summary>
    public IReadOnlyList<string> Candidates => GetAttributes("candidate").Select(a => a.Value ?? "").ToList();

    public bool EndOfCandidates => HasAttribute("end-of-candidates");

    public int? SctpPort => int.TryParse(GetAttributeValue("sctp-port"), out int p) ? p : null;

    public long? MaxMessageSize => long.TryParse(GetAttributeValue("max-message-size"), out long p) ? p : null;

    public SdpRtpMap? GetRtpMap(int payloadType) => RtpMaps.FirstOrDefault(r => r.PayloadType == payloadType);

    public SdpFmtp? GetFmtp(int payloadType) => Fmtps.FirstOrDefault(r => r.PayloadType == payloadType);

    /// <summary>Feedback lines that apply to the payload type, including the <c>*</c> wildcard.</summary>
    public IReadOnlyList<SdpRtcpFeedback> GetRtcpFeedback(int payloadType)
        => RtcpFeedbacks.Where(f => f.PayloadType is null || f.PayloadType == payloadType).ToList();

    internal string MLine
        => $"{Kind} {SdpText.Inv(Port)}{(PortCount is { } n ? "/" + SdpText.Inv(n) : "")} {Protocol}" + (Formats.Count > 0 ? " " + string.Join(' ', Formats) : "");
}
