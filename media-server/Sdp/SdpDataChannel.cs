using System.Globalization;

namespace TeleRehab.Media.Sdp;

/// <summary>
/// The SDP of a WebRTC data channel section (RFC 8841, JSEP RFC 8829 §5.1.2): <c>m=application &lt;port&gt;
/// UDP/DTLS/SCTP webrtc-datachannel</c> (or <c>TCP/DTLS/SCTP</c>) with <c>a=sctp-port</c> (§5) and
/// <c>a=max-message-size</c> (§6). The pre-standard form (<c>DTLS/SCTP 5000</c> with <c>a=sctpmap</c>, from
/// draft-ietf-mmusic-sctp-sdp-05 and before) is not understood: such a section is refused (port 0), as an answerer may
/// refuse any section it cannot use (RFC 3264 §6).
/// </summary>
public static class SdpDataChannel
{
    /// <summary>The only format of a data channel section (RFC 8841 §4.1, RFC 8831 §8.1).</summary>
    public const string Format = "webrtc-datachannel";

    /// <summary>The SCTP port when a section has no <c>a=sctp-port</c> (RFC 8841 §5.1).</summary>
    public const int DefaultSctpPort = 5000;

    /// <summary>The largest message a peer can receive when its section has no <c>a=max-message-size</c>
    /// (RFC 8841 §6.1: 64 KiB). A value of 0 means "no limit".</summary>
    public const long DefaultMaxMessageSize = 65536;

    /// <summary>True for the standard protocols of a data channel section (RFC 8841 §4.1).</summary>
    public static bool IsStandardProtocol(string protocol) => protocol is "UDP/DTLS/SCTP" or "TCP/DTLS/SCTP";

    /// <summary>
    /// Reads a section's SCTP port and the largest message its author can receive. False, with a reason, when the
    /// section is not a usable data channel section: another protocol or format (the legacy <c>DTLS/SCTP</c> form
    /// among them), an <c>a=sctp-port</c> that is not a port (1-65535), or an <c>a=max-message-size</c> that is not
    /// a non-negative integer. Absent attributes take their defaults (<see cref="DefaultSctpPort"/>,
    /// <see cref="DefaultMaxMessageSize"/>).
    /// </summary>
    public static bool TryRead(SdpMediaDescription media, out int sctpPort, out long maxMessageSize, out string? reason)
    {
        sctpPort = DefaultSctpPort;
        maxMessageSize = DefaultMaxMessageSize;
        if (media.Kind != "application") { reason = $"'{media.Kind}' is not an application section"; return false; }
        if (!IsStandardProtocol(media.Protocol) || !media.Formats.Contains(Format))
        {
            reason = media.HasAttribute("sctpmap")
                ? "the legacy DTLS/SCTP form with a=sctpmap is not supported (RFC 8841 UDP/DTLS/SCTP webrtc-datachannel is)"
                : $"'{media.Protocol} {string.Join(' ', media.Formats)}' is not UDP/DTLS/SCTP webrtc-datachannel (RFC 8841)";
            return false;
        }
        if (media.GetAttributeValue("sctp-port") is { } portText)
        {
            if (!int.TryParse(portText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out sctpPort) || sctpPort is < 1 or > 65535)
            {
                sctpPort = DefaultSctpPort;
                reason = $"a=sctp-port:{portText} is not a port number";
                return false;
            }
        }
        if (media.GetAttributeValue("max-message-size") is { } sizeText)
        {
            if (!long.TryParse(sizeText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out maxMessageSize))
            {
                maxMessageSize = DefaultMaxMessageSize;
                reason = $"a=max-message-size:{sizeText} is not a non-negative integer";
                return false;
            }
        }
        reason = null;
        return true;
    }

    /// <summary>True when a message of <paramref name="size"/> bytes may be sent to a peer that announced
    /// <paramref name="maxMessageSize"/> (0 means no limit, RFC 8841 §6).</summary>
    public static bool FitsMaxMessageSize(long size, long maxMessageSize) => maxMessageSize == 0 || size <= maxMessageSize;

    internal static void WriteAttributes(SdpMediaDescription media, SdpLocalParameters local)
    {
        media.AddAttribute("sctp-port", SdpText.Inv(local.SctpPort));
        media.AddAttribute("max-message-size", local.MaxMessageSize.ToString(CultureInfo.InvariantCulture));
    }
}
