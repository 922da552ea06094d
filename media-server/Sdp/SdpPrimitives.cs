namespace TeleRehab.Media.Sdp;

/// <summary>Thrown by <see cref="SessionDescription.Parse"/> when the text is not a valid session description.</summary>
public sealed class SdpParseException : FormatException
{
    public SdpParseException(string reason) : base(reason) => Reason = reason;

    /// <summary>Human-readable reason, naming the offending line.</summary>
    public string Reason { get; }
}

/// <summary>One <c>a=</c> line. <see cref="Value"/> is null for property attributes (<c>a=rtcp-mux</c>) and kept verbatim otherwise.</summary>
public sealed record SdpAttribute(string Name, string? Value)
{
    public override string ToString() => Value is null ? Name : Name + ":" + Value;

    /// <summary>Splits the text after <c>a=</c> at the first colon (RFC 8866 §5.13).</summary>
    public static SdpAttribute FromLineValue(string text)
    {
        int colon = text.IndexOf(':');
        return colon < 0 ? new SdpAttribute(text, null) : new SdpAttribute(text[..colon], text[(colon + 1)..]);
    }
}

/// <summary>Media direction attribute (RFC 8866 §6.7). Also used as a server-side view in <see cref="NegotiatedMedia"/>.</summary>
public enum SdpDirection
{
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// <summary><c>a=setup</c> role (RFC 4145 §4, RFC 5763).</summary>
public enum SdpSetupRole
{
    ActPass,
    Active,
    Passive,
    HoldConn,
}

/// <summary>Direction of an <c>a=rid</c> line (RFC 8851).</summary>
public enum SdpRidDirection
{
    Send,
    Recv,
}

public static class SdpEnumText
{
    public static string ToSdp(this SdpDirection direction) => direction switch
    {
        SdpDirection.SendRecv => "sendrecv",
        SdpDirection.SendOnly => "sendonly",
        SdpDirection.RecvOnly => "recvonly",
        _ => "inactive",
    };

    public static bool TryParseDirection(string? text, out SdpDirection direction)
    {
        switch (text)
        {
            case "sendrecv": direction = SdpDirection.SendRecv; return true;
            case "sendonly": direction = SdpDirection.SendOnly; return true;
            case "recvonly": direction = SdpDirection.RecvOnly; return true;
            case "inactive": direction = SdpDirection.Inactive; return true;
            default: direction = SdpDirection.SendRecv; return false;
        }
    }

    /// <summary>The same stream seen from the other end (sendonly &lt;-&gt; recvonly).</summary>
    public static SdpDirection Reverse(this SdpDirection direction) => direction switch
    {
        SdpDirection.SendOnly => SdpDirection.RecvOnly,
        SdpDirection.RecvOnly => SdpDirection.SendOnly,
        _ => direction,
    };

    public static bool Sends(this SdpDirection d) => d is SdpDirection.SendRecv or SdpDirection.SendOnly;

    public static bool Receives(this SdpDirection d) => d is SdpDirection.SendRecv or SdpDirection.RecvOnly;

    public static string ToSdp(this SdpSetupRole role) => role switch
    {
        SdpSetupRole.ActPass => "actpass",
        SdpSetupRole.Active => "active",
        SdpSetupRole.Passive => "passive",
        _ => "holdconn",
    };

    public static bool TryParseSetup(string? text, out SdpSetupRole role)
    {
        switch (text?.Trim())
        {
            case "actpass": role = SdpSetupRole.ActPass; return true;
            case "active": role = SdpSetupRole.Active; return true;
            case "passive": role = SdpSetupRole.Passive; return true;
            case "holdconn": role = SdpSetupRole.HoldConn; return true;
            default: role = SdpSetupRole.ActPass; return false;
        }
    }

    public static string ToSdp(this SdpRidDirection d) => d == SdpRidDirection.Send ? "send" : "recv";
}

/// <summary>Origin line <c>o=username sess-id sess-version nettype addrtype address</c> (RFC 8866 §5.2).</summary>
public sealed record SdpOrigin(string Username, string SessionId, string SessionVersion, string NetType, string AddressType, string Address)
{
    public override string ToString() => $"{Username} {SessionId} {SessionVersion} {NetType} {AddressType} {Address}";

    internal static bool TryParse(string value, out SdpOrigin? origin)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        origin = parts.Length == 6 ? new SdpOrigin(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]) : null;
        return origin is not null;
    }
}

/// <summary>Connection line <c>c=nettype addrtype address</c> (RFC 8866 §5.7).</summary>
public sealed record SdpConnection(string NetType, string AddressType, string Address)
{
    public static SdpConnection Ip4Any { get; } = new("IN", "IP4", "0.0.0.0");

    public override string ToString() => $"{NetType} {AddressType} {Address}";

    internal static bool TryParse(string value, out SdpConnection? connection)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        connection = parts.Length == 3 ? new SdpConnection(parts[0], parts[1], parts[2]) : null;
        return connection is not null;
    }
}

/// <summary>A <c>t=</c> line with the <c>r=</c> lines that follow it (kept verbatim).</summary>
public sealed class SdpTiming
{
    public SdpTiming(string value) => Value = value;

    public string Value { get; set; }

    public List<string> Repeats { get; } = [];
}
