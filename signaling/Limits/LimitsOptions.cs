namespace TeleRehab.Signaling.Limits;

/// <summary>Limits on what one participant can make the server hold, bound from configuration section
/// <c>TeleRehab:Limits</c> (docs/rooms.md, "Limits"). Observers publish nothing whatever is set here.</summary>
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
        if (RetransmissionMemoryPerParticipantMB > RetransmissionMemoryMB)
            throw new ArgumentException($"{Section}:{nameof(RetransmissionMemoryPerParticipantMB)} ({RetransmissionMemoryPerParticipantMB}) " +
                                        $"is more than {Section}:{nameof(RetransmissionMemoryMB)} ({RetransmissionMemoryMB}).");
    }

    private static void AtLeast(string key, int value, int minimum)
    {
        if (value < minimum) throw new ArgumentException($"{Section}:{key} must be at least {minimum} (it is {value}).");
    }
}
