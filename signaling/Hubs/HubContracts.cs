namespace TeleRehab.Signaling.Hubs;

// The session hub's wire types (docs/signalling.md). Strings, not enums, so the JSON is exactly what the document says.

public sealed record ParticipantDto(string Id, string DisplayName, string Role, string State, bool AudioMuted, bool VideoMuted, string Quality);

public sealed record TrackDto(string TrackId, string ParticipantId, string Kind);

/// <summary>Server to publisher: keep sending only these simulcast encodings (rids) of the track on m-section Mid.</summary>
public sealed record PublishLayersDto(string Mid, IReadOnlyList<string> ActiveRids);

public sealed record JoinResult(
    string SessionId, string Title, string Kind, string ParticipantId, string Role, string DisplayName,
    string State, bool Locked, IReadOnlyList<ParticipantDto> Participants, IReadOnlyList<TrackDto> Tracks);

public sealed record SubscriptionDto(string Mid, string TrackId);

public sealed record NegotiateRequest(string Sdp, IReadOnlyList<SubscriptionDto>? Subscriptions);

public sealed record NegotiateResult(string Sdp);

public sealed record MuteRequest(string Kind, bool Muted);

public sealed record MuteParticipantRequest(string ParticipantId, string Kind);

public sealed record ParticipantLeftDto(string ParticipantId, string Reason);

public sealed record ReasonDto(string Reason);

public sealed record KindDto(string Kind);

public sealed record LockedDto(bool Locked);
