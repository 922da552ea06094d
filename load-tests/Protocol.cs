namespace TeleRehab.LoadTests;

// The session hub's wire types as a client sees them (docs/signalling.md), written from the document, not shared
// with the server: this client checks the protocol as any third-party client would.

public sealed record ParticipantInfo(string Id, string DisplayName, string Role, string State, bool AudioMuted, bool VideoMuted, string Quality,
    string Mode = "video", string ModeReason = "");

/// <summary>The server tells a participant what to send (docs/signalling.md, <c>ModeChanged</c>).</summary>
public sealed record ModeInfo(string Mode, string Reason, bool Held, int TrialKbps = 0);

/// <summary>How to send the voice while someone in the room is on a weak link (docs/signalling.md, <c>AudioRate</c>).</summary>
public sealed record AudioRateInfo(int MaxKbps, int PacketTimeMs, string Reason, int MaxPoseFps = 0);

public sealed record TrackInfoDto(string TrackId, string ParticipantId, string Kind);

/// <param name="ResumeId">Presented with the link's token to take the place back on a new hub connection (Resume).</param>
/// <param name="KeepMedia">From Resume: the server still has this client's media connection.</param>
/// <param name="ReconnectGraceSeconds">How long the server keeps the place after the hub connection drops.</param>
/// <param name="Focus">Whom the therapist put in focus (the video patients see large); null: nobody.</param>
public sealed record JoinResultDto(
    string SessionId, string Title, string Kind, string ParticipantId, string Role, string DisplayName,
    string State, bool Locked, IReadOnlyList<ParticipantInfo> Participants, IReadOnlyList<TrackInfoDto> Tracks,
    string ResumeId = "", bool KeepMedia = false, double ReconnectGraceSeconds = 0, string? Focus = null);

/// <summary>FocusChanged: whom the therapist put in focus now (null: nobody, the therapist again).</summary>
public sealed record FocusInfo(string? ParticipantId);

/// <summary>Resume's argument: the link's token and the resume id of the last Join.</summary>
public sealed record ResumeRequestDto(string Token, string ResumeId);

/// <summary>Server to publisher: send only these simulcast encodings of the track on m-section Mid.</summary>
public sealed record PublishLayersInfo(string Mid, IReadOnlyList<string> ActiveRids);

public sealed record SubscriptionRequestDto(string Mid, string TrackId);

/// <param name="StartMode">A patient's first Negotiate: "audio+pose" when its pre-session check found a weak link.</param>
public sealed record NegotiateRequestDto(string Sdp, IReadOnlyList<SubscriptionRequestDto> Subscriptions, string? StartMode = null);

/// <summary>A patient's page found its uplink too weak for video by itself (ReportWeakUplink).</summary>
public sealed record WeakUplinkReportDto(int EstimateKbps, int VideoKbps, int RttMs);

/// <param name="Ladder">To a patient: the server's weak-link ladder thresholds its page judges its own evidence by.</param>
public sealed record NegotiateResultDto(string Sdp, UplinkLadderInfo? Ladder = null);

public sealed record UplinkLadderInfo(long LowestVideoBps, double MinUsefulFps);

public sealed record ParticipantLeftInfo(string ParticipantId, string Reason);

public sealed record ReasonInfo(string Reason);

public sealed record KindInfo(string Kind);

public sealed record LockedInfo(bool Locked);

/// <summary>LinkStats: the client's own downlink as the SFU sees it; <see cref="Downlinks"/> only for the therapist.</summary>
public sealed record LinkStatsInfo(int EstimateKbps, int RttMs, double PacerDelayMs, IReadOnlyList<LinkSubscriptionInfo> Subscriptions,
    IReadOnlyList<DownlinkInfo>? Downlinks);

public sealed record LinkSubscriptionInfo(string ParticipantId, string TrackId, string Kind, string Layer, string Target, long Switches, long Retransmissions);

public sealed record DownlinkInfo(string ParticipantId, int EstimateKbps, int RttMs);

/// <summary>One event the server sent, as received (for assertions and logs).</summary>
public sealed record HubEvent(string Name, object? Payload, DateTimeOffset At);

/// <summary>The hub's method and event names.</summary>
public static class HubNames
{
    public const string Path = "/hubs/session";

    public const string Join = "Join";
    public const string Resume = "Resume";
    public const string Negotiate = "Negotiate";
    public const string AddIceCandidate = "AddIceCandidate";
    public const string SetMuted = "SetMuted";
    public const string Leave = "Leave";
    public const string Admit = "Admit";
    public const string MuteParticipant = "MuteParticipant";
    public const string RemoveParticipant = "RemoveParticipant";
    public const string LockRoom = "LockRoom";
    public const string EndSession = "EndSession";
    public const string HoldMode = "HoldMode";
    public const string SetFocus = "SetFocus";
    public const string ReportWeakUplink = "ReportWeakUplink";

    public const string ParticipantJoined = "ParticipantJoined";
    public const string ParticipantUpdated = "ParticipantUpdated";
    public const string ParticipantLeft = "ParticipantLeft";
    public const string TracksChanged = "TracksChanged";
    public const string WaitingRoomChanged = "WaitingRoomChanged";
    public const string Admitted = "Admitted";
    public const string MutedByTherapist = "MutedByTherapist";
    public const string Removed = "Removed";
    public const string RoomLocked = "RoomLocked";
    public const string SessionEnded = "SessionEnded";
    public const string LinkStats = "LinkStats";
    public const string ModeChanged = "ModeChanged";
    public const string AudioRate = "AudioRate";
    public const string Replaced = "Replaced";
    public const string PublishLayers = "PublishLayers";
    public const string FocusChanged = "FocusChanged";
}

/// <summary>What the client itself records among <see cref="SessionClient.Events"/> (not hub events).</summary>
public static class ClientEvents
{
    /// <summary>The hub connection dropped; the client is connecting again.</summary>
    public const string Reconnecting = "client:Reconnecting";

    /// <summary>The place was taken back (payload: the JoinResultDto).</summary>
    public const string Resumed = "client:Resumed";

    /// <summary>Resume was refused (payload: the server's message).</summary>
    public const string ResumeRefused = "client:ResumeRefused";

    /// <summary>The connection state changed (payload: "connected", "reconnecting" or "disconnected").</summary>
    public const string Connection = "client:Connection";
}
