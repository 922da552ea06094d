namespace TeleRehab.Signaling.Limits;

/// <summary>Limits on what one client, one address, one participant and everyone together can make the server hold,
/// bound from configuration section <c>TeleRehab:Limits</c> (docs/security.md lists them all; docs/rooms.md the media
/// ones). Observers publish nothing whatever is set here.</summary>
public sealed class LimitsOptions
{
    public const string Section = "TeleRehab:Limits";

    /// <summary>The most m-lines one offer may have (a full group room of 13 with two tracks each needs 26).</summary>
    public int MaxMediaSections { get; set; } = 64;

    /// <summary>Audio tracks a patient may publish at once.</summary>
    public int PatientAudioTracks { get; set; } = 2;

    /// <summary>Video tracks a patient may publish at once (camera, a second camera, a screen).</summary>
    public int PatientVideoTracks { get; set; } = 3;

    /// <summary>Audio tracks a therapist may publish at once.</summary>
    public int TherapistAudioTracks { get; set; } = 2;

    /// <summary>Video tracks a therapist may publish at once.</summary>
    public int TherapistVideoTracks { get; set; } = 3;

    /// <summary>MB (2^20 bytes) of retransmission buffers one participant's publications may hold (a video stream's
    /// buffer is about 1.5 MB, one per simulcast encoding; an audio stream's 0.1 MB).</summary>
    public int RetransmissionMemoryPerParticipantMB { get; set; } = 16;

    /// <summary>MB (2^20 bytes) of retransmission buffers all publications on the server together may hold.</summary>
    public int RetransmissionMemoryMB { get; set; } = 1024;

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

    /// <summary>Throws, naming the key, when a setting is out of range.</summary>
    public void Validate()
    {
        AtLeast(nameof(MaxMediaSections), MaxMediaSections, 1);
        AtLeast(nameof(PatientAudioTracks), PatientAudioTracks, 0);
        AtLeast(nameof(PatientVideoTracks), PatientVideoTracks, 0);
        AtLeast(nameof(TherapistAudioTracks), TherapistAudioTracks, 0);
        AtLeast(nameof(TherapistVideoTracks), TherapistVideoTracks, 0);
        AtLeast(nameof(RetransmissionMemoryPerParticipantMB), RetransmissionMemoryPerParticipantMB, 1);
        AtLeast(nameof(RetransmissionMemoryMB), RetransmissionMemoryMB, 1);
        Positive(nameof(HttpConnections), HttpConnections);
        Positive(nameof(HttpConnectionsPerAddress), HttpConnectionsPerAddress);
        Positive(nameof(HttpIdleSeconds), HttpIdleSeconds);
        AtLeast(nameof(FileDescriptorReserve), FileDescriptorReserve, 0);
        Positive(nameof(HubConnectionsPerAddress), HubConnectionsPerAddress);
        Positive(nameof(HubJoinSeconds), HubJoinSeconds);
        Positive(nameof(HubCallsPerSecond), HubCallsPerSecond);
        Positive(nameof(HubCallBurst), HubCallBurst);
        Positive(nameof(HubRefusedCalls), HubRefusedCalls);
        if (RetransmissionMemoryPerParticipantMB > RetransmissionMemoryMB)
            throw new ArgumentException($"{Section}:{nameof(RetransmissionMemoryPerParticipantMB)} ({RetransmissionMemoryPerParticipantMB}) " +
                                        $"is more than {Section}:{nameof(RetransmissionMemoryMB)} ({RetransmissionMemoryMB}).");
    }

    private static void Positive(string key, double value)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentException($"{Section}:{key} must be a positive number (it is {value}).");
    }

    private static void AtLeast(string key, int value, int minimum)
    {
        if (value < minimum) throw new ArgumentException($"{Section}:{key} must be at least {minimum} (it is {value}).");
    }
}
