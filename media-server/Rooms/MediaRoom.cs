using TeleRehab.Media.Hosting;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Rooms;

/// <summary>A room's media plane: its participants' peer connections, publications and subscriptions, all owned by
/// one <see cref="MediaWorker"/> (rooms are pinned to workers, like mediasoup's routers). The control plane calls
/// the async methods from any thread; each posts a command to the worker and completes when it ran there, so room
/// state needs no locks and one room's load never touches another worker's rooms.</summary>
public sealed class MediaRoom
{
    private readonly RoomManager _manager;
    private readonly IRoomListener _listener;
    private readonly Dictionary<string, RoomParticipant> _participants = new(StringComparer.Ordinal);
    private IReadOnlyList<TrackInfo> _tracks = [];
    private bool _closed;
    private volatile bool _closing;

    internal MediaRoom(RoomManager manager, string id, MediaWorker worker, IRoomListener listener)
    {
        _manager = manager;
        Id = id;
        Worker = worker;
        _listener = listener;
        Pose = new PoseForwarder(manager.PoseOptions) { SharedCounts = worker.Counters.PoseFrames };
    }

    public string Id { get; }

    public MediaWorker Worker { get; }

    /// <summary>The counters of the worker this room runs on (shared by its rooms; metrics sum the workers).</summary>
    internal MediaCounters Counters => Worker.Counters;

    internal RoomManager Manager => _manager;

    /// <summary>Forwards the patients' pose keypoints to the participants who watch them (worker-thread only).</summary>
    internal PoseForwarder Pose { get; }

    /// <summary>The published tracks (an immutable snapshot, readable from any thread).</summary>
    public IReadOnlyList<TrackInfo> Tracks => Volatile.Read(ref _tracks);

    /// <summary>Participants with media state in this room (read on any thread: approximate).</summary>
    public int ParticipantCount { get; private set; }

    /// <summary>Answers a participant's offer: publishes its send sections, subscribes its receive sections listed in
    /// <paramref name="subscriptions"/>. The first negotiation creates the participant's peer connection; later ones
    /// renegotiate it (same ICE and DTLS). An offer over the limits (<see cref="RoomManager.MaxMediaSections"/>,
    /// <paramref name="limits"/>, the retransmission memory budget) is refused before anything of it is applied: the
    /// participant keeps its peer, publications and subscriptions, and nobody else hears of it.</summary>
    /// <param name="limits">What the participant may publish (from its role); <see cref="PublishLimits.None"/>
    /// publishes nothing.</param>
    /// <param name="connectionTag">Which control-plane connection negotiates (e.g. the hub connection id); it comes back
    /// in <see cref="IRoomListener.OnParticipantDisconnected"/> so a late report about an older connection of the same
    /// participant can be told apart from one about the current connection.</param>
    /// <param name="uplinkStartReason">When set (<see cref="UplinkModeDecider.Check"/>) and this negotiation starts the
    /// participant's connection, its weak-link ladder starts in audio + pose for that reason (its page found the link too
    /// weak for video before the session); ignored once the ladder exists (later negotiations).</param>
    public Task<NegotiationResult> NegotiateAsync(string participantId, PublishLimits limits, string offerSdp, IReadOnlyList<SubscriptionRequest> subscriptions,
        string? connectionTag = null, string? uplinkStartReason = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return Run(() =>
        {
            if (_closed) return NegotiationResult.Fail("the session has ended");
            if (!Sdp.SessionDescription.TryParse(offerSdp, out var offer, out var error)) return NegotiationResult.Fail($"bad SDP offer: {error}");
            // Refused before a newer connection replaces the participant's current one (or a participant is made).
            if (RoomParticipant.CheckOffer(offer!, limits, _manager.MaxMediaSections) is { } refusal) return NegotiationResult.Fail(refusal);
            if (_participants.TryGetValue(participantId, out var existing) && existing.IsNewConnection(offer!))
            {
                // The same participant came back with a new RTCPeerConnection (a page reload, another device):
                // the old connection ends quietly and the new one starts afresh.
                existing.Replace();
            }
            if (!_participants.TryGetValue(participantId, out var participant))
            {
                participant = new RoomParticipant(this, participantId);
                _participants[participantId] = participant;
                ParticipantCount = _participants.Count;
            }
            var ladderBefore = participant.UplinkMode;
            var previousTag = participant.ConnectionTag;
            participant.ConnectionTag = connectionTag;
            var result = participant.Negotiate(offer!, subscriptions, limits);
            if (!result.Succeeded && previousTag is not null) participant.ConnectionTag = previousTag; // a refusal changes nothing
            // The negotiation that made the connection's ladder, in the same worker turn: it takes no sample in video mode.
            if (result.Succeeded && ladderBefore is null && uplinkStartReason is not null) participant.StepDownUplink(uplinkStartReason);
            return result;
        });
    }

    /// <summary>Stops forwarding (or resumes) a participant's audio or video: muting enforced by the server.</summary>
    public Task SetMutedAsync(string participantId, string kind, bool muted) => Run(() =>
    {
        if (_participants.TryGetValue(participantId, out var participant)) participant.SetMuted(kind, muted);
        return true;
    });

    /// <summary>Puts a participant's weak-link ladder in audio + pose for evidence from outside the SFU (its page's:
    /// <see cref="UplinkModeDecider.Device"/>); its trials then bring video back as after its own step down.</summary>
    public Task<UplinkStepDown> StepDownUplinkAsync(string participantId, string reason) => Run(() =>
        !_participants.TryGetValue(participantId, out var participant) || participant.UplinkMode is null ? UplinkStepDown.NoLadder
        : participant.StepDownUplink(reason) ? UplinkStepDown.SteppedDown : UplinkStepDown.AlreadyDown);

    /// <summary>Whom the therapist put in focus, or null (worker thread): every receiver's budget serves that
    /// participant's video first (<see cref="RoomParticipant"/>'s allocation), before the role-based priorities.</summary>
    internal string? Focus { get; private set; }

    /// <summary>The therapist put <paramref name="participantId"/> in focus (null: nobody, the role-based priorities).</summary>
    public Task SetFocusAsync(string? participantId) => Run(() =>
    {
        Focus = participantId;
        return true;
    });

    /// <summary>Whose pose a participant receives beyond its role's default (a patient asking to see its own).</summary>
    public Task SetPoseInterestAsync(string participantId, PoseInterest interest) => Run(() =>
    {
        if (_participants.TryGetValue(participantId, out var participant)) participant.SetPoseInterest(interest);
        return true;
    });

    /// <summary>Closes a participant's connection and drops its tracks and subscriptions. The control plane asked for
    /// it, so <see cref="IRoomListener.OnParticipantDisconnected"/> is not raised for it (that reports connections that
    /// ended by themselves).</summary>
    public Task RemoveParticipantAsync(string participantId, string reason) => Run(() =>
    {
        if (_participants.TryGetValue(participantId, out var participant))
        {
            participant.ClosedByControlPlane = true;
            participant.Close(reason);
        }
        return true;
    });

    /// <summary>True once <see cref="CloseAsync"/> was called (the room may still be closing on its worker): the
    /// manager no longer hands it out.</summary>
    public bool IsClosing => _closing;

    /// <summary>Closes every participant. The room leaves its manager at once, before this call returns (not when the
    /// worker gets to it), so a <see cref="RoomManager.GetOrCreate"/> for the same id from then on makes a new room
    /// instead of handing out this one, which is about to refuse every negotiation.</summary>
    public Task CloseAsync(string reason)
    {
        _closing = true;
        _manager.Forget(this);
        return Run(() =>
        {
            _closed = true;
            foreach (var participant in _participants.Values.ToList()) participant.Close(reason);
            return true;
        });
    }

    /// <summary>Diagnostics for tests and metrics: per participant, its state.</summary>
    public Task<IReadOnlyDictionary<string, string>> GetParticipantStatesAsync() => Run<IReadOnlyDictionary<string, string>>(() =>
        _participants.ToDictionary(p => p.Key, p => p.Value.ConnectionState.ToString()));

    /// <summary>Every participant's leg as a receiver (estimate, pacing, layers), read on the worker.</summary>
    public Task<IReadOnlyList<LegStats>> GetLegStatsAsync() => Run<IReadOnlyList<LegStats>>(() =>
        _participants.Values.Select(p => p.GetLegStats()).ToList());

    /// <summary>Diagnostics for leak tests: what each participant still holds, read on the worker.</summary>
    internal Task<IReadOnlyList<ParticipantDiagnostics>> GetDiagnosticsAsync() => Run<IReadOnlyList<ParticipantDiagnostics>>(() =>
        _participants.Values.Select(p => p.Diagnose()).ToList());

    internal Task<T> Run<T>(Func<T> action)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Worker.Post(() =>
        {
            try
            {
                completion.TrySetResult(action());
            }
            catch (Exception ex)
            {
                completion.TrySetException(ex);
            }
        });
        return completion.Task;
    }

    // ---- called on the worker by participants ----

    internal IEnumerable<RoomParticipant> Participants => _participants.Values;

    internal Publication? FindPublication(string trackId)
    {
        foreach (var participant in _participants.Values)
        {
            if (participant.FindPublication(trackId) is { } publication) return publication;
        }
        return null;
    }

    internal void PublicationsChanged()
    {
        var tracks = new List<TrackInfo>();
        foreach (var participant in _participants.Values)
        {
            foreach (var publication in participant.Publications) tracks.Add(publication.Info);
        }
        Volatile.Write(ref _tracks, tracks);
        _listener.OnTracksChanged(this, tracks);
    }

    internal void PublishedLayersChanged(RoomParticipant participant, Publication publication, IReadOnlyList<string> activeRids)
    {
        if (_participants.TryGetValue(participant.Id, out var current) && ReferenceEquals(current, participant))
            _listener.OnPublishedLayers(this, participant.Id, publication.Mid, activeRids);
    }

    internal void UplinkModeChanged(RoomParticipant participant, UplinkMode mode, string reason, long trialBps)
    {
        if (!_participants.TryGetValue(participant.Id, out var current) || !ReferenceEquals(current, participant)) return;
        _listener.OnUplinkMode(this, participant.Id, mode, reason, trialBps);
        UpdateWeakAudio();
    }

    /// <summary>
    /// How the room's voices are to be sent. <see cref="VoiceRung.Weak"/> while a participant is on a link too weak for
    /// video (<see cref="RoomParticipant.OnWeakLink"/>): Opus at a low rate in 60 ms packets (a third of the packets, so
    /// a third of the per-packet overhead, which on EDGE outweighs the voice itself); <see cref="VoiceRung.Starved"/>
    /// while one's link cannot carry even that beside its movement (<see cref="RoomParticipant.OnStarvedLink"/>, GPRS):
    /// a lower rate in 120 ms packets. An SFU forwards and cannot re-encode, so the publishers' pages do it, told
    /// through <see cref="IRoomListener.OnVoiceRung"/>.
    /// </summary>
    public VoiceRung Voices => (VoiceRung)Volatile.Read(ref _voices);

    /// <summary>The voices are sent for a weak link (<see cref="Voices"/> is not <see cref="VoiceRung.Normal"/>).</summary>
    public bool WeakAudio => Voices != VoiceRung.Normal;

    private int _voices;

    private void UpdateWeakAudio()
    {
        var rung = VoiceRung.Normal;
        foreach (var participant in _participants.Values)
        {
            if (participant.OnStarvedLink) rung = VoiceRung.Starved;
            else if (participant.OnWeakLink && rung == VoiceRung.Normal) rung = VoiceRung.Weak;
        }
        if ((int)rung == _voices) return;
        Volatile.Write(ref _voices, (int)rung);
        _listener.OnVoiceRung(this, rung);
    }

    internal void ParticipantConnected(RoomParticipant participant) => _listener.OnParticipantConnected(this, participant.Id);

    internal void QualityChanged(RoomParticipant participant, string quality)
    {
        if (_participants.TryGetValue(participant.Id, out var current) && ReferenceEquals(current, participant))
            _listener.OnParticipantQuality(this, participant.Id, quality);
    }

    /// <summary>A participant's connection ended: it leaves the room's media state (a new negotiation starts afresh).</summary>
    internal void ParticipantClosed(RoomParticipant participant, string reason, bool hadPublications)
    {
        if (!_participants.TryGetValue(participant.Id, out var current) || !ReferenceEquals(current, participant)) return;
        _participants.Remove(participant.Id);
        ParticipantCount = _participants.Count;
        foreach (var other in _participants.Values) other.DropSubscriptionsFrom(participant);
        if (hadPublications) PublicationsChanged();
        if (!participant.ClosedByControlPlane) _listener.OnParticipantDisconnected(this, participant.Id, reason, participant.ConnectionTag);
        UpdateWeakAudio();
    }
}
