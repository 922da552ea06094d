using System.Text.Json.Serialization;
using TeleRehab.Media.Rooms;

namespace TeleRehab.Signaling.Hubs;

// The session hub's wire types (docs/signalling.md). Strings, not enums, so the JSON is exactly what the document says.

/// <param name="Mode">What the participant sends: "video", or "audio+pose" (no video: its movement as a skeleton).</param>
/// <param name="ModeReason">Why it is in that mode: "" (its own choice or none), "therapist" (the therapist holds it),
/// "weak-uplink" (the server found its uplink too weak for video), "recovered" (video is back after a weak spell).</param>
public sealed record ParticipantDto(string Id, string DisplayName, string Role, string State, bool AudioMuted, bool VideoMuted, string Quality,
    string Mode = ParticipantModes.Video, string ModeReason = "");

/// <summary>The send modes of the weak-link ladder that a participant's page carries out.</summary>
public static class ParticipantModes
{
    public const string Video = "video";
    public const string AudioPose = "audio+pose";

    public const string ReasonTherapist = "therapist";
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
