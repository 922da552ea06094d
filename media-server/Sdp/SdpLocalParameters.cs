using System.Globalization;

namespace TeleRehab.Media.Sdp;

/// <summary>A codec the server can forward. Matching against an offer is by name (case-insensitive), clock rate and channels,
/// plus the codec-specific <see cref="IsCompatibleFmtp"/> check.</summary>
public sealed record SdpCodecCapability(
    string Kind,
    string Name,
    int ClockRate,
    int? Channels,
    string? Fmtp,
    IReadOnlyList<string> RtcpFeedback,
    bool EchoOfferedFmtp = false,
    int PreferredPayloadType = 96,
    int? PreferredRtxPayloadType = null)
{
    /// <summary>True when an offered fmtp for this codec can be accepted.</summary>
    public bool IsCompatibleFmtp(string? offeredFmtp)
    {
        if (!Name.Equals("H264", StringComparison.OrdinalIgnoreCase)) return true;
        return IsCompatibleH264(offeredFmtp);
    }

    /// <summary>H.264: packetization-mode=1 and a (constrained) baseline profile: profile_idc 0x42 with
    /// constraint_set1 (42e0xx, 42c0xx, 4240xx) or the plain 42001f-style baseline (RFC 6184 §8.1; absent = 420010, mode 0).</summary>
    public static bool IsCompatibleH264(string? fmtp)
    {
        var p = SdpFmtp.ParseParameters(fmtp);
        if (!p.TryGetValue("packetization-mode", out var mode) || mode != "1") return false;
        string plid = p.TryGetValue("profile-level-id", out var v) ? v : "420010";
        if (plid.Length != 6 || !int.TryParse(plid, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int value)) return false;
        int profileIdc = value >> 16, iop = (value >> 8) & 0xff;
        return profileIdc == 0x42 && ((iop & 0x40) != 0 || iop == 0x00);
    }

    /// <summary>No goog-remb: the server sends transport-wide feedback (the sender estimates), not REMB.</summary>
    public static readonly IReadOnlyList<string> VideoFeedback = ["transport-cc", "ccm fir", "nack", "nack pli"];

    /// <summary>Opus with in-band FEC (RFC 7587 §6.1 <c>useinbandfec</c>) and discontinuous transmission (<c>usedtx</c>:
    /// a packet every 400 ms in silence), both for weak links.</summary>
    public static SdpCodecCapability Opus { get; } =
        new("audio", "opus", 48000, 2, "minptime=10;useinbandfec=1;usedtx=1", ["transport-cc"], PreferredPayloadType: 111);

    public static SdpCodecCapability Vp8 { get; } =
        new("video", "VP8", 90000, null, null, VideoFeedback, PreferredPayloadType: 96, PreferredRtxPayloadType: 97);

    public static SdpCodecCapability H264 { get; } =
        new("video", "H264", 90000, null, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", VideoFeedback,
            EchoOfferedFmtp: true, PreferredPayloadType: 102, PreferredRtxPayloadType: 103);

    public static IReadOnlyList<SdpCodecCapability> Defaults { get; } = [Opus, Vp8, H264];
}

/// <summary>An RTP header extension the server understands, and the media kinds it applies to.</summary>
public sealed record SdpHeaderExtensionCapability(string Uri, bool Audio, bool Video)
{
    public const string Mid = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string RtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    public const string RepairedRtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    public const string AbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string TransportWideCc = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    public const string AudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

    public bool AppliesTo(string kind) => kind == "audio" ? Audio : kind == "video" && Video;

    public static IReadOnlyList<SdpHeaderExtensionCapability> Defaults { get; } =
    [
        new(Mid, true, true),
        new(AudioLevel, true, false),
        new(AbsSendTime, true, true),
        new(TransportWideCc, true, true),
        new(RtpStreamId, false, true),
        new(RepairedRtpStreamId, false, true),
    ];
}

/// <summary>A stream the server sends on one m-section: announced with a=msid and a=ssrc (RFC 8830, RFC 5576).</summary>
public sealed record SdpLocalStream(uint Ssrc, string Cname, string StreamId, string TrackId, uint? RtxSsrc = null);

/// <summary>How an answer treats <c>red/48000/2</c> (RFC 2198) in an audio section whose offer has it.</summary>
public enum SdpAudioRedundancy
{
    /// <summary>Not in the answer: the peer sends and receives plain Opus.</summary>
    Off,

    /// <summary>In the answer after Opus: the peer may receive RED from the server, and a browser, which sends the first
    /// codec of the answer, sends plain Opus.</summary>
    Accepted,

    /// <summary>In the answer before Opus: the peer receives RED and a browser sends RED with Opus as its blocks.</summary>
    Preferred,
}

/// <summary>The server's transport identity and capabilities used for answers and offers.</summary>
public sealed class SdpLocalParameters
{
    public required string IceUfrag { get; init; }

    public required string IcePwd { get; init; }

    /// <summary>Whether this side is an ICE-lite agent (RFC 8445 §2.5): the server is; a full agent, such as the C#
    /// client, must not say so (RFC 8839 §5.3).</summary>
    public bool IceLite { get; init; } = true;

    /// <summary>DTLS certificate fingerprint, "sha-256 AA:BB:..".</summary>
    public required string Fingerprint { get; init; }

    /// <summary>Local candidates as "candidate:..." (an "a=" prefix or no prefix is accepted too).</summary>
    public IReadOnlyList<string> Candidates { get; init; } = [];

    public IReadOnlyList<SdpCodecCapability> Codecs { get; init; } = SdpCodecCapability.Defaults;

    public IReadOnlyList<SdpHeaderExtensionCapability> HeaderExtensions { get; init; } = SdpHeaderExtensionCapability.Defaults;

    /// <summary>Answer <c>m=application .. webrtc-datachannel</c> sections (RFC 8841) instead of rejecting them. At
    /// most one such section is accepted per answer (one SCTP association per transport, RFC 8841 §4.2); further ones
    /// are rejected with port 0.</summary>
    public bool AcceptDataChannels { get; init; } = true;

    /// <summary>When set, <c>a=ptime</c> (RFC 4566 §6) on the audio sections the peer sends on: the packet time, in ms,
    /// the server wants to receive. A browser's Opus encoder takes it as its frame length.</summary>
    public int? AudioPacketTime { get; init; }

    /// <summary>What the answer does with an offered <c>red/48000/2</c> (RFC 2198 redundancy for Opus): see
    /// <see cref="SdpAudioRedundancy"/>. Off by default (a peer that did not ask gets plain Opus).</summary>
    public SdpAudioRedundancy AudioRedundancy { get; init; } = SdpAudioRedundancy.Off;

    /// <summary>Our <c>a=sctp-port</c> (RFC 8841 §5).</summary>
    public int SctpPort { get; init; } = SdpDataChannel.DefaultSctpPort;

    /// <summary>Our <c>a=max-message-size</c>: the largest data channel message we accept (RFC 8841 §6; 0 means no
    /// limit).</summary>
    public long MaxMessageSize { get; init; } = DefaultMaxMessageSize;

    /// <summary>The server's default <see cref="MaxMessageSize"/>: 256 KiB, as Chromium announces.</summary>
    public const long DefaultMaxMessageSize = 262144;

    /// <summary>Streams the server sends, keyed by mid. A mid without an entry is receive-only for the server.</summary>
    public IReadOnlyDictionary<string, SdpLocalStream> LocalStreams { get; init; } = new Dictionary<string, SdpLocalStream>();

    public string SessionId { get; init; } = "4611731400430051336";

    public ulong SessionVersion { get; init; } = 2;

    public string SessionName { get; init; } = "-";

    internal IEnumerable<string> NormalizedCandidates()
    {
        foreach (var c in Candidates)
        {
            string v = c.Trim();
            if (v.StartsWith("a=", StringComparison.Ordinal)) v = v[2..];
            if (v.StartsWith("candidate:", StringComparison.Ordinal)) v = v["candidate:".Length..];
            if (v.Length > 0) yield return v;
        }
    }

    /// <summary>The default address for m=/c= lines: the first UDP host candidate (JSEP §5.3.1), else 9 / 0.0.0.0.</summary>
    internal (int Port, SdpConnection Connection) DefaultAddress()
    {
        foreach (var c in NormalizedCandidates())
        {
            var w = SdpText.Words(c);
            // foundation component transport priority address port "typ" type
            if (w.Length >= 8 && w[2].Equals("udp", StringComparison.OrdinalIgnoreCase) && w[7] == "host"
                && SdpText.TryInt(w[5], 65535, out int port) && port > 0)
            {
                bool v6 = w[4].Contains(':');
                return (port, new SdpConnection("IN", v6 ? "IP6" : "IP4", w[4]));
            }
        }
        return (9, SdpConnection.Ip4Any);
    }
}
