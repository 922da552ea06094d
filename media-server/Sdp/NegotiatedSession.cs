namespace TeleRehab.Media.Sdp;

/// <summary>One codec both sides agreed on, with its payload type as used on the wire.</summary>
public sealed record NegotiatedCodec(
    int PayloadType,
    string Name,
    int ClockRate,
    int Channels,
    string? Fmtp,
    IReadOnlyList<SdpRtcpFeedback> RtcpFeedback,
    int? RtxPayloadType)
{
    public bool HasFeedback(string kind) => RtcpFeedback.Any(f => f.Kind == kind);
}

/// <summary>Result of negotiating one m-section, seen from the server.</summary>
public sealed class NegotiatedMedia
{
    public required string Mid { get; init; }

    public required int MLineIndex { get; init; }

    public required string Kind { get; init; }

    public required string Protocol { get; init; }

    /// <summary>True when the section was rejected (port 0); nothing else applies then.</summary>
    public bool IsRejected { get; init; }

    /// <summary>The server's direction: SendOnly means the server sends and the browser only receives.</summary>
    public SdpDirection Direction { get; init; } = SdpDirection.Inactive;

    public IReadOnlyList<NegotiatedCodec> Codecs { get; init; } = [];

    /// <summary>rtx payload type -> associated payload type (RFC 4588 apt).</summary>
    public IReadOnlyDictionary<int, int> RtxPayloadTypes { get; init; } = new Dictionary<int, int>();

    /// <summary>Negotiated header extension id -> URI (one meaning per id across the BUNDLE group, RFC 8843 §9.1).</summary>
    public IReadOnlyDictionary<int, string> HeaderExtensions { get; init; } = new Dictionary<int, string>();

    public IReadOnlyList<SdpSsrc> RemoteSsrcs { get; init; } = [];

    public IReadOnlyList<SdpSsrcGroup> RemoteSsrcGroups { get; init; } = [];

    public IReadOnlyList<SdpMsid> RemoteMsids { get; init; } = [];

    /// <summary>The peer's rids (as the peer wrote them: "send" when it sends them to us).</summary>
    public IReadOnlyList<SdpRid> RemoteRids { get; init; } = [];

    /// <summary>The peer's a=simulcast (RFC 8853), from the peer's point of view.</summary>
    public SdpSimulcast? RemoteSimulcast { get; init; }

    /// <summary>
    /// Rids the server receives in this section (RFC 8851), as answered with <c>a=rid:&lt;id&gt; recv</c>. With
    /// simulcast, in the order of the offer's <c>a=simulcast:send</c> list (streams in order, a stream's alternatives
    /// in order); browsers write that list in the order of <c>sendEncodings</c>, which our client gives low to high
    /// (q, h, f), so <see cref="GetSimulcastStreamIndex"/> is the spatial layer. Empty when the section has no rids.
    /// </summary>
    public IReadOnlyList<string> ReceiveRids { get; init; } = [];

    /// <summary>The answer's <c>a=simulcast:recv</c> (RFC 8853 §5.3; only <see cref="SdpSimulcast.Recv"/> is set), or null without simulcast.</summary>
    public SdpSimulcast? ReceiveSimulcast { get; init; }

    /// <summary>
    /// Index of the received simulcast stream that <paramref name="rid"/> names (0 = first in the offer's list, the
    /// lowest layer from our client), or -1 for an unknown rid or a section without simulcast. Alternatives of one
    /// stream share its index.
    /// </summary>
    public int GetSimulcastStreamIndex(string rid)
    {
        if (ReceiveSimulcast is null) return -1;
        var streams = ReceiveSimulcast.Recv;
        for (int i = 0; i < streams.Count; i++)
            foreach (var alt in streams[i])
                if (alt.Rid == rid) return i;
        return -1;
    }

    public SdpLocalStream? LocalStream { get; init; }

    public bool RtcpMux { get; init; }

    public bool RtcpReducedSize { get; init; }

    /// <summary>The peer's SCTP port for a data channel section (RFC 8841 §5: its a=sctp-port, 5000 when absent);
    /// the destination port of the SCTP packets we send and the source port of those we receive.</summary>
    public int? SctpPort { get; init; }

    /// <summary>The largest message the peer can receive on a data channel section (RFC 8841 §6: its
    /// a=max-message-size, 65536 when absent; 0 means no limit).</summary>
    public long? MaxMessageSize { get; init; }

    /// <summary>Our SCTP port for a data channel section, as our SDP announced it.</summary>
    public int? LocalSctpPort { get; init; }

    /// <summary>The largest message we said we can receive on a data channel section (0 means no limit).</summary>
    public long? LocalMaxMessageSize { get; init; }

    /// <summary>True for an accepted data channel section (<c>m=application .. webrtc-datachannel</c>).</summary>
    public bool IsDataChannel => !IsRejected && Kind == "application";

    /// <summary>Distinct remote SSRCs announced with a=ssrc.</summary>
    public IReadOnlyList<uint> RemoteSsrcIds => RemoteSsrcs.Select(s => s.Ssrc).Distinct().ToList();

    public NegotiatedCodec? FindCodec(int payloadType) => Codecs.FirstOrDefault(c => c.PayloadType == payloadType);

    public int? FindExtensionId(string uri) => HeaderExtensions.Where(kv => kv.Value == uri).Select(kv => (int?)kv.Key).FirstOrDefault();
}

/// <summary>Everything the media path needs after an offer/answer exchange.</summary>
public sealed class NegotiatedSession
{
    public required string RemoteIceUfrag { get; init; }

    public required string RemoteIcePwd { get; init; }

    public bool RemoteIceLite { get; init; }

    public required SdpFingerprint RemoteFingerprint { get; init; }

    /// <summary>The peer's a=setup (actpass in an offer, active/passive in an answer).</summary>
    public required SdpSetupRole RemoteSetup { get; init; }

    /// <summary>The server's DTLS role: Passive (DTLS server) or Active (DTLS client).</summary>
    public required SdpSetupRole LocalSetup { get; init; }

    /// <summary>Mids of the negotiated BUNDLE group; the first is the BUNDLE tag. Empty without BUNDLE.</summary>
    public IReadOnlyList<string> BundleMids { get; init; } = [];

    public IReadOnlyList<NegotiatedMedia> Media { get; init; } = [];

    public NegotiatedMedia? FindMedia(string mid) => Media.FirstOrDefault(m => m.Mid == mid);

    /// <summary>The accepted data channel section (at most one is accepted), or null.</summary>
    public NegotiatedMedia? DataChannel => Media.FirstOrDefault(m => m.IsDataChannel);
}
