using System.Runtime.CompilerServices;

namespace TeleRehab.Media.Pose;

/// <summary>
/// One pose landmark as MediaPipe reports it: X and Y normalised to the image (0..1, may lie slightly outside),
/// Z on roughly the same scale as X (0 at the hips), Visibility and Presence likelihoods in 0..1.
/// A decoded landmark that was sent absent is all zero; a present one has Presence 1 (presence is carried as the
/// presence mask, not as a value).
/// </summary>
public readonly record struct Landmark(float X, float Y, float Z = 0, float Visibility = 1, float Presence = 1)
{
    /// <summary>True when the landmark was present in a decoded frame (Presence &gt; 0).</summary>
    public bool IsPresent => Presence > 0;
}

/// <summary>The 33 landmarks of a MediaPipe pose, stored inline (no allocation).</summary>
[InlineArray(KeypointFormat.LandmarkCount)]
public struct LandmarkArray
{
    private Landmark _element0;
}

/// <summary>One pose frame: 33 landmarks, a timestamp in milliseconds (modulo 2^32) and, once decoded, its sequence number.</summary>
public struct KeypointFrame
{
    /// <summary>Sequence number (set by the encoder; ignored on encode).</summary>
    public ushort Sequence;

    /// <summary>Capture time in milliseconds since an arbitrary origin, modulo 2^32.</summary>
    public uint TimestampMs;

    /// <summary>True when the decoded frame was a key frame (ignored on encode).</summary>
    public bool IsKeyFrame;

    /// <summary>The landmarks in MediaPipe's order (0 nose ... 32 right foot index).</summary>
    public LandmarkArray Landmarks;
}
