using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Rooms;

/// <summary>A published track others may subscribe to. <see cref="TrackId"/> is stable for the publisher's
/// m-section; it changes only when the publisher stops and republishes.</summary>
public sealed record TrackInfo(string TrackId, string ParticipantId, string Kind);

/// <summary>The client's wish that its m-section <paramref name="Mid"/> receive track <paramref name="TrackId"/>.
/// <paramref name="Priority"/> (higher first, set by the control plane from roles) orders the videos when the leg's
/// budget is shared out.</summary>
public sealed record SubscriptionRequest(string Mid, string TrackId, int Priority = 0);

/// <summary>How many tracks of each kind a participant may publish (its offer's <c>sendonly</c>/<c>sendrecv</c> audio and
/// video m-lines), set by the control plane from the participant's role. <paramref name="Who"/> names the publisher in
/// refusals ("a patient may publish at most 3 video tracks; the offer sends 5"). With <see cref="None"/> the participant
/// publishes nothing and its send sections are answered without being published (observers). <paramref name="Pose"/>:
/// whether its "pose" data channel's keypoint frames are forwarded (patients) or it only watches others' (everybody else;
/// a participant that publishes nothing is always a viewer).</summary>
public sealed record PublishLimits(int Audio, int Video, string Who = "this participant", PoseRole Pose = PoseRole.Viewer)
{
    /// <summary>Publishes nothing (send sections are ignored, not refused).</summary>
    public static PublishLimits None { get; } = new(0, 0);

    public bool CanPublish => Audio > 0 || Video > 0;
}

/// <summary>The outcome of a negotiation: the answer, or a reason a person can read.</summary>
public sealed record NegotiationResult(string? AnswerSdp, string? Error)
{
    public bool Succeeded => AnswerSdp is not null;

    public static NegotiationResult Fail(string error) => new(null, error);
}

/// <summary>What a room tells the control plane. Called on the room's worker thread: implementations must not block
/// (post to the hub and return).</summary>
public interface IRoomListener
{
    /// <summary>The set of published tracks changed (a participant published, republished, left or was removed).</summary>
    void OnTracksChanged(MediaRoom room, IReadOnlyList<TrackInfo> tracks);

    /// <summary>The quality of a participant's uplink as the SFU receives it changed: "good", "fair" or "poor".</summary>
    void OnParticipantQuality(MediaRoom room, string participantId, string quality);

    /// <summary>A participant's media connection is up (DTLS done).</summary>
    void OnParticipantConnected(MediaRoom room, string participantId);

    /// <summary>A participant's media connection ended: closed, consent lost (vanished without BYE) or failed.</summary>
    /// <param name="connectionTag">The tag given with the participant's last negotiation.</param>
    void OnParticipantDisconnected(MediaRoom room, string participantId, string reason, string? connectionTag);

    /// <summary>Which simulcast encodings (by rid) of a participant's track on m-section <paramref name="mid"/> some
    /// subscriber needs: the publisher should send only these and pause the others, so its uplink is not spent on layers
    /// nobody watches.</summary>
    void OnPublishedLayers(MediaRoom room, string participantId, string mid, IReadOnlyList<string> activeRids);

    /// <summary>The weak-link ladder decided what a participant's page should send (<see cref="UplinkModeDecider"/>):
    /// video, or audio + pose for <paramref name="reason"/>; while <paramref name="trialBps"/> is above 0 the page
    /// sends its lowest video layer at that rate as a trial (the SFU shows it to nobody while the video is muted).</summary>
    void OnUplinkMode(MediaRoom room, string participantId, UplinkMode mode, string reason, long trialBps)
    {
    }

    /// <summary>The room's voices should be sent as <paramref name="rung"/> says (<see cref="MediaRoom.Voices"/>): every
    /// publisher's page caps its Opus rate (and its movement's frame rate) and renegotiates, and the server's answer
    /// then asks for the rung's packet time.</summary>
    void OnVoiceRung(MediaRoom room, VoiceRung rung)
    {
    }
}

/// <summary>How a room's voices are sent (<see cref="MediaRoom.Voices"/>).</summary>
public enum VoiceRung
{
    /// <summary>The browsers' own rates, 20 ms packets.</summary>
    Normal,

    /// <summary>Someone is on a link too weak for video (EDGE): a low rate, 60 ms packets.</summary>
    Weak,

    /// <summary>Someone's link cannot carry even the weak rung beside the movement (GPRS): less, 120 ms packets.</summary>
    Starved,
}

/// <summary>What one participant's media state holds (leak tests): its publications and the subscriptions fanning out
/// of them, its own subscriptions, its SSRC tables, and references to participants that have already closed.</summary>
internal sealed record ParticipantDiagnostics(
    string Id,
    string ConnectionState,
    int Publications,
    int PublicationSsrcs,
    int Subscribers,
    int SubscribersClosed,
    int Subscriptions,
    int SubscriptionSsrcs,
    int SubscriptionsToClosedPublishers);

/// <summary>One subscriber leg as the SFU sees it: its bandwidth estimate, pacing, probes, and what it gets of each
/// track it subscribes to (metrics, participant updates, tests).</summary>
public sealed record LegStats(
    string ParticipantId,
    long EstimateBps,
    long FeedbacksReceived,
    TimeSpan RoundTrip,
    long PacketsPaced,
    TimeSpan PacerLongestWait,
    TimeSpan PacerTotalWait,
    long ProbePackets,
    IReadOnlyList<SubscriptionStats> Subscriptions,
    string Estimator = "",
    string Uplink = "");

/// <summary>What one subscriber gets of one track: the layer forwarded now and the one wanted ("S2T2", "paused", or
/// "all" for a single-layer track), layer switches, packets resent on its NACKs, and for a layered video its place in
/// the leg's budget (0 is served first; -1 for audio and single-layer tracks).</summary>
public sealed record SubscriptionStats(string TrackId, string PublisherId, string Kind, string Layer, string Target, long LayerSwitches,
    long Retransmissions, string LayerRates = "", int BudgetRank = -1);

/// <summary>What <see cref="MediaRoom.StepDownUplinkAsync"/> did.</summary>
public enum UplinkStepDown
{
    /// <summary>The participant's ladder went to audio + pose (the control plane heard of it as of its own decisions).</summary>
    SteppedDown,

    /// <summary>The ladder was in audio + pose already: nothing changed.</summary>
    AlreadyDown,

    /// <summary>The participant has no media connection here, or sends no movement (no ladder).</summary>
    NoLadder,
}
