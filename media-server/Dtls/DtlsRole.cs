namespace TeleRehab.Media.Dtls;

/// <summary>Our DTLS role for one peer.</summary>
public enum DtlsRole
{
    /// <summary>DTLS client: sends the ClientHello (SDP <c>a=setup:active</c>).</summary>
    Client,
    /// <summary>DTLS server: waits for the ClientHello (SDP <c>a=setup:passive</c>).</summary>
    Server,
}

/// <summary>Values of the SDP <c>a=setup</c> attribute (RFC 4145 §4, RFC 5763 §5).</summary>
public enum DtlsSetup
{
    Active,
    Passive,
    ActPass,
    HoldConn,
}

/// <summary>Decides the DTLS role from the SDP <c>a=setup</c> negotiation (RFC 5763 §5, RFC 8842 §5).</summary>
public static class DtlsRoleNegotiation
{
    /// <summary>Parses <c>active|passive|actpass|holdconn</c> (optionally prefixed by <c>a=setup:</c>), case-insensitive.</summary>
    public static bool TryParseSetup(ReadOnlySpan<char> text, out DtlsSetup setup)
    {
        text = text.Trim();
        if (text.StartsWith("a=", StringComparison.OrdinalIgnoreCase)) text = text[2..];
        if (text.StartsWith("setup:", StringComparison.OrdinalIgnoreCase)) text = text[6..];
        if (text.Equals("active", StringComparison.OrdinalIgnoreCase)) { setup = DtlsSetup.Active; return true; }
        if (text.Equals("passive", StringComparison.OrdinalIgnoreCase)) { setup = DtlsSetup.Passive; return true; }
        if (text.Equals("actpass", StringComparison.OrdinalIgnoreCase)) { setup = DtlsSetup.ActPass; return true; }
        if (text.Equals("holdconn", StringComparison.OrdinalIgnoreCase)) { setup = DtlsSetup.HoldConn; return true; }
        setup = default;
        return false;
    }

    /// <summary>SDP token for a setup value.</summary>
    public static string ToSdp(DtlsSetup setup) => setup switch
    {
        DtlsSetup.Active => "active",
        DtlsSetup.Passive => "passive",
        DtlsSetup.ActPass => "actpass",
        _ => "holdconn",
    };

    /// <summary>
    /// We are the answerer and <paramref name="remoteOfferSetup"/> came in the offer: choose our role and the
    /// setup value to put in the answer. An <c>actpass</c> offer is answered with <c>active</c> (RFC 8842 §5.3
    /// recommends the answerer take the client role). Returns false for <c>holdconn</c>.
    /// </summary>
    public static bool TryDecideAsAnswerer(DtlsSetup remoteOfferSetup, out DtlsRole role, out DtlsSetup answerSetup)
    {
        switch (remoteOfferSetup)
        {
            case DtlsSetup.ActPass:
            case DtlsSetup.Passive:
                role = DtlsRole.Client; answerSetup = DtlsSetup.Active; return true;
            case DtlsSetup.Active:
                role = DtlsRole.Server; answerSetup = DtlsSetup.Passive; return true;
            default:
                role = default; answerSetup = default; return false;
        }
    }

    /// <summary>
    /// We were the offerer (we offered <c>actpass</c>, RFC 5763 §5) and <paramref name="remoteAnswerSetup"/> came in
    /// the answer: <c>active</c> makes us the server, <c>passive</c> the client. <c>actpass</c>/<c>holdconn</c> are
    /// not valid in an answer and return false.
    /// </summary>
    public static bool TryDecideAsOfferer(DtlsSetup remoteAnswerSetup, out DtlsRole role)
    {
        switch (remoteAnswerSetup)
        {
            case DtlsSetup.Active: role = DtlsRole.Server; return true;
            case DtlsSetup.Passive: role = DtlsRole.Client; return true;
            default: role = default; return false;
        }
    }

    /// <summary>
    /// Convenience: role from the remote SDP's setup attribute text. <paramref name="weAreOfferer"/> tells whether
    /// the remote text is an answer to our offer (true) or an offer we answer (false).
    /// </summary>
    public static bool TryDecide(ReadOnlySpan<char> remoteSetup, bool weAreOfferer, out DtlsRole role)
    {
        role = default;
        if (!TryParseSetup(remoteSetup, out var setup))
            return false;
        return weAreOfferer ? TryDecideAsOfferer(setup, out role) : TryDecideAsAnswerer(setup, out role, out _);
    }
}
