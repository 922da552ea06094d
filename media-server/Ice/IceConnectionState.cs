namespace TeleRehab.Media.Ice;

/// <summary>State of an ICE agent (a subset of the W3C RTCIceConnectionState, driven by the RFC 8445/7675 rules).</summary>
public enum IceConnectionState
{
    /// <summary>Nothing received or sent yet.</summary>
    New,
    /// <summary>Connectivity checks in progress.</summary>
    Checking,
    /// <summary>A pair is nominated and selected; consent is fresh.</summary>
    Connected,
    /// <summary>All checks failed, or consent expired (RFC 7675 §5.1): stop sending on the pair.</summary>
    Failed,
    /// <summary>Closed by the application.</summary>
    Closed,
}
