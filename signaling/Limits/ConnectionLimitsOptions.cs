namespace TeleRehab.Signaling.Limits;

/// <summary>Limits on what one client, one address and everyone together may hold of the web host: HTTP connections
/// and hub connections (configuration section <c>TeleRehab:Limits</c>; docs/security.md lists every limit).</summary>
public sealed class ConnectionLimitsOptions
{
    public const string Section = "TeleRehab:Limits";

    /// <summary>Concurrent HTTP connections (WebSockets included), all clients together.</summary>
    public int HttpConnections { get; set; } = 4096;

    /// <summary>Concurrent HTTP connections from one remote address (trusted proxies are exempt: their clients are
    /// counted by hub connection instead).</summary>
    public int HttpConnectionsPerAddress { get; set; } = 256;

    /// <summary>Seconds an HTTP connection may sit between requests (or before its first) before it is closed.</summary>
    public double HttpIdleSeconds { get; set; } = 30;

    /// <summary>File descriptors kept free for the server's own needs: the process refuses connections beyond its
    /// open-file limit less this.</summary>
    public int FileDescriptorReserve { get; set; } = 1024;

    /// <summary>Concurrent hub connections from one client address (after forwarded headers from trusted proxies).</summary>
    public int HubConnectionsPerAddress { get; set; } = 32;

    /// <summary>Seconds a hub connection has to call Join before it is closed.</summary>
    public double HubJoinSeconds { get; set; } = 30;

    /// <summary>Sustained hub calls per second one connection may make; a connection that goes beyond
    /// <see cref="HubCallBurst"/> calls above this rate is closed.</summary>
    public double HubCallsPerSecond { get; set; } = 20;

    /// <summary>Hub calls one connection may make in a burst (e.g. trickled candidates after an offer).</summary>
    public int HubCallBurst { get; set; } = 100;

    /// <summary>Refused hub calls (bad token, bad arguments, forbidden) after which the connection is closed.</summary>
    public int HubRefusedCalls { get; set; } = 50;

    /// <summary>Throws naming the first key whose value is unusable.</summary>
    public void Validate()
    {
        static void Positive(string key, double value)
        {
            if (!(value > 0) || double.IsInfinity(value)) throw new InvalidOperationException($"{Section}:{key} must be a positive number, not {value}.");
        }
        Positive(nameof(HttpConnections), HttpConnections);
        Positive(nameof(HttpConnectionsPerAddress), HttpConnectionsPerAddress);
        Positive(nameof(HttpIdleSeconds), HttpIdleSeconds);
        if (FileDescriptorReserve < 0) throw new InvalidOperationException($"{Section}:{nameof(FileDescriptorReserve)} must not be negative.");
        Positive(nameof(HubConnectionsPerAddress), HubConnectionsPerAddress);
        Positive(nameof(HubJoinSeconds), HubJoinSeconds);
        Positive(nameof(HubCallsPerSecond), HubCallsPerSecond);
        Positive(nameof(HubCallBurst), HubCallBurst);
        Positive(nameof(HubRefusedCalls), HubRefusedCalls);
    }
}
