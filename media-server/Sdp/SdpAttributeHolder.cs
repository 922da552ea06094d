namespace TeleRehab.Media.Sdp;

/// <summary>Attribute list shared by the session level and each media section, with typed accessors.
/// Attributes are kept verbatim and in order so unknown ones survive a round trip.</summary>
public abstract class SdpAttributeHolder
{
    public List<SdpAttribute> Attributes { get; } = [];

    public SdpAttribute? GetAttribute(string name) => Attributes.Find(a => a.Name == name);

    public IEnumerable<SdpAttribute> GetAttributes(string name) => Attributes.Where(a => a.Name == name);

    public string? GetAttributeValue(string name) => GetAttribute(name)?.Value;

    public bool HasAttribute(string name) => Attributes.Exists(a => a.Name == name);

    public void AddAttribute(string name, string? value = null) => Attributes.Add(new SdpAttribute(name, value));

    public int RemoveAttributes(string name) => Attributes.RemoveAll(a => a.Name == name);

    /// <summary>Replaces every attribute of that name with one line at the position of the first (a null value writes a flag attribute).</summary>
    public void SetAttribute(string name, string? value)
    {
        int index = Attributes.FindIndex(a => a.Name == name);
        RemoveAttributes(name);
        var attribute = new SdpAttribute(name, value);
        if (index < 0 || index > Attributes.Count) Attributes.Add(attribute);
        else Attributes.Insert(index, attribute);
    }

    public string? IceUfrag => GetAttributeValue("ice-ufrag")?.Trim();

    public string? IcePwd => GetAttributeValue("ice-pwd")?.Trim();

    public IReadOnlyList<string> IceOptions => SdpText.Words(GetAttributeValue("ice-options") ?? "");

    public bool IceLite => HasAttribute("ice-lite");

    public IReadOnlyList<SdpFingerprint> Fingerprints
        => GetAttributes("fingerprint").Select(a => SdpFingerprint.TryParse(a.Value ?? "", out var f, out _) ? f : null).OfType<SdpFingerprint>().ToList();

    public SdpFingerprint? Fingerprint => Fingerprints.FirstOrDefault();

    public SdpSetupRole? Setup => SdpEnumText.TryParseSetup(GetAttributeValue("setup"), out var r) ? r : null;

    public IReadOnlyList<SdpExtmap> Extmaps => ParseAll<SdpExtmap>("extmap", SdpExtmap.TryParse);

    public bool ExtmapAllowMixed => HasAttribute("extmap-allow-mixed");

    /// <summary>The direction attribute, or null when none is present (sendrecv is then implied, RFC 8866 §6.7).</summary>
    public SdpDirection? ExplicitDirection
    {
        get
        {
            foreach (var a in Attributes)
                if (a.Value is null && SdpEnumText.TryParseDirection(a.Name, out var d)) return d;
            return null;
        }
    }

    /// <summary>Sets the single direction attribute (removing any other direction attribute).</summary>
    public void SetDirection(SdpDirection direction)
    {
        int index = Attributes.FindIndex(a => a.Value is null && SdpEnumText.TryParseDirection(a.Name, out _));
        Attributes.RemoveAll(a => a.Value is null && SdpEnumText.TryParseDirection(a.Name, out _));
        var attr = new SdpAttribute(direction.ToSdp(), null);
        if (index < 0) Attributes.Add(attr); else Attributes.Insert(index, attr);
    }

    internal delegate bool TypedParser<T>(string text, out T? value, out string? error);

    internal IReadOnlyList<T> ParseAll<T>(string name, TypedParser<T> parser) where T : class
    {
        var list = new List<T>();
        foreach (var a in Attributes)
            if (a.Name == name && parser(a.Value ?? "", out var v, out _) && v is not null) list.Add(v);
        return list;
    }
}
