using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// One negotiated codec of a leg (an rtpmap line plus its fmtp), independent of the SDP types. For RTX
/// (RFC 4588) use the name "rtx" with the associated payload type in <paramref name="Fmtp"/> ("apt=96").
/// </summary>
public sealed record CodecDescription(byte PayloadType, string Name, uint ClockRate, int Channels = 1, string? Fmtp = null);

/// <summary>One negotiated RTP header extension of a leg (an extmap line, RFC 8285 §5).</summary>
public sealed record HeaderExtensionDescription(byte Id, string Uri);

/// <summary>
/// Maps a publisher's payload types to a subscriber's, built on the cold path when both legs are negotiated.
/// Codecs match on name (case-insensitive), clock rate and channels; H.264 also on packetization-mode and the
/// profile part of profile-level-id (RFC 6184 §8.1; the level may differ); RTX on its associated payload type.
/// Per packet: <see cref="TryMap"/> is one table lookup.
/// </summary>
public sealed class PayloadTypeMap
{
    private const byte Unmapped = 0xFF;
    private readonly byte[] _map = new byte[128];

    private PayloadTypeMap() => Array.Fill(_map, Unmapped);

    /// <summary>The publisher's <c>red</c> payload type (RFC 2198), or 0xFF when it negotiated none.</summary>
    public byte PublisherRedPayloadType { get; private set; } = Unmapped;

    /// <summary>True when the subscriber negotiated the publisher's RED too (it can be sent RED as it comes).</summary>
    public bool SubscriberHasRed => PublisherRedPayloadType != Unmapped && _map[PublisherRedPayloadType] != Unmapped;

    /// <summary>The table indexed by publisher payload type (0xFF = none), for the blocks inside a RED payload
    /// (<see cref="RedPayload.TryMapBlockPayloadTypes"/>).</summary>
    public ReadOnlySpan<byte> Table => _map;

    /// <summary>True if <paramref name="payloadType"/> has a counterpart on the subscriber.</summary>
    public bool TryMap(byte payloadType, out byte mapped)
    {
        mapped = payloadType < 128 ? _map[payloadType] : Unmapped;
        return mapped != Unmapped;
    }

    /// <summary>Maps the packet's payload type in place; false (packet unchanged) if the subscriber lacks the codec.</summary>
    public bool TryRewrite(Span<byte> packet)
    {
        if (packet.Length < RtpPacketReader.FixedHeaderLength) return false;
        byte mapped = _map[packet[1] & 0x7F];
        if (mapped == Unmapped) return false;
        packet[1] = (byte)((packet[1] & 0x80) | mapped);
        return true;
    }

    public static PayloadTypeMap Build(IReadOnlyList<CodecDescription> publisher, IReadOnlyList<CodecDescription> subscriber)
    {
        var map = new PayloadTypeMap();
        foreach (var pub in publisher)
        {
            if (pub.PayloadType > 127 || IsRtx(pub)) continue;
            if (pub.Name.Equals("red", StringComparison.OrdinalIgnoreCase) && map.PublisherRedPayloadType == Unmapped)
                map.PublisherRedPayloadType = pub.PayloadType;
            foreach (var sub in subscriber)
            {
                if (sub.PayloadType > 127 || IsRtx(sub) || !Matches(pub, sub)) continue;
                map._map[pub.PayloadType] = sub.PayloadType;
                break;
            }
        }
        // RTX: the publisher's rtx PT maps to the subscriber's rtx PT whose apt is the mapped media PT.
        foreach (var pub in publisher)
        {
            if (pub.PayloadType > 127 || !IsRtx(pub) || GetApt(pub) is not { } apt || !map.TryMap(apt, out byte mappedApt)) continue;
            foreach (var sub in subscriber)
            {
                if (sub.PayloadType > 127 || !IsRtx(sub) || sub.ClockRate != pub.ClockRate || GetApt(sub) != mappedApt) continue;
                map._map[pub.PayloadType] = sub.PayloadType;
                break;
            }
        }
        return map;
    }

    /// <summary>The RTX payload type the subscriber negotiated for its media payload type (for <see cref="NackResponder"/>).</summary>
    public static IEnumerable<(byte MediaPayloadType, byte RtxPayloadType)> GetRtxPairs(IReadOnlyList<CodecDescription> codecs)
    {
        foreach (var c in codecs)
            if (IsRtx(c) && GetApt(c) is { } apt) yield return (apt, c.PayloadType);
    }

    private static bool IsRtx(CodecDescription c) => c.Name.Equals("rtx", StringComparison.OrdinalIgnoreCase);

    private static bool Matches(CodecDescription a, CodecDescription b)
    {
        if (!a.Name.Equals(b.Name, StringComparison.OrdinalIgnoreCase) || a.ClockRate != b.ClockRate || a.Channels != b.Channels) return false;
        if (a.Name.Equals("H264", StringComparison.OrdinalIgnoreCase))
        {
            if ((GetParameter(a.Fmtp, "packetization-mode") ?? "0") != (GetParameter(b.Fmtp, "packetization-mode") ?? "0")) return false;
            // profile_idc and profile-iop (first 4 hex digits); RFC 6184 §8.1 default is 420010 (baseline).
            string pa = GetParameter(a.Fmtp, "profile-level-id") ?? "420010";
            string pb = GetParameter(b.Fmtp, "profile-level-id") ?? "420010";
            if (pa.Length != 6 || pb.Length != 6) return false;
            return pa.AsSpan(0, 4).Equals(pb.AsSpan(0, 4), StringComparison.OrdinalIgnoreCase);
        }
        if (a.Name.Equals("VP9", StringComparison.OrdinalIgnoreCase))
            return (GetParameter(a.Fmtp, "profile-id") ?? "0") == (GetParameter(b.Fmtp, "profile-id") ?? "0");
        return true;
    }

    private static byte? GetApt(CodecDescription c) =>
        byte.TryParse(GetParameter(c.Fmtp, "apt"), out byte apt) && apt < 128 ? apt : null;

    /// <summary>Value of <paramref name="name"/> in an fmtp parameter list "a=1;b=2" (RFC 4566 §6), or null.</summary>
    internal static string? GetParameter(string? fmtp, string name)
    {
        if (fmtp is null) return null;
        foreach (var part in fmtp.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq > 0 && part.AsSpan(0, eq).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                return part[(eq + 1)..].Trim();
        }
        return null;
    }
}

/// <summary>
/// Maps a publisher's header-extension ids to a subscriber's by URI equality (RFC 8285 §5), built on the cold
/// path. Extensions the subscriber did not negotiate map to 0, which <see cref="TryRewrite"/> turns into padding
/// (RFC 8285 §4.2), so a subscriber never sees an id it did not agree to.
/// </summary>
public sealed class ExtensionIdMap
{
    private readonly byte[] _map = new byte[256];

    private ExtensionIdMap() { }

    /// <summary>The table indexed by publisher id (0 = remove), as <see cref="RtpPacketRewriter.TryRemapExtensionIds"/> takes.</summary>
    public ReadOnlySpan<byte> Table => _map;

    public bool TryMap(byte id, out byte mapped)
    {
        mapped = _map[id];
        return mapped != 0;
    }

    /// <summary>Rewrites every extension element id of the packet in place; false if the packet is malformed.</summary>
    public bool TryRewrite(Span<byte> packet) => RtpPacketRewriter.TryRemapExtensionIds(packet, _map);

    public static ExtensionIdMap Build(IReadOnlyList<HeaderExtensionDescription> publisher, IReadOnlyList<HeaderExtensionDescription> subscriber)
    {
        var map = new ExtensionIdMap();
        foreach (var pub in publisher)
        {
            if (pub.Id == 0) continue;
            foreach (var sub in subscriber)
            {
                if (sub.Id == 0 || !string.Equals(pub.Uri, sub.Uri, StringComparison.Ordinal)) continue;
                map._map[pub.Id] = sub.Id;
                break;
            }
        }
        return map;
    }
}
