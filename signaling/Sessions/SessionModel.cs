using System.Security.Cryptography;

namespace TeleRehab.Signaling.Sessions;

/// <summary>A live session's shape: one therapist with one patient, or a group room (one therapist, many patients).</summary>
public enum SessionKind { OneToOne, Group }

/// <summary>What a participant may do in a session. Observers (a caregiver, a student) watch and listen.</summary>
public enum ParticipantRole { Therapist, Patient, Observer }

/// <summary>Where a participant is: <see cref="Invited"/> (link issued, never joined), <see cref="Waiting"/> (in the
/// waiting room), <see cref="Connected"/> (in the room), <see cref="Left"/> (was in, has gone), <see cref="Reconnecting"/>
/// (in the room, its hub connection dropped: its place is kept for the grace period).</summary>
public enum ParticipantState { Invited, Waiting, Connected, Left, Reconnecting }

/// <summary>A participant as it was when the snapshot was taken. <paramref name="Admitted"/>: it was let into the room at
/// least once (a locked room still takes it back); <paramref name="Removed"/>: the therapist removed it, its link no
/// longer joins.</summary>
public sealed record ParticipantSnapshot(string Id, string DisplayName, ParticipantRole Role, ParticipantState State,
    bool Admitted = false, bool Removed = false);

/// <summary>A session as it was when the snapshot was taken (immutable; the registry keeps the live state).
/// <paramref name="Locked"/>: the therapist locked the room (kept while the session runs, also when the room empties).
/// <paramref name="Language"/>: the language its pages open in (a code of <see cref="SessionLanguages"/>), null for the browser's.</summary>
public sealed record SessionSnapshot(
    string Id,
    string Title,
    SessionKind Kind,
    bool WaitingRoom,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EndedAt,
    IReadOnlyList<ParticipantSnapshot> Participants,
    bool Locked = false,
    string? Language = null)
{
    public bool IsEnded => EndedAt is not null;
}

/// <summary>Raised once per session, after it has been ended (by the operator API or <see cref="SessionRegistry.End"/>).</summary>
public sealed class SessionEndedEventArgs(SessionSnapshot session) : EventArgs
{
    /// <summary>The session as it was at its end, with every participant the hub should now disconnect.</summary>
    public SessionSnapshot Session { get; } = session;
}

/// <summary>Random url-safe identifiers (base64url, no padding) from the OS's CSPRNG.</summary>
public static class SessionIds
{
    /// <summary>A session id: 72 random bits, 12 characters.</summary>
    public static string NewSessionId() => Create(9);

    /// <summary>A participant id, new for every invite: 72 random bits, 12 characters.</summary>
    public static string NewParticipantId() => Create(9);

    private static string Create(int bytes)
    {
        Span<byte> random = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(random);
        return System.Buffers.Text.Base64Url.EncodeToString(random);
    }

    /// <summary>True when <paramref name="id"/> could be an id made here (cheap pre-check before a lookup).</summary>
    public static bool LooksValid(ReadOnlySpan<char> id)
    {
        if (id.Length != 12) return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_')) return false;
        }
        return true;
    }
}
