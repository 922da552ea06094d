using System.Globalization;
using System.Net;
using System.Text;

namespace TeleRehab.Media.Ice;

public enum IceTransport { Udp, Tcp }

public enum IceCandidateType { Host, ServerReflexive, PeerReflexive, Relay }

/// <summary>ICE-TCP candidate direction (RFC 6544 §4.5).</summary>
public enum IceTcpType { None, Active, Passive, SimultaneousOpen }

/// <summary>
/// An ICE candidate as carried in SDP (RFC 8839 §5.1, RFC 6544 §4.5):
/// <c>candidate:foundation component transport priority address port typ type [raddr a] [rport p] [tcptype t] *(name value)</c>.
/// </summary>
public sealed record IceCandidate
{
    public required string Foundation { get; init; }
    public int Component { get; init; } = 1;
    public IceTransport Transport { get; init; } = IceTransport.Udp;
    public uint Priority { get; init; }
    /// <summary>IP address or FQDN (e.g. an mDNS ".local" name).</summary>
    public required string Address { get; init; }
    public int Port { get; init; }
    public IceCandidateType Type { get; init; } = IceCandidateType.Host;
    public string? RelatedAddress { get; init; }
    public int? RelatedPort { get; init; }
    public IceTcpType TcpType { get; init; }
    /// <summary>Other extension attributes (e.g. generation, ufrag, network-id), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Extensions { get; init; } = [];

    /// <summary>The address as an endpoint, or null when <see cref="Address"/> is not an IP literal.</summary>
    public IPEndPoint? EndPoint => IPAddress.TryParse(Address, out var ip) ? new IPEndPoint(ip, Port) : null;

    /// <summary>RFC 8445 §5.1.2.2 recommended type preferences.</summary>
    public static int TypePreference(IceCandidateType type) => type switch
    {
        IceCandidateType.Host => 126,
        IceCandidateType.PeerReflexive => 110,
        IceCandidateType.ServerReflexive => 100,
        _ => 0,
    };

    /// <summary>RFC 8445 §5.1.2.1: priority = 2^24 * type-pref + 2^8 * local-pref + (256 - component).</summary>
    public static uint ComputePriority(IceCandidateType type, int localPreference, int component = 1) =>
        ComputePriority(TypePreference(type), localPreference, component);

    public static uint ComputePriority(int typePreference, int localPreference, int component)
    {
        if (typePreference is < 0 or > 126) throw new ArgumentOutOfRangeException(nameof(typePreference));
        if (localPreference is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(localPreference));
        if (component is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(component));
        return (uint)((typePreference << 24) + (localPreference << 8) + (256 - component));
    }

    /// <summary>
    /// RFC 6544 §4.2 local preference for TCP candidates: 2^13 * direction-pref + other-pref (0-8191).
    /// </summary>
    public static int TcpLocalPreference(IceCandidateType type, IceTcpType tcpType, int otherPreference = 8191)
    {
        if (otherPreference is < 0 or > 8191) throw new ArgumentOutOfRangeException(nameof(otherPreference));
        bool hostLike = type is IceCandidateType.Host or IceCandidateType.Relay;
        int direction = tcpType switch
        {
            IceTcpType.Active => hostLike ? 6 : 4,
            IceTcpType.Passive => hostLike ? 4 : 2,
            IceTcpType.SimultaneousOpen => hostLike ? 2 : 6,
            _ => 0,
        };
        return (direction << 13) + otherPreference;
    }

    public static IceCandidate Parse(string value) =>
        TryParse(value, out var candidate) ? candidate : throw new FormatException($"Invalid ICE candidate: '{value}'.");

    /// <summary>Parses with or without the "a=" and "candidate:" prefixes. Never throws.</summary>
    public static bool TryParse(string? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IceCandidate? candidate)
    {
        candidate = null;
        if (string.IsNullOrWhiteSpace(value)) return false;
        string text = value.Trim();
        if (text.StartsWith("a=", StringComparison.Ordinal)) text = text[2..];
        if (text.StartsWith("candidate:", StringComparison.OrdinalIgnoreCase)) text = text["candidate:".Length..];
        string[] f = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 8) return false;

        string foundation = f[0];
        if (foundation.Length is 0 or > 32 || !foundation.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/')) return false;
        if (!int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int component) || component is < 1 or > 256) return false;
        IceTransport transport;
        if (f[2].Equals("udp", StringComparison.OrdinalIgnoreCase)) transport = IceTransport.Udp;
        else if (f[2].Equals("tcp", StringComparison.OrdinalIgnoreCase)) transport = IceTransport.Tcp;
        else return false;
        if (!uint.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out uint priority) || priority == 0) return false;
        string address = f[4];
        if (!int.TryParse(f[5], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535) return false;
        if (f[6] != "typ" || !TryParseType(f[7], out var type)) return false;

        string? relatedAddress = null;
        int? relatedPort = null;
        var tcpType = IceTcpType.None;
        var extensions = new List<KeyValuePair<string, string>>();
        for (int i = 8; i < f.Length; i += 2)
        {
            if (i + 1 >= f.Length) return false; // extensions are name/value pairs
            string name = f[i], v = f[i + 1];
            switch (name)
            {
                case "raddr":
                    relatedAddress = v;
                    break;
                case "rport":
                    if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int rp) || rp > 65535) return false;
                    relatedPort = rp;
                    break;
                case "tcptype":
                    tcpType = v switch { "active" => IceTcpType.Active, "passive" => IceTcpType.Passive, "so" => IceTcpType.SimultaneousOpen, _ => (IceTcpType)(-1) };
                    if ((int)tcpType < 0) return false;
                    break;
                default:
                    extensions.Add(new(name, v));
                    break;
            }
        }

        candidate = new IceCandidate
        {
            Foundation = foundation,
            Component = component,
            Transport = transport,
            Priority = priority,
            Address = address,
            Port = port,
            Type = type,
            RelatedAddress = relatedAddress,
            RelatedPort = relatedPort,
            TcpType = tcpType,
            Extensions = extensions,
        };
        return true;
    }

    private static bool TryParseType(string s, out IceCandidateType type)
    {
        switch (s)
        {
            case "host": type = IceCandidateType.Host; return true;
            case "srflx": type = IceCandidateType.ServerReflexive; return true;
            case "prflx": type = IceCandidateType.PeerReflexive; return true;
            case "relay": type = IceCandidateType.Relay; return true;
            default: type = default; return false;
        }
    }

    /// <summary>The SDP attribute value, "candidate:..." (without "a=").</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("candidate:");
        sb.Append(Foundation).Append(' ')
          .Append(Component.ToString(CultureInfo.InvariantCulture)).Append(' ')
          .Append(Transport == IceTransport.Udp ? "udp" : "tcp").Append(' ')
          .Append(Priority.ToString(CultureInfo.InvariantCulture)).Append(' ')
          .Append(Address).Append(' ')
          .Append(Port.ToString(CultureInfo.InvariantCulture))
          .Append(" typ ")
          .Append(Type switch
          {
              IceCandidateType.Host => "host",
              IceCandidateType.ServerReflexive => "srflx",
              IceCandidateType.PeerReflexive => "prflx",
              _ => "relay",
          });
        if (RelatedAddress is not null) sb.Append(" raddr ").Append(RelatedAddress);
        if (RelatedPort is { } rport) sb.Append(" rport ").Append(rport.ToString(CultureInfo.InvariantCulture));
        if (TcpType != IceTcpType.None)
            sb.Append(" tcptype ").Append(TcpType switch { IceTcpType.Active => "active", IceTcpType.Passive => "passive", _ => "so" });
        foreach (var (name, v) in Extensions) sb.Append(' ').Append(name).Append(' ').Append(v);
        return sb.ToString();
    }
}
