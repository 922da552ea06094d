using System.Globalization;

namespace TeleRehab.Media.Sdp;

internal static class SdpText
{
    public static readonly char[] Space = [' '];

    public static string[] Words(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static bool TryPayloadType(string s, out int pt)
        => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out pt) && pt <= 127;

    public static bool TryUInt(string s, out uint v) => uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);

    public static bool TryInt(string s, int max, out int v)
        => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v) && v <= max;

    public static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static string Inv(uint v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>RFC 8866 token characters (no whitespace, no control characters).</summary>
    public static bool IsToken(string s)
    {
        if (s.Length == 0) return false;
        foreach (char c in s)
            if (c <= ' ' || c >= 0x7f) return false;
        return true;
    }
}

/// <summary><c>a=fingerprint:sha-256 AB:CD:..</c> (RFC 8122 §5).</summary>
public sealed record SdpFingerprint(string Algorithm, string Value)
{
    public override string ToString() => Algorithm + " " + Value;

    public static bool TryParse(string text, out SdpFingerprint? fingerprint, out string? error)
    {
        fingerprint = null;
        var w = SdpText.Words(text);
        if (w.Length != 2) { error = "expected '<hash-function> <hex:hex:..>'"; return false; }
        var hex = w[1].Split(':');
        foreach (var h in hex)
        {
            if (h.Length != 2 || !Uri.IsHexDigit(h[0]) || !Uri.IsHexDigit(h[1]))
            { error = $"fingerprint '{w[1]}' is not colon-separated hex bytes"; return false; }
        }
        fingerprint = new SdpFingerprint(w[0].ToLowerInvariant(), w[1].ToUpperInvariant());
        error = null;
        return true;
    }
}

/// <summary><c>a=group:BUNDLE 0 1</c> (RFC 5888).</summary>
public sealed record SdpGroup(string Semantics, IReadOnlyList<string> Ids)
{
    public override string ToString() => Ids.Count == 0 ? Semantics : Semantics + " " + string.Join(' ', Ids);

    public static bool TryParse(string text, out SdpGroup? group, out string? error)
    {
        var w = SdpText.Words(text);
        group = null;
        if (w.Length == 0) { error = "missing group semantics"; return false; }
        group = new SdpGroup(w[0], w[1..]);
        error = null;
        return true;
    }
}

/// <summary><c>a=msid-semantic: WMS *</c> (Chromium/Firefox legacy attribute).</summary>
public sealed record SdpMsidSemantic(string Semantic, IReadOnlyList<string> Identifiers)
{
    public override string ToString() => Identifiers.Count == 0 ? Semantic : Semantic + " " + string.Join(' ', Identifiers);

    public static bool TryParse(string text, out SdpMsidSemantic? value)
    {
        var w = SdpText.Words(text);
        value = w.Length == 0 ? null : new SdpMsidSemantic(w[0], w[1..]);
        return value is not null;
    }
}

/// <summary><c>a=rtpmap:96 VP8/90000</c> (RFC 8866 §6.6).</summary>
public sealed record SdpRtpMap(int PayloadType, string EncodingName, int ClockRate, int? Channels)
{
    public override string ToString()
        => $"{SdpText.Inv(PayloadType)} {EncodingName}/{SdpText.Inv(ClockRate)}" + (Channels is { } c ? "/" + SdpText.Inv(c) : "");

    public static bool TryParse(string text, out SdpRtpMap? map, out string? error)
    {
        map = null;
        var w = SdpText.Words(text);
        if (w.Length != 2) { error = "expected '<payload type> <encoding name>/<clock rate>[/<channels>]'"; return false; }
        if (!SdpText.TryPayloadType(w[0], out int pt)) { error = $"payload type '{w[0]}' is not a number 0-127"; return false; }
        var enc = w[1].Split('/');
        if (enc.Length is < 2 or > 3 || enc[0].Length == 0) { error = $"encoding '{w[1]}' is not '<name>/<clock rate>[/<channels>]'"; return false; }
        if (!SdpText.TryInt(enc[1], 10_000_000, out int rate) || rate == 0) { error = $"clock rate '{enc[1]}' is not a positive number"; return false; }
        int? channels = null;
        if (enc.Length == 3)
        {
            if (!SdpText.TryInt(enc[2], 255, out int ch) || ch == 0) { error = $"channel count '{enc[2]}' is not a number 1-255"; return false; }
            channels = ch;
        }
        map = new SdpRtpMap(pt, enc[0], rate, channels);
        error = null;
        return true;
    }
}

/// <summary><c>a=fmtp:96 a=1;b=2</c> (RFC 8866 §6.15). Parameters are kept verbatim.</summary>
public sealed record SdpFmtp(int PayloadType, string Parameters)
{
    public override string ToString() => SdpText.Inv(PayloadType) + " " + Parameters;

    /// <summary>Splits <c>key=value;key2=value2</c> into a case-insensitive map (keys without '=' map to "").</summary>
    public IReadOnlyDictionary<string, string> ToDictionary() => ParseParameters(Parameters);

    public static Dictionary<string, string> ParseParameters(string? parameters)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(parameters)) return d;
        foreach (var part in parameters.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq < 0) d[part] = "";
            else d[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }
        return d;
    }

    public static bool TryParse(string text, out SdpFmtp? fmtp, out string? error)
    {
        fmtp = null;
        int sp = text.IndexOf(' ');
        string ptText = sp < 0 ? text : text[..sp];
        if (!SdpText.TryPayloadType(ptText, out int pt)) { error = $"payload type '{ptText}' is not a number 0-127"; return false; }
        fmtp = new SdpFmtp(pt, sp < 0 ? "" : text[(sp + 1)..].Trim());
        error = null;
        return true;
    }
}

/// <summary><c>a=rtcp-fb:96 nack pli</c> (RFC 4585 §4.2). <see cref="PayloadType"/> is null for the wildcard <c>*</c>.</summary>
public sealed record SdpRtcpFeedback(int? PayloadType, string Type, string? Parameter)
{
    public override string ToString()
        => (PayloadType is { } pt ? SdpText.Inv(pt) : "*") + " " + Type + (Parameter is null ? "" : " " + Parameter);

    /// <summary>The feedback without its payload type, e.g. "nack pli".</summary>
    public string Kind => Parameter is null ? Type : Type + " " + Parameter;

    public static bool TryParse(string text, out SdpRtcpFeedback? fb, out string? error)
    {
        fb = null;
        var w = SdpText.Words(text);
        if (w.Length < 2) { error = "expected '<payload type> <feedback type> [<parameter>]'"; return false; }
        int? pt = null;
        if (w[0] != "*")
        {
            if (!SdpText.TryPayloadType(w[0], out int p)) { error = $"payload type '{w[0]}' is not a number 0-127 or '*'"; return false; }
            pt = p;
        }
        fb = new SdpRtcpFeedback(pt, w[1], w.Length > 2 ? string.Join(' ', w[2..]) : null);
        error = null;
        return true;
    }
}

/// <summary><c>a=extmap:3/sendonly urn:.. [attributes]</c> (RFC 8285 §7).</summary>
public sealed record SdpExtmap(int Id, SdpDirection? Direction, string Uri, string? Attributes = null)
{
    public override string ToString()
        => SdpText.Inv(Id) + (Direction is { } d ? "/" + d.ToSdp() : "") + " " + Uri + (Attributes is null ? "" : " " + Attributes);

    public static bool TryParse(string text, out SdpExtmap? extmap, out string? error)
    {
        extmap = null;
        var w = SdpText.Words(text);
        if (w.Length < 2) { error = "expected '<id>[/<direction>] <uri> [<attributes>]'"; return false; }
        var idPart = w[0].Split('/');
        // One-byte ids are 1-14, two-byte ids 1-255 (RFC 8285 §4.2, §4.3).
        if (idPart.Length > 2 || !SdpText.TryInt(idPart[0], 255, out int id) || id == 0)
        { error = $"extension id '{w[0]}' is not a number 1-255"; return false; }
        SdpDirection? dir = null;
        if (idPart.Length == 2)
        {
            if (!SdpEnumText.TryParseDirection(idPart[1], out var d)) { error = $"extension direction '{idPart[1]}' is not sendrecv/sendonly/recvonly/inactive"; return false; }
            dir = d;
        }
        extmap = new SdpExtmap(id, dir, w[1], w.Length > 2 ? string.Join(' ', w[2..]) : null);
        error = null;
        return true;
    }
}

/// <summary><c>a=ssrc:1234 cname:abc</c> (RFC 5576 §4.1).</summary>
public sealed record SdpSsrc(uint Ssrc, string Attribute, string? Value)
{
    public override string ToString() => SdpText.Inv(Ssrc) + " " + Attribute + (Value is null ? "" : ":" + Value);

    public static bool TryParse(string text, out SdpSsrc? ssrc, out string? error)
    {
        ssrc = null;
        int sp = text.IndexOf(' ');
        string idText = sp < 0 ? text : text[..sp];
        if (!SdpText.TryUInt(idText, out uint id)) { error = $"ssrc '{idText}' is not a 32-bit number"; return false; }
        string rest = sp < 0 ? "" : text[(sp + 1)..].Trim();
        if (rest.Length == 0) { error = "missing ssrc attribute"; return false; }
        int colon = rest.IndexOf(':');
        ssrc = colon < 0 ? new SdpSsrc(id, rest, null) : new SdpSsrc(id, rest[..colon], rest[(colon + 1)..]);
        error = null;
        return true;
    }
}

/// <summary><c>a=ssrc-group:FID 1 2</c> (RFC 5576 §4.2).</summary>
public sealed record SdpSsrcGroup(string Semantics, IReadOnlyList<uint> Ssrcs)
{
    public override string ToString() => Semantics + " " + string.Join(' ', Ssrcs.Select(SdpText.Inv));

    public static bool TryParse(string text, out SdpSsrcGroup? group, out string? error)
    {
        group = null;
        var w = SdpText.Words(text);
        if (w.Length < 2) { error = "expected '<semantics> <ssrc> ..'"; return false; }
        var list = new uint[w.Length - 1];
        for (int i = 1; i < w.Length; i++)
            if (!SdpText.TryUInt(w[i], out list[i - 1])) { error = $"ssrc '{w[i]}' is not a 32-bit number"; return false; }
        group = new SdpSsrcGroup(w[0], list);
        error = null;
        return true;
    }
}

/// <summary><c>a=msid:stream track</c> (RFC 8830 §2).</summary>
public sealed record SdpMsid(string StreamId, string? TrackId)
{
    public override string ToString() => TrackId is null ? StreamId : StreamId + " " + TrackId;

    public static bool TryParse(string text, out SdpMsid? msid, out string? error)
    {
        msid = null;
        var w = SdpText.Words(text);
        if (w.Length is < 1 or > 2) { error = "expected '<stream id> [<track id>]'"; return false; }
        msid = new SdpMsid(w[0], w.Length > 1 ? w[1] : null);
        error = null;
        return true;
    }
}

/// <summary><c>a=rid:h send pt=96;max-width=1280</c> (RFC 8851 §10).</summary>
public sealed record SdpRid(string Id, SdpRidDirection Direction, IReadOnlyList<int> PayloadTypes, IReadOnlyList<KeyValuePair<string, string?>> Restrictions)
{
    public override string ToString()
    {
        var parts = new List<string>();
        if (PayloadTypes.Count > 0) parts.Add("pt=" + string.Join(',', PayloadTypes.Select(SdpText.Inv)));
        foreach (var (k, v) in Restrictions) parts.Add(v is null ? k : k + "=" + v);
        return Id + " " + Direction.ToSdp() + (parts.Count == 0 ? "" : " " + string.Join(';', parts));
    }

    public SdpRid WithDirection(SdpRidDirection direction) => this with { Direction = direction };

    public static bool TryParse(string text, out SdpRid? rid, out string? error)
    {
        rid = null;
        var w = text.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (w.Length < 2) { error = "expected '<rid-id> send|recv [<restrictions>]'"; return false; }
        // rid-syntax: 1*(alpha-numeric / "-" / "_") (RFC 8851 §10).
        foreach (char c in w[0])
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_') { error = $"rid id '{w[0]}' contains '{c}'"; return false; }
        SdpRidDirection dir;
        if (w[1] == "send") dir = SdpRidDirection.Send;
        else if (w[1] == "recv") dir = SdpRidDirection.Recv;
        else { error = $"rid direction '{w[1]}' is not 'send' or 'recv'"; return false; }
        var pts = new List<int>();
        var restrictions = new List<KeyValuePair<string, string?>>();
        if (w.Length == 3)
        {
            foreach (var part in w[2].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = part.IndexOf('=');
                string key = eq < 0 ? part : part[..eq];
                string? val = eq < 0 ? null : part[(eq + 1)..];
                if (key == "pt")
                {
                    foreach (var p in (val ?? "").Split(','))
                    {
                        if (!SdpText.TryPayloadType(p, out int pt)) { error = $"rid payload type '{p}' is not a number 0-127"; return false; }
                        pts.Add(pt);
                    }
                }
                else restrictions.Add(new(key, val));
            }
        }
        rid = new SdpRid(w[0], dir, pts, restrictions);
        error = null;
        return true;
    }
}

/// <summary>One rid inside an <c>a=simulcast</c> stream list; <c>~</c> marks it paused (RFC 8853 §5.1).</summary>
public sealed record SdpSimulcastRid(string Rid, bool Paused)
{
    public override string ToString() => Paused ? "~" + Rid : Rid;
}

/// <summary><c>a=simulcast:send h;m;l recv a,b</c> (RFC 8853 §5.1): each direction holds streams, each stream holds alternatives.</summary>
public sealed record SdpSimulcast(IReadOnlyList<IReadOnlyList<SdpSimulcastRid>> Send, IReadOnlyList<IReadOnlyList<SdpSimulcastRid>> Recv)
{
    public override string ToString()
    {
        var parts = new List<string>();
        if (Send.Count > 0) parts.Add("send " + Format(Send));
        if (Recv.Count > 0) parts.Add("recv " + Format(Recv));
        return string.Join(' ', parts);
    }

    private static string Format(IReadOnlyList<IReadOnlyList<SdpSimulcastRid>> streams)
        => string.Join(';', streams.Select(s => string.Join(',', s)));

    public static bool TryParse(string text, out SdpSimulcast? simulcast, out string? error)
    {
        simulcast = null;
        var w = SdpText.Words(text);
        List<IReadOnlyList<SdpSimulcastRid>>? send = null, recv = null;
        int i = 0;
        while (i < w.Length)
        {
            string dir = w[i];
            if (dir != "send" && dir != "recv") { error = $"simulcast direction '{dir}' is not 'send' or 'recv'"; return false; }
            if ((dir == "send" ? send : recv) is not null) { error = $"simulcast direction '{dir}' appears twice"; return false; }
            if (i + 1 >= w.Length) { error = $"simulcast '{dir}' has no stream list"; return false; }
            string list = w[i + 1];
            if (list.StartsWith("rid=", StringComparison.Ordinal)) list = list[4..]; // draft-ietf-mmusic-sdp-simulcast-13 form (old Firefox)
            var streams = new List<IReadOnlyList<SdpSimulcastRid>>();
            foreach (var stream in list.Split(';'))
            {
                var alts = new List<SdpSimulcastRid>();
                foreach (var alt in stream.Split(','))
                {
                    bool paused = alt.StartsWith('~');
                    string id = paused ? alt[1..] : alt;
                    if (id.Length == 0) { error = $"simulcast stream list '{w[i + 1]}' has an empty rid"; return false; }
                    alts.Add(new SdpSimulcastRid(id, paused));
                }
                streams.Add(alts);
            }
            if (dir == "send") send = streams; else recv = streams;
            i += 2;
        }
        if (send is null && recv is null) { error = "simulcast has neither 'send' nor 'recv'"; return false; }
        simulcast = new SdpSimulcast(send ?? [], recv ?? []);
        error = null;
        return true;
    }
}
