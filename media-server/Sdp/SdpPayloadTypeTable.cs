namespace TeleRehab.Media.Sdp;

/// <summary>One payload type per codec (and one rtx payload type per video codec) for every m-section of an offer.
/// Inside a BUNDLE group all sections share one transport, so a payload type may be reused by several sections as long
/// as it means the same codec configuration everywhere (RFC 8843 §9.1.2; JSEP RFC 8829 §5.2.1 lets the offerer pick
/// them). This is what browsers do, and it keeps the 61 dynamic payload types from running out when a peer receives
/// many tracks.</summary>
/// <remarks>The assignment is a pure function of the codec list, in order: a codec first gets its preferred payload type
/// (and a video codec its preferred rtx payload type) when no earlier codec wanted it, then the rest are filled from
/// 96–127 and 35–63. A new <see cref="SdpOfferer"/> built from the same <see cref="SdpLocalParameters"/> therefore
/// assigns the same numbers again, so renegotiations keep every codec's payload type.</remarks>
public sealed class SdpPayloadTypeTable
{
    private readonly Dictionary<CodecKey, (int? Pt, int? Rtx)> _byCodec = [];

    /// <summary>Builds the table for <paramref name="codecs"/> (duplicates by codec configuration collapse into the first).
    /// Codecs that find no free payload type stay unassigned; <see cref="TryGet"/> is false for them.</summary>
    public SdpPayloadTypeTable(IEnumerable<SdpCodecCapability> codecs)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        var order = new List<(CodecKey Key, SdpCodecCapability Cap)>();
        foreach (var cap in codecs)
        {
            if (cap.Kind is not ("audio" or "video")) continue;
            var key = CodecKey.Of(cap);
            if (_byCodec.TryAdd(key, (null, null))) order.Add((key, cap));
        }

        var used = new HashSet<int>();
        // Pass 1: preferred numbers, first come first served, so one codec's fallback never takes another's preference.
        foreach (var (key, cap) in order)
        {
            int? pt = IsDynamic(cap.PreferredPayloadType) && used.Add(cap.PreferredPayloadType) ? cap.PreferredPayloadType : null;
            int? rtx = HasRtx(cap) && cap.PreferredRtxPayloadType is { } prx && IsDynamic(prx) && used.Add(prx) ? prx : null;
            _byCodec[key] = (pt, rtx);
        }
        // Pass 2: the rest, in codec order; an rtx without a preference tries pt + 1 first, as browsers pair them.
        foreach (var (key, cap) in order)
        {
            var (pt, rtx) = _byCodec[key];
            pt ??= Allocate(used, null);
            if (HasRtx(cap) && rtx is null && pt is { } p) rtx = Allocate(used, p + 1);
            _byCodec[key] = (pt, rtx);
        }
    }

    /// <summary>The payload type of <paramref name="codec"/> and, for video, its rtx payload type (RFC 4588).</summary>
    public bool TryGet(SdpCodecCapability codec, out int payloadType, out int? rtxPayloadType)
    {
        ArgumentNullException.ThrowIfNull(codec);
        payloadType = 0;
        rtxPayloadType = null;
        if (!_byCodec.TryGetValue(CodecKey.Of(codec), out var entry) || entry.Pt is not { } pt) return false;
        if (HasRtx(codec) && entry.Rtx is null) return false;
        payloadType = pt;
        rtxPayloadType = HasRtx(codec) ? entry.Rtx : null;
        return true;
    }

    /// <summary>Every assigned payload type (media and rtx).</summary>
    public IEnumerable<int> AssignedPayloadTypes
        => _byCodec.Values.SelectMany(v => new[] { v.Pt, v.Rtx }).Where(p => p is not null).Select(p => p!.Value);

    // The offerer pairs every video codec with rtx (RFC 4588) and no audio codec.
    private static bool HasRtx(SdpCodecCapability cap) => cap.Kind == "video";

    private static bool IsDynamic(int pt) => pt is >= 96 and <= 127;

    private static int? Allocate(HashSet<int> used, int? preferred)
    {
        if (preferred is { } p && IsDynamic(p) && used.Add(p)) return p;
        for (int pt = 96; pt <= 127; pt++)
            if (used.Add(pt)) return pt;
        // The other dynamic range browsers use (RFC 3551 leaves 35–63 unassigned; 64–95 would clash with RTCP, RFC 5761 §4).
        for (int pt = 35; pt <= 63; pt++)
            if (used.Add(pt)) return pt;
        return null;
    }

    /// <summary>What makes two codec entries the same payload type: kind, name (case-insensitive, RFC 4855 §3),
    /// clock rate, channels (absent = 1) and the exact fmtp.</summary>
    private readonly record struct CodecKey(string Kind, string Name, int ClockRate, int Channels, string Fmtp)
    {
        public static CodecKey Of(SdpCodecCapability c)
            => new(c.Kind, c.Name.ToUpperInvariant(), c.ClockRate, c.Channels ?? 1, c.Fmtp?.Trim() ?? "");
    }
}
