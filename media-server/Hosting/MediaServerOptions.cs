using TeleRehab.Media.Net;
using System.Net;

namespace TeleRehab.Media.Hosting;

/// <summary>Where the media server listens and what it tells peers. Bound from configuration section
/// <c>TeleRehab:Media</c> by the web host.</summary>
public sealed class MediaServerOptions
{
    /// <summary>The one UDP port every peer shares (0 picks a free port, for tests).</summary>
    public int UdpPort { get; set; } = 40000;

    /// <summary>The one TCP port for ICE-TCP passive candidates (RFC 6544); 0 picks a free port, -1 disables ICE-TCP.</summary>
    public int TcpPort { get; set; } = 40000;

    /// <summary>The address the sockets bind to.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>The address put into candidates, for servers behind NAT or in a cloud. When empty, every
    /// up IPv4 interface address is announced as a host candidate.</summary>
    public string? AnnouncedAddress { get; set; }

    /// <summary>Worker loops that own peers (0 = one per core).</summary>
    public int Workers { get; set; }

    /// <summary>Seconds without a valid ICE check before a peer is dropped (RFC 7675 consent freshness).</summary>
    public double ConsentTimeoutSeconds { get; set; } = 30;

    /// <summary>Seconds an ICE-TCP connection has, from accept, to send a STUN check with valid MESSAGE-INTEGRITY for a
    /// live peer; it is closed otherwise.</summary>
    public double IceTcpAuthTimeoutSeconds { get; set; } = 5;

    /// <summary>Seconds an authenticated ICE-TCP connection may stay silent before it is closed (consent checks arrive
    /// every few seconds, so a live connection never idles this long).</summary>
    public double IceTcpIdleTimeoutSeconds { get; set; } = 30;

    /// <summary>ICE-TCP connections open at once, authenticated or not; more are closed on accept.</summary>
    public int IceTcpMaxConnections { get; set; } = 1024;

    /// <summary>ICE-TCP connections open at once from one remote IP address; more are closed on accept.</summary>
    public int IceTcpMaxConnectionsPerAddress { get; set; } = 16;

    /// <summary>Authenticated ICE-TCP connections one peer keeps; a newer one closes its oldest.</summary>
    public int IceTcpMaxConnectionsPerPeer { get; set; } = 4;

    /// <summary>The largest data channel message peers may send us, announced as <c>a=max-message-size</c> (RFC 8841
    /// §6). 0 announces no limit.</summary>
    public long DataChannelMaxMessageSize { get; set; } = Sdp.SdpLocalParameters.DefaultMaxMessageSize;

    internal IPAddress ParseListenAddress() =>
        IPAddress.TryParse(ListenAddress, out var address)
            ? address
            : throw new ArgumentException($"TeleRehab:Media:ListenAddress '{ListenAddress}' is not an IP address.");

    internal void Validate()
    {
        if (UdpPort is < 0 or > 65535) throw new ArgumentException($"TeleRehab:Media:UdpPort {UdpPort} is out of range 0-65535.");
        if (TcpPort is < -1 or > 65535) throw new ArgumentException($"TeleRehab:Media:TcpPort {TcpPort} is out of range -1-65535.");
        if (!string.IsNullOrEmpty(AnnouncedAddress) && !IPAddress.TryParse(AnnouncedAddress, out _))
            throw new ArgumentException($"TeleRehab:Media:AnnouncedAddress '{AnnouncedAddress}' is not an IP address.");
        if (ConsentTimeoutSeconds <= 0) throw new ArgumentException("TeleRehab:Media:ConsentTimeoutSeconds must be positive.");
        if (!(IceTcpAuthTimeoutSeconds is > 0 and <= 86400))
            throw new ArgumentException($"TeleRehab:Media:IceTcpAuthTimeoutSeconds {IceTcpAuthTimeoutSeconds} must be positive and at most 86400.");
        if (!(IceTcpIdleTimeoutSeconds is > 0 and <= 86400))
            throw new ArgumentException($"TeleRehab:Media:IceTcpIdleTimeoutSeconds {IceTcpIdleTimeoutSeconds} must be positive and at most 86400.");
        if (IceTcpMaxConnections <= 0) throw new ArgumentException($"TeleRehab:Media:IceTcpMaxConnections {IceTcpMaxConnections} must be positive.");
        if (IceTcpMaxConnectionsPerAddress <= 0)
            throw new ArgumentException($"TeleRehab:Media:IceTcpMaxConnectionsPerAddress {IceTcpMaxConnectionsPerAddress} must be positive.");
        if (IceTcpMaxConnectionsPerPeer <= 0)
            throw new ArgumentException($"TeleRehab:Media:IceTcpMaxConnectionsPerPeer {IceTcpMaxConnectionsPerPeer} must be positive.");
        if (DataChannelMaxMessageSize is < 0 or > int.MaxValue)
            throw new ArgumentException($"TeleRehab:Media:DataChannelMaxMessageSize {DataChannelMaxMessageSize} must be between 0 (no limit) and {int.MaxValue}.");
        ParseListenAddress();
    }
}
