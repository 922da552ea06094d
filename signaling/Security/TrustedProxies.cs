using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace TeleRehab.Signaling.Security;

/// <summary>The reverse proxies (e.g. the TLS proxy the README recommends) whose forwarded headers the app believes:
/// <c>TeleRehab:Proxy:KnownProxies</c> (addresses) and <c>TeleRehab:Proxy:KnownNetworks</c> (CIDR ranges), each a
/// comma-separated list. None by default: forwarded headers are then ignored, and a request is judged by the address
/// it came from.</summary>
public sealed class TrustedProxies
{
    public const string KnownProxiesKey = "TeleRehab:Proxy:KnownProxies";
    public const string KnownNetworksKey = "TeleRehab:Proxy:KnownNetworks";

    private readonly IPAddress[] _addresses;
    private readonly System.Net.IPNetwork[] _networks;

    private TrustedProxies(IPAddress[] addresses, System.Net.IPNetwork[] networks)
    {
        _addresses = addresses;
        _networks = networks;
    }

    public bool Any => _addresses.Length > 0 || _networks.Length > 0;

    public static TrustedProxies From(IConfiguration configuration)
    {
        var addresses = Split(configuration[KnownProxiesKey]).Select(text => IPAddress.TryParse(text, out var address)
            ? Normalize(address)
            : throw new InvalidOperationException($"{KnownProxiesKey}: '{text}' is not an IP address.")).ToArray();
        var networks = Split(configuration[KnownNetworksKey]).Select(text => System.Net.IPNetwork.TryParse(text, out var network)
            ? network
            : throw new InvalidOperationException($"{KnownNetworksKey}: '{text}' is not a CIDR range such as 10.0.0.0/8.")).ToArray();
        return new TrustedProxies(addresses, networks);
    }

    public bool IsTrusted(IPAddress address)
    {
        address = Normalize(address);
        return _addresses.Contains(address) || _networks.Any(network => network.Contains(address));
    }

    /// <summary>Forwarded-headers handling that believes these proxies only (never ASP.NET Core's loopback default).</summary>
    public ForwardedHeadersOptions ForwardedHeadersOptions()
    {
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var address in _addresses) options.KnownProxies.Add(address);
        foreach (var network in _networks) options.KnownIPNetworks.Add(network);
        options.ForwardLimit = 1;
        return options;
    }

    /// <summary>True when the request came through a proxy, trusted or not: it carries forwarding headers (as left by
    /// the forwarded-headers middleware, which keeps the originals as X-Original-*). Such a request is never "local".</summary>
    public static bool IsForwarded(HttpRequest request) =>
        request.Headers.ContainsKey("X-Forwarded-For") || request.Headers.ContainsKey("X-Original-For") || request.Headers.ContainsKey("Forwarded");

    private static IEnumerable<string> Split(string? list) =>
        (list ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
