using System.Text;

namespace TeleRehab.Media.Sdp;

/// <summary>A session description (RFC 8866): session-level lines plus media sections.
/// <see cref="ToString"/> writes CRLF-terminated lines in the RFC 8866 §5 order.</summary>
public sealed class SessionDescription : SdpAttributeHolder
{
    /// <summary>Largest accepted input (characters). Signalling never needs more; bounding it bounds parse cost.</summary>
    public const int MaxLength = 64 * 1024;

    public int Version { get; set; }

    public SdpOrigin Origin { get; set; } = new("-", "0", "0", "IN", "IP4", "127.0.0.1");

    public string SessionName { get; set; } = "-";

    public string? Information { get; set; }

    public string? Uri { get; set; }

    public List<string> Emails { get; } = [];

    public List<string> Phones { get; } = [];

    public SdpConnection? Connection { get; set; }

    public List<string> Bandwidths { get; } = [];

    public List<SdpTiming> Timings { get; } = [];

    public string? TimeZones { get; set; }

    public string? EncryptionKey { get; set; }

    public List<SdpMediaDescription> Media { get; } = [];

    public IReadOnlyList<SdpGroup> Groups => ParseAll<SdpGroup>("group", SdpGroup.TryParse);

    /// <summary>Mids of the first <c>a=group:BUNDLE</c> (RFC 8843), or empty.</summary>
    public IReadOnlyList<string> BundleMids => Groups.FirstOrDefault(g => g.Semantics == "BUNDLE")?.Ids ?? [];

    public SdpMsidSemantic? MsidSemantic
        => GetAttributeValue("msid-semantic") is { } v && SdpMsidSemantic.TryParse(v, out var s) ? s : null;

    public SdpMediaDescription? FindMedia(string mid) => Media.Find(m => m.Mid == mid);

    /// <summary>The section's direction, falling back to a session-level direction attribute, then sendrecv (RFC 8866 §6.7).</summary>
    public SdpDirection GetDirection(SdpMediaDescription media) => media.ExplicitDirection ?? ExplicitDirection ?? SdpDirection.SendRecv;

    public static SessionDescription Parse(string text)
        => TryParse(text, out var sdp, out var error) ? sdp! : throw new SdpParseException(error!);

    /// <summary>Parses an SDP blob. Never throws: malformed input yields false and a reason naming the offending line.</summary>
    public static bool TryParse(string? text, out SessionDescription? sdp, out string? error)
    {
        sdp = null;
        try
        {
            return TryParseCore(text, out sdp, out error);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException or IndexOutOfRangeException)
        {
            // Defensive: the parser validates everything itself; this only guards against a missed case.
            error = "malformed SDP: " + ex.Message;
            return false;
        }
    }

    private static bool TryParseCore(string? text, out SessionDescription? sdp, out string? error)
    {
        sdp = null;
        if (text is null || text.Length == 0) { error = "empty SDP"; return false; }
        if (text.Length > MaxLength) { error = $"SDP is {text.Length} characters, more than the {MaxLength} allowed"; return false; }

        var s = new SessionDescription();
        SdpMediaDescription? media = null;
        int lineNo = 0, sessionFields = 0; // sessionFields: 0 before v=, 1 after v=, 2 after o=, 3 after s=
        int start = 0;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0) end = text.Length;
            string line = text[start..end];
            start = end + 1;
            lineNo++;
            if (line.EndsWith('\r')) line = line[..^1];
            if (line.Length == 0)
            {
                if (start >= text.Length) break; // trailing line break
                error = $"line {lineNo}: empty line"; return false;
            }
            if (line.Length < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
            {
                error = $"line {lineNo}: '{Shorten(line)}' is not a '<type>=<value>' line"; return false;
            }
            foreach (char c in line)
            {
                if (c < ' ' && c != '\t') { error = $"line {lineNo}: control character 0x{(int)c:x2} in '{Shorten(line)}'"; return false; }
            }
            char type = line[0];
            string value = line[2..];

            // RFC 8866 §5: v=, o=, s= are mandatory and come first, in that order.
            if (sessionFields < 3)
            {
                char expected = "vos"[sessionFields];
                if (type != expected)
                {
                    string what = expected switch { 'v' => "'v=0' as the first line", 'o' => "the 'o=' origin line", _ => "the 's=' session name line" };
                    error = $"line {lineNo}: expected {what} but found '{Shorten(line)}'"; return false;
                }
                switch (type)
                {
                    case 'v':
                        if (value != "0") { error = $"line {lineNo}: unsupported version 'v={Shorten(value)}' (only v=0)"; return false; }
                        break;
                    case 'o':
                        if (!SdpOrigin.TryParse(value, out var origin)) { error = $"line {lineNo}: origin '{Shorten(line)}' needs 6 fields: username sess-id sess-version nettype addrtype address"; return false; }
                        s.Origin = origin!;
                        break;
                    default:
                        s.SessionName = value;
                        break;
                }
                sessionFields++;
                continue;
            }

            if (type == 'm')
            {
                if (!TryParseMLine(value, out media, out string? why)) { error = $"line {lineNo}: bad media line '{Shorten(line)}': {why}"; return false; }
                s.Media.Add(media!);
                continue;
            }

            if (media is null)
            {
                switch (type)
                {
                    case 'i': s.Information = value; break;
                    case 'u': s.Uri = value; break;
                    case 'e': s.Emails.Add(value); break;
                    case 'p': s.Phones.Add(value); break;
                    case 'c':
                        if (!SdpConnection.TryParse(value, out var c)) { error = $"line {lineNo}: connection '{Shorten(line)}' needs 3 fields: nettype addrtype address"; return false; }
                        s.Connection = c; break;
                    case 'b': s.Bandwidths.Add(value); break;
                    case 't': s.Timings.Add(new SdpTiming(value)); break;
                    case 'r':
                        if (s.Timings.Count == 0) { error = $"line {lineNo}: 'r=' repeat line without a preceding 't=' line"; return false; }
                        s.Timings[^1].Repeats.Add(value); break;
                    case 'z': s.TimeZones = value; break;
                    case 'k': s.EncryptionKey = value; break;
                    case 'a':
                        if (!TryAddAttribute(s, value, lineNo, out error)) return false;
                        break;
                    case 'v' or 'o' or 's':
                        error = $"line {lineNo}: duplicate '{type}=' line"; return false;
                    default:
                        error = $"line {lineNo}: unknown line type '{type}=' in '{Shorten(line)}'"; return false;
                }
            }
            else
            {
                switch (type)
                {
                    case 'i': media.Information = value; break;
                    case 'c':
                        if (!SdpConnection.TryParse(value, out var c)) { error = $"line {lineNo}: connection '{Shorten(line)}' needs 3 fields: nettype addrtype address"; return false; }
                        media.Connections.Add(c!); break;
                    case 'b': media.Bandwidths.Add(value); break;
                    case 'k': media.EncryptionKey = value; break;
                    case 'a':
                        if (!TryAddAttribute(media, value, lineNo, out error)) return false;
                        break;
                    case 'v' or 'o' or 's' or 'u' or 'e' or 'p' or 't' or 'r' or 'z':
                        error = $"line {lineNo}: '{type}=' is a session-level line and may not appear inside a media section"; return false;
                    default:
                        error = $"line {lineNo}: unknown line type '{type}=' in '{Shorten(line)}'"; return false;
                }
            }
        }

        if (sessionFields < 3)
        {
            error = sessionFields switch { 0 => "missing 'v=' line", 1 => "missing 'o=' line", _ => "missing 's=' line" };
            return false;
        }
        sdp = s;
        error = null;
        return true;
    }

    private static bool TryParseMLine(string value, out SdpMediaDescription? media, out string? why)
    {
        media = null;
        var w = SdpText.Words(value);
        if (w.Length < 3) { why = "expected '<media> <port> <proto> <fmt> ..'"; return false; }
        if (!SdpText.IsToken(w[0])) { why = $"media type '{w[0]}' is not a token"; return false; }
        var portPart = w[1].Split('/');
        if (portPart.Length > 2 || !SdpText.TryInt(portPart[0], 65535, out int port)) { why = $"port '{w[1]}' is not a number 0-65535"; return false; }
        int? count = null;
        if (portPart.Length == 2)
        {
            if (!SdpText.TryInt(portPart[1], 65535, out int n) || n == 0) { why = $"port count '{portPart[1]}' is not a positive number"; return false; }
            count = n;
        }
        media = new SdpMediaDescription(w[0], port, w[2], w[3..]) { PortCount = count };
        if (media.IsRtp)
        {
            if (media.Formats.Count == 0) { why = "an RTP media line needs at least one payload type"; media = null; return false; }
            foreach (var f in media.Formats)
                if (!SdpText.TryPayloadType(f, out _)) { why = $"payload type '{f}' is not a number 0-127"; media = null; return false; }
        }
        why = null;
        return true;
    }

    // Attributes whose defining RFCs allow them only inside a media section (RFC 5888 mid, RFC 8866 rtpmap/fmtp,
    // RFC 4585 rtcp-fb, RFC 5576 ssrc, RFC 8851 rid, RFC 8853 simulcast, RFC 8839 candidate, RFC 8841 sctp-port,
    // RFC 8830 msid, RFC 5761 rtcp-mux, RFC 5506 rtcp-rsize) or only at session level (RFC 5888 group, RFC 8839 ice-lite).
    private static readonly HashSet<string> MediaOnly =
        ["mid", "rtpmap", "fmtp", "rtcp-fb", "ssrc", "ssrc-group", "rid", "simulcast", "candidate", "sctp-port", "msid", "rtcp-mux", "rtcp-rsize"];

    private static readonly HashSet<string> SessionOnly = ["group", "ice-lite"];

    private static bool TryAddAttribute(SdpAttributeHolder holder, string value, int lineNo, out string? error)
    {
        var attr = SdpAttribute.FromLineValue(value);
        if (attr.Name.Length == 0 || !SdpText.IsToken(attr.Name)) { error = $"line {lineNo}: attribute 'a={Shorten(value)}' has no valid name"; return false; }
        if (holder is SessionDescription && MediaOnly.Contains(attr.Name))
        { error = $"line {lineNo}: media-level attribute 'a={Shorten(value)}' appears before any m= section"; return false; }
        if (holder is SdpMediaDescription && SessionOnly.Contains(attr.Name))
        { error = $"line {lineNo}: session-level attribute 'a={Shorten(value)}' appears inside a media section"; return false; }
        string v = attr.Value ?? "";
        string? why = null;
        bool ok = attr.Name switch
        {
            "rtpmap" => SdpRtpMap.TryParse(v, out _, out why),
            "fmtp" => SdpFmtp.TryParse(v, out _, out why),
            "rtcp-fb" => SdpRtcpFeedback.TryParse(v, out _, out why),
            "extmap" => SdpExtmap.TryParse(v, out _, out why),
            "ssrc" => SdpSsrc.TryParse(v, out _, out why),
            "ssrc-group" => SdpSsrcGroup.TryParse(v, out _, out why),
            "rid" => SdpRid.TryParse(v, out _, out why),
            "simulcast" => SdpSimulcast.TryParse(v, out _, out why),
            "fingerprint" => SdpFingerprint.TryParse(v, out _, out why),
            "group" => SdpGroup.TryParse(v, out _, out why),
            "msid" => SdpMsid.TryParse(v, out _, out why),
            "setup" => SdpEnumText.TryParseSetup(v, out _) || Fail("setup must be actpass, active, passive or holdconn", out why),
            "mid" => SdpText.IsToken(v.Trim()) || Fail("mid must be a non-empty token", out why),
            "ice-ufrag" or "ice-pwd" => SdpText.IsToken(v.Trim()) || Fail("value must be a non-empty token", out why),
            _ => true,
        };
        if (!ok) { error = $"line {lineNo}: invalid 'a={Shorten(value)}': {why}"; return false; }
        holder.Attributes.Add(attr);
        error = null;
        return true;
    }

    private static bool Fail(string reason, out string? why)
    {
        why = reason;
        return false;
    }

    private static string Shorten(string line) => line.Length <= 80 ? line : line[..77] + "...";

    /// <summary>Writes the description with CRLF line ends in the RFC 8866 §5 order.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(2048);
        void Line(char type, string value) => sb.Append(type).Append('=').Append(value).Append("\r\n");

        Line('v', SdpText.Inv(Version));
        Line('o', Origin.ToString());
        Line('s', SessionName);
        if (Information is not null) Line('i', Information);
        if (Uri is not null) Line('u', Uri);
        foreach (var e in Emails) Line('e', e);
        foreach (var p in Phones) Line('p', p);
        if (Connection is not null) Line('c', Connection.ToString());
        foreach (var b in Bandwidths) Line('b', b);
        if (Timings.Count == 0) Line('t', "0 0");
        foreach (var t in Timings)
        {
            Line('t', t.Value);
            foreach (var r in t.Repeats) Line('r', r);
        }
        if (TimeZones is not null) Line('z', TimeZones);
        if (EncryptionKey is not null) Line('k', EncryptionKey);
        foreach (var a in Attributes) Line('a', a.ToString());
        foreach (var m in Media)
        {
            Line('m', m.MLine);
            if (m.Information is not null) Line('i', m.Information);
            foreach (var c in m.Connections) Line('c', c.ToString());
            foreach (var b in m.Bandwidths) Line('b', b);
            if (m.EncryptionKey is not null) Line('k', m.EncryptionKey);
            foreach (var a in m.Attributes) Line('a', a.ToString());
        }
        return sb.ToString();
    }
}
