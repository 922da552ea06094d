namespace TeleRehab.Signaling.Sessions;

/// <summary>What a join token says: who may join which session, as what, and until when.</summary>
public sealed record JoinTokenPayload(
    string SessionId,
    string ParticipantId,
    ParticipantRole Role,
    string DisplayName,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt);

/// <summary>The outcome of <see cref="JoinTokenService.Validate"/>.</summary>
public enum JoinTokenStatus
{
    Valid,
    /// <summary>Not two base64url parts, non-canonical base64url, too long, or an unreadable payload.</summary>
    Malformed,
    /// <summary>The signature does not match (tampered, or signed with another key).</summary>
    BadSignature,
    Expired,
    /// <summary>Issued in the future (beyond the allowed clock skew).</summary>
    NotYetValid,
}

/// <summary>A validated token's payload, or the reason it was refused (in words fit for a log or a user).</summary>
public readonly record struct JoinTokenValidation(JoinTokenStatus Status, JoinTokenPayload? Payload, string Reason)
{
    public bool IsValid => Status == JoinTokenStatus.Valid;

    internal static JoinTokenValidation Fail(JoinTokenStatus status, string reason) => new(status, null, reason);
}

/// <summary>Configuration section <c>TeleRehab:Tokens</c>.</summary>
public sealed class JoinTokenOptions
{
    public const string Section = "TeleRehab:Tokens";

    /// <summary>Base64 HMAC-SHA256 key, at least 32 bytes. Unset: a random key per process (links die with a restart).</summary>
    public string? SigningKey { get; set; }

    /// <summary>How long a join link stays valid.</summary>
    public double LifetimeHours { get; set; } = 24;
}
