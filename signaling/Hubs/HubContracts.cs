using System.Text.Json.Serialization;
using TeleRehab.Media.Rooms;

namespace TeleRehab.Signaling.Hubs;

// The session hub's wire types (docs/signalling.md). Strings, not enums, so the JSON is exactly what the document says.

/// <param name="Mode">What the participant sends: "video", or "audio+pose" (no video: its movement as a skeleton).</param>
/// <param name="ModeReason">Why it is in that mode: "" (its own choice or none), "therapist" (the therapist holds it),
/// "weak-uplink" (the server found its uplink too weak for video), "check" (its pre-session check did, so it started in
/// audio + pose), "device" (its own page did, while the server's decision was slow to come), "recovered" (video is back
/// after a weak spell).</param>
public sealed record ParticipantDto(string Id, string DisplayName, string Role, string State, bool AudioMuted, bool VideoMuted, string Quality,
    string Mode = ParticipantModes.Video, string ModeReason = "");

/// <summary>The send modes of the weak-link ladder that a participant's page carries out.</summary>
public static class ParticipantModes
{
    public const string Video = "video";
    public const string AudioPose = "audio+pose";

    public const string ReasonTherapist = "therapist";

    /// <summary><see cref="NegotiateRequest.StartMode"/> values: none (absent, "", "video") or audio + pose.</summary>
    public static bool IsStartMode(string? mode) => mode is null or "" or Video or AudioPose;
}

/// <summary>Patient to server: its page's own evidence that its uplink cannot carry the lowest video layer beside the
/// voice (its video sender limited by bandwidth for longer than the server takes to decide, with no decision from the
/// server): the server's ladder adopts audio + pose (reason "device") with its usual trials. The figures are the page's
/// (its send estimate, its video's rate, its round trip) and go to the server's log.</summary>
public sealed record WeakUplinkReport(int EstimateKbps, int VideoKbps, int RttMs)
{
    /// <summary>Bounds of a believable report (a figure outside is a broken client, not a link).</summary>
    public const int MaxKbps = 1_000_000;

    public const int MaxRttMs = 60_000;

    public bool IsValid => EstimateKbps is >= 0 and <= MaxKbps && VideoKbps is >= 0 and <= MaxKbps && RttMs is >= 0 and <= MaxRttMs;
}

/// <summary>Therapist to server: hold a patient in <see cref="Mode"/> ("audio+pose"), or let it go ("auto").</summary>
public sealed record HoldModeRequest(string ParticipantId, string Mode);

/// <summary>Server to a participant: send in this mode, for this reason; <see cref="Held"/> while the therapist holds it
/// (the page then keeps it until released). In audio + pose, <see cref="TrialKbps"/> above 0 asks the page to send its
/// lowest video layer at that rate for a few seconds, unseen, so the server learns whether video fits again.</summary>
public sealed record ModeDto(string Mode, string Reason, bool Held, int TrialKbps = 0);

/// <summary>Server to every participant: how to send its voice and its movement. While someone in the room is on a weak
/// link (<see cref="Weak"/>: 12 kbit/s, wideband speech that stays clear, in 60 ms packets; keypoints at 8 frames/s), or
/// on one that cannot carry even that (<see cref="Starved"/>, GPRS: 8 kbit/s in 120 ms packets, keypoints at 4 frames/s),
/// Opus at <see cref="MaxKbps"/> in <see cref="PacketTimeMs"/> ms packets (the page caps its sender and renegotiates;
/// the server's answer then carries <c>a=ptime</c>) and at most <see cref="MaxPoseFps"/> pose frames a second; otherwise
/// the browser's own rate (0) in 20 ms packets and the page's own pose rate (0).</summary>
public sealed record AudioRateDto(int MaxKbps, int PacketTimeMs, string Reason, int MaxPoseFps = 0)
{
    public static readonly AudioRateDto Weak = new(12, 60, "weak-link", 8);
    public static readonly AudioRateDto Starved = new(8, 120, "very-weak-link", 4);
    public static readonly AudioRateDto Normal = new(0, 20, "");

    public static AudioRateDto For(VoiceRung rung) => rung switch
    {
        VoiceRung.Weak => Weak,
        VoiceRung.Starved => Starved,
        _ => Normal,
    };
}

public sealed record TrackDto(string TrackId, string ParticipantId, string Kind);

/// <summary>Server to publisher: keep sending only these simulcast encodings (rids) of the track on m-section Mid.</summary>
public sealed record PublishLayersDto(string Mid, IReadOnlyList<string> ActiveRids);

/// <summary>What Join, Resume and the Admitted event give a participant.</summary>
/// <param name="ResumeId">Proof of this Join's seat: with the link's token, a new hub connection takes the seat back
/// (<c>Resume</c>) while the server keeps it after the old connection dropped. A later Join with the same link makes a
/// new one.</param>
/// <param name="KeepMedia">From Resume: the server still has this participant's media connection (keep the peer
/// connection; renegotiate to catch up); false after Join, or when the media connection ended while away (negotiate a
/// new peer connection).</param>
/// <param name="ReconnectGraceSeconds">How long the server keeps the seat after the hub connection drops (0: not at all).</param>
/// <param name="Focus">Whom the therapist put in focus (<c>SetFocus</c>): the participant whose video the patients' pages
/// show large; null when nobody is (the therapist then).</param>
public sealed record JoinResult(
    string SessionId, string Title, string Kind, string ParticipantId, string Role, string DisplayName,
    string State, bool Locked, IReadOnlyList<ParticipantDto> Participants, IReadOnlyList<TrackDto> Tracks,
    string ResumeId = "", bool KeepMedia = false, double ReconnectGraceSeconds = 0, string? Focus = null);

/// <summary>Server to everyone admitted: whom the therapist put in focus now (null: nobody, the therapist again).</summary>
public sealed record FocusDto(string? ParticipantId);

/// <summary>Client to server on a new hub connection: take back the seat of the link's participant (docs/signalling.md,
/// "Reconnecting").</summary>
public sealed record ResumeRequest(string Token, string ResumeId);

/// <summary>Participant states on the wire besides "waiting", "connected" and "left".</summary>
public static class ParticipantStates
{
    /// <summary>Its hub connection dropped; its place and its media are kept for the grace period.</summary>
    public const string Reconnecting = "reconnecting";
}

public sealed record SubscriptionDto(string Mid, string TrackId);

/// <param name="StartMode">A patient's first Negotiate only: "audio+pose" when its pre-session check found the link too
/// weak for video. Its ladder then starts in audio + pose (reason "check") and tries video back by itself.</param>
public sealed record NegotiateRequest(string Sdp, IReadOnlyList<SubscriptionDto>? Subscriptions, string? StartMode = null);

/// <param name="Ladder">To a patient: the thresholds of the server's weak-link ladder, which its page also judges its own
/// evidence by (docs/weak-links.md, "Evidence from the page"); absent for everyone else.</param>
public sealed record NegotiateResult(string Sdp,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] UplinkLadderDto? Ladder = null);

/// <summary>The server's weak-link ladder as a patient's page needs it: the lowest video layer's rate (bits/s) and the
/// frame rate below which video shows no movement a therapist can follow.</summary>
public sealed record UplinkLadderDto(long LowestVideoBps, double MinUsefulFps);

public sealed record MuteRequest(string Kind, bool Muted);

public sealed record MuteParticipantRequest(string ParticipantId, string Kind);

public sealed record ParticipantLeftDto(string ParticipantId, string Reason);

public sealed record ReasonDto(string Reason);

public sealed record KindDto(string Kind);

public sealed record LockedDto(bool Locked);

/// <summary>Server to participant, every couple of seconds: its own downlink as the SFU sees it (estimate, round trip,
/// pacer delay over the last interval) and what it gets of each track it subscribes to. A therapist also gets
/// <see cref="Downlinks"/>: every other participant's estimate, so a weak link shows (absent for everyone else).</summary>
public sealed record LinkStatsDto(
    int EstimateKbps, int RttMs, double PacerDelayMs, IReadOnlyList<LinkSubscriptionDto> Subscriptions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<DownlinkDto>? Downlinks = null);

/// <summary>One subscription of a leg: the publisher's track, the layer forwarded now and the one wanted.</summary>
public sealed record LinkSubscriptionDto(string ParticipantId, string TrackId, string Kind, string Layer, string Target, long Switches, long Retransmissions);

/// <summary>Another participant's downlink, for the therapist.</summary>
public sealed record DownlinkDto(string ParticipantId, int EstimateKbps, int RttMs);
