using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.Sfu;
using TeleRehab.Signaling.Limits;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Signaling.Hubs;

/// <summary>The live side of sessions: who is in each room right now, who waits, who is muted, and the bridge to the
/// room's media (<see cref="MediaRoom"/>). What must outlast the room emptying (whether the room is locked, who was
/// removed, who was ever admitted) is kept in the <see cref="SessionRegistry"/>'s record of the session: a live room
/// is forgotten, and its media room closed, when its last person leaves. The hub calls it; the media plane and
/// the session registry report to it. Cold path: one lock; events are sent after the lock is released.</summary>
public sealed partial class RoomCoordinator : IRoomListener, IDisposable
{
    private readonly SessionRegistry _registry;
    private readonly RoomManager _media;
    private readonly IHubContext<SessionHub> _hub;
    private readonly ILogger<RoomCoordinator> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LiveRoom> _rooms = new(StringComparer.Ordinal);
    private readonly PublishLimits _patientLimits;
    private readonly PublishLimits _therapistLimits;
    private readonly ReconnectGrace _grace;

    public RoomCoordinator(SessionRegistry registry, RoomManager media, IHubContext<SessionHub> hub, ILogger<RoomCoordinator> logger,
        IOptions<LimitsOptions> limits, IOptions<RoomOptions> rooms, TimeProvider time)
    {
        var options = limits.Value;
        _grace = new ReconnectGrace(time, rooms.Value.ReconnectGrace);
        _patientLimits = new PublishLimits(options.PatientAudioTracks, options.PatientVideoTracks, "a patient", PoseRole.Sender);
        _therapistLimits = new PublishLimits(options.TherapistAudioTracks, options.TherapistVideoTracks, "a therapist");
        _registry = registry;
        _media = media;
        _hub = hub;
        _logger = logger;
        _registry.SessionEnded += (_, e) => EndRoom(e.Session.Id, "The therapist ended the session.");
    }

    /// <summary>Stops the grace timers (the host is shutting down).</summary>
    public void Dispose() => _grace.Dispose();

    /// <summary>Rooms with at least one person present.</summary>
    public int LiveRoomCount
    {
        get { lock (_lock) return _rooms.Count; }
    }

    /// <summary>Diagnostics: connections with a hub send chain still held (leak tests: 0 once everyone left).</summary>
    public int SendChainCount
    {
        get { lock (_chainLock) return _chains.Count; }
    }

    /// <summary>Diagnostics: participants whose hub connection dropped and whose place is kept for them.</summary>
    public int ReconnectingCount
    {
        get { lock (_lock) return _rooms.Values.Sum(r => r.Members.Values.Count(m => m.Present && m.Reconnecting)); }
    }

    /// <summary>How long a participant whose hub connection dropped keeps its place.</summary>
    public TimeSpan ReconnectGracePeriod => _grace.Period;

    /// <summary>Diagnostics: members (present or not) held by the live rooms.</summary>
    public int MemberCount
    {
        get { lock (_lock) return _rooms.Values.Sum(r => r.Members.Count); }
    }

    internal sealed class Member(string id, string displayName, ParticipantRole role)
    {
        public string Id { get; } = id;
        public string DisplayName { get; } = displayName;
        public ParticipantRole Role { get; } = role;
        /// <summary>The hub connection that holds the seat; "" while the participant is reconnecting (nothing is sent
        /// then: it learns the room's state when it resumes).</summary>
        public string ConnectionId { get; set; } = "";
        public HubCallerContext? Context { get; set; }
        public bool Joined { get; set; }
        public bool Present { get; set; }

        /// <summary>The hub connection dropped without a Leave: the seat and its media are kept for the grace period,
        /// for a new connection that presents the link's token and <see cref="ResumeId"/>.</summary>
        public bool Reconnecting { get; set; }

        /// <summary>The media connection ended by itself while reconnecting: a resumed page negotiates a new one.</summary>
        public bool MediaLost { get; set; }

        /// <summary>The running grace timer's ticket (<see cref="ReconnectGrace"/>), 0 when none.</summary>
        public long GraceTicket { get; set; }

        /// <summary>Given with each Join and needed to resume the seat: a second window that opens the same link joins
        /// afresh (and takes the seat over visibly) but cannot slip into this one's place.</summary>
        public string ResumeId { get; set; } = "";

        /// <summary>The tag the seat's media connection is negotiated with (kept across resumes, new with each Join), so
        /// a late report about the media of an earlier Join is told apart from one about the seat as it is now.</summary>
        public string SeatTag { get; set; } = "";

        /// <summary>The simulcast encodings last asked of its media connection, per m-section (sent again on a resume:
        /// a change while it was away would be lost).</summary>
        public Dictionary<string, IReadOnlyList<string>> PublishedLayers { get; } = new(StringComparer.Ordinal);
        public bool EverAdmitted { get; set; }
        public bool AudioMuted { get; set; }
        public bool VideoMuted { get; set; }
        public string Quality { get; set; } = "unknown";
        public string Mode { get; set; } = ParticipantModes.Video;
        public string ModeReason { get; set; } = "";

        /// <summary>What the weak-link ladder decided for this participant's uplink (applied unless the therapist holds
        /// a mode), and the rate of the trial it asks for (0: none).</summary>
        public string AutoMode { get; set; } = ParticipantModes.Video;
        public string AutoReason { get; set; } = "";
        public int TrialKbps { get; set; }

        /// <summary>The leg's pacer totals at the last LinkStats (for the delay over the interval since).</summary>
        public long LastPacketsPaced { get; set; }
        public TimeSpan LastPacerWait { get; set; }

        public ParticipantDto ToDto() => new(Id, DisplayName, JoinTokenService.RoleName(Role),
            !Present ? "left" : !Joined ? "waiting" : Reconnecting ? ParticipantStates.Reconnecting : "connected",
            AudioMuted, VideoMuted, Present && Joined ? Quality : "unknown", Mode, ModeReason);
    }

    internal sealed class LiveRoom(SessionSnapshot session, MediaRoom media)
    {
        public string Id { get; } = session.Id;
        public string Title { get; } = session.Title;
        public SessionKind Kind { get; } = session.Kind;
        public bool WaitingRoom { get; } = session.WaitingRoom;
        public MediaRoom Media { get; } = media;
        public bool Ended { get; set; }

        /// <summary>Whom the therapist put in focus (<see cref="SetFocus"/>): present and admitted, or null.</summary>
        public string? Focus { get; set; }
        public Dictionary<string, Member> Members { get; } = new(StringComparer.Ordinal);

        public IEnumerable<Member> JoinedMembers => Members.Values.Where(m => m.Present && m.Joined);
    }

    /// <summary>The caller's identity on its hub connection, kept in <see cref="HubCallerContext.Items"/>.</summary>
    /// <param name="SeatTag">The seat's media tag (<see cref="Member.SeatTag"/>) when the connection took it.</param>
    internal sealed record Caller(string SessionId, string ParticipantId, ParticipantRole Role, string ConnectionId, string SeatTag);

    // ------------------------------------------------------------------ joining

    internal JoinResult Join(JoinTokenPayload token, HubCallerContext context)
    {
        var sends = new List<Outgoing>();
        JoinResult result;
        HubCallerContext? replaced = null;
        lock (_lock)
        {
            var session = CheckLink(token);

            // Removal and the lock live in the session's record, so they hold also when the room emptied since
            // (its live room forgotten). Checked before a live room is made: a refused join leaves nothing behind.
            if (_registry.IsRemoved(session.Id, token.ParticipantId))
                throw new HubException("forbidden: the therapist removed you from this session");
            var isTherapist = token.Role == ParticipantRole.Therapist;
            if (!isTherapist && _registry.IsLocked(session.Id) && !_registry.WasAdmitted(session.Id, token.ParticipantId))
                throw new HubException("forbidden: the room is locked; ask your therapist to unlock it");

            if (!_rooms.TryGetValue(session.Id, out var room))
            {
                // Never a media room that is closing (the previous live room's, closed when its last person left):
                // RoomManager drops a room from its map as soon as its closing starts.
                room = new LiveRoom(session, _media.GetOrCreate(session.Id, this));
                _rooms[session.Id] = room;
            }
            if (!room.Members.TryGetValue(token.ParticipantId, out var member))
            {
                member = new Member(token.ParticipantId, token.DisplayName, token.Role);
                room.Members[member.Id] = member;
            }

            if (member.Present && member.Context is { } previous && previous.ConnectionId != context.ConnectionId)
            {
                replaced = previous; // the same link joined again (a reload or another device): the newest wins
            }
            // A seat kept for a dropped connection is taken over the same way: Join starts a new seat (a new resume id,
            // so the window that dropped can no longer resume it; it is told so when it tries).
            var wasReconnecting = member.Present && member.Reconnecting;
            EndGrace(room, member);
            member.ResumeId = NewSecret();
            member.SeatTag = NewSecret();
            member.PublishedLayers.Clear();
            member.ConnectionId = context.ConnectionId;
            member.Context = context;
            member.Present = true;
            context.Items[typeof(Caller)] = new Caller(room.Id, member.Id, member.Role, context.ConnectionId, member.SeatTag);
            // The older connection's media goes with it (its peer has the old device's ICE and DTLS): the newest
            // connection negotiates afresh. Posted before this Join returns, so it runs before the new Negotiate.
            if (replaced is not null || wasReconnecting) _ = room.Media.RemoveParticipantAsync(member.Id, "joined again from another connection");

            var admitted = isTherapist || !room.WaitingRoom || member.EverAdmitted;
            if (admitted)
            {
                var wasJoined = member.Joined && (replaced is not null || wasReconnecting);
                member.Joined = true;
                member.EverAdmitted = true;
                _registry.MarkConnected(room.Id, member.Id);
                if (!wasJoined) Broadcast(room, sends, "ParticipantJoined", member.ToDto(), except: member.Id);
                else if (wasReconnecting) Broadcast(room, sends, "ParticipantUpdated", member.ToDto(), except: member.Id);
                if (isTherapist) sends.Add(new Outgoing(member.ConnectionId, "WaitingRoomChanged", Waiting(room)));
                if (room.Media.WeakAudio) sends.Add(new Outgoing(member.ConnectionId, "AudioRate", AudioRateDto.For(room.Media.Voices)));
            }
            else
            {
                member.Joined = false;
                _registry.MarkWaiting(room.Id, member.Id);
                NotifyTherapists(room, sends);
            }
            result = Describe(room, member);
        }
        if (replaced is not null)
        {
            LogReplaced(token.ParticipantId);
            replaced.Items.Remove(typeof(Caller));
            // Told before it is closed, so that page says why and does not try to resume (it could not: its resume id
            // is no longer the seat's).
            var notice = new List<Outgoing> { new(replaced.ConnectionId, "Replaced", new ReasonDto(ReplacedReason)) };
            _ = AbortAfterAsync(RunAsync(notice), replaced);
        }
        Run(sends);
        return result;
    }

    /// <summary>The session of a link (its token's signature already checked): it exists, has not ended, and invites
    /// this participant in this role.</summary>
    private SessionSnapshot CheckLink(JoinTokenPayload token)
    {
        if (!_registry.TryGet(token.SessionId, out var session) || session is null)
            throw new HubException("not-found: this session does not exist (the link may be for a server that restarted)");
        if (session.IsEnded) throw new HubException("ended: this session has ended");
        return _registry.CheckAdmission(token) switch
        {
            ParticipantUpdateStatus.Updated => session,
            ParticipantUpdateStatus.SessionEnded => throw new HubException("ended: this session has ended"),
            ParticipantUpdateStatus.RoleMismatch => throw new HubException("unauthorized: this link's role does not match the invitation"),
            _ => throw new HubException("unauthorized: this link is not an invitation to this session"),
        };
    }

    private const string ReplacedReason = "This session was opened from another window or device with the same link.";

    private static async Task AbortAfterAsync(Task sends, HubCallerContext context)
    {
        await sends.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        context.Abort();
    }

    /// <summary>128 random bits, URL-safe: resume ids and seat tags.</summary>
    private static string NewSecret() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private JoinResult Describe(LiveRoom room, Member member, bool keepMedia = false) => new(
        room.Id, room.Title, room.Kind == SessionKind.OneToOne ? "one-to-one" : "group",
        member.Id, JoinTokenService.RoleName(member.Role), member.DisplayName,
        member.Joined ? "joined" : "waiting", _registry.IsLocked(room.Id),
        room.JoinedMembers.Select(m => m.ToDto()).ToList(),
        member.Joined ? TracksFor(room, member.Id) : [],
        member.ResumeId, keepMedia, _grace.Period.TotalSeconds, room.Focus);

    // ------------------------------------------------------------------ reconnecting

    /// <summary>A new hub connection takes back the seat its participant's dropped connection held (docs/signalling.md,
    /// "Reconnecting"): the link's token and the resume id of the seat's last Join. The participant keeps its id, role,
    /// tracks, subscriptions and the modes the therapist set; its media connection too, unless that ended meanwhile
    /// (<see cref="JoinResult.KeepMedia"/> false: negotiate a new one). A resume while the old connection still holds
    /// the seat (the server has not yet seen it drop) closes the old one. A refusal changes nothing for anyone.</summary>
    internal JoinResult Resume(JoinTokenPayload token, string resumeId, HubCallerContext context)
    {
        var sends = new List<Outgoing>();
        JoinResult result;
        HubCallerContext? stale = null;
        lock (_lock)
        {
            var session = CheckLink(token);
            if (_registry.IsRemoved(session.Id, token.ParticipantId))
                throw new HubException("forbidden: the therapist removed you from this session");
            if (!_rooms.TryGetValue(session.Id, out var room) || room.Ended
                || !room.Members.TryGetValue(token.ParticipantId, out var member) || !member.Present || !member.Joined)
                throw new HubException($"not-found: your place in the session was not kept (away longer than {_grace.Period.TotalSeconds:0} s, " +
                    "or not admitted yet); join again with your link");
            if (!SameSecret(member.ResumeId, resumeId))
                throw new HubException("forbidden: your place in this session is held by another window or device that joined with the same link");

            if (member.Context is { } previous && previous.ConnectionId != context.ConnectionId) stale = previous;
            var wasReconnecting = member.Reconnecting;
            var keepMedia = !member.MediaLost;
            EndGrace(room, member);
            member.ConnectionId = context.ConnectionId;
            member.Context = context;
            if (!keepMedia)
            {
                member.SeatTag = NewSecret(); // a new media connection
                member.PublishedLayers.Clear();
            }
            context.Items[typeof(Caller)] = new Caller(room.Id, member.Id, member.Role, context.ConnectionId, member.SeatTag);
            if (wasReconnecting)
            {
                _registry.MarkConnected(room.Id, member.Id);
                Broadcast(room, sends, "ParticipantUpdated", member.ToDto(), except: member.Id);
            }
            // What it missed while away that the result does not carry.
            if (member.Role == ParticipantRole.Therapist) sends.Add(new Outgoing(member.ConnectionId, "WaitingRoomChanged", Waiting(room)));
            sends.Add(new Outgoing(member.ConnectionId, "AudioRate", AudioRateDto.For(room.Media.Voices)));
            if (member.Role == ParticipantRole.Patient)
                sends.Add(new Outgoing(member.ConnectionId, "ModeChanged", new ModeDto(member.Mode, member.ModeReason,
                    member.ModeReason == ParticipantModes.ReasonTherapist, member.ModeReason == ParticipantModes.ReasonTherapist ? 0 : member.TrialKbps)));
            foreach (var (mid, rids) in member.PublishedLayers) sends.Add(new Outgoing(member.ConnectionId, "PublishLayers", new PublishLayersDto(mid, rids)));
            result = Describe(room, member, keepMedia);
            LogResumed(member.Id, wasReconnecting, keepMedia);
        }
        if (stale is not null)
        {
            stale.Items.Remove(typeof(Caller));
            stale.Abort();
        }
        Run(sends);
        return result;
    }

    private static bool SameSecret(string expected, string? presented) =>
        expected.Length > 0 && presented is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(presented));

    /// <summary>The caller's hub connection closed without a Leave. An admitted participant keeps its seat and its media
    /// for the grace period (the others see it "reconnecting"); anyone else, or everyone when the grace is off, leaves
    /// as with Leave.</summary>
    internal async Task DisconnectedAsync(Caller caller, string connectionId)
    {
        var sends = new List<Outgoing>();
        var kept = false;
        lock (_lock)
        {
            if (!_rooms.TryGetValue(caller.SessionId, out var room) || room.Ended || !room.Members.TryGetValue(caller.ParticipantId, out var member)) return;
            if (!member.Present || member.ConnectionId != connectionId) return; // already left, or taken by a newer connection
            if (member.Joined && _grace.Enabled)
            {
                kept = true;
                member.Reconnecting = true;
                member.ConnectionId = "";
                member.Context = null;
                member.GraceTicket = _grace.Start(room.Id, member.Id, OnGraceExpired);
                _registry.MarkReconnecting(room.Id, member.Id);
                Broadcast(room, sends, "ParticipantUpdated", member.ToDto(), except: member.Id);
                LogReconnecting(member.Id, _grace.Period.TotalSeconds);
            }
        }
        if (kept) Run(sends);
        else await LeaveAsync(caller, connectionId, "disconnected");
    }

    /// <summary>A seat's grace period ran out (timer thread): the participant leaves, its media goes.</summary>
    private void OnGraceExpired(string sessionId, string participantId, long ticket)
    {
        var sends = new List<Outgoing>();
        MediaRoom media;
        lock (_lock)
        {
            if (!_rooms.TryGetValue(sessionId, out var room) || room.Ended || !room.Members.TryGetValue(participantId, out var member)
                || !member.Present || !member.Reconnecting || member.GraceTicket != ticket) return;
            MarkLeft(room, member, $"did not reconnect within {_grace.Period.TotalSeconds:0} s", sends);
            media = room.Media;
        }
        LogGraceExpired(participantId);
        _ = RemoveMediaThenSendAsync(media, participantId, "did not reconnect", sends);
    }

    private async Task RemoveMediaThenSendAsync(MediaRoom media, string participantId, string reason, List<Outgoing> sends)
    {
        try
        {
            await media.RemoveParticipantAsync(participantId, reason).ConfigureAwait(false);
        }
        finally
        {
            Run(sends);
        }
    }

    /// <summary>The seat is no longer reconnecting (it came back, joined afresh or left): its grace timer stops.</summary>
    private void EndGrace(LiveRoom room, Member member)
    {
        if (member.GraceTicket != 0) _grace.Cancel(room.Id, member.Id);
        member.GraceTicket = 0;
        member.Reconnecting = false;
        member.MediaLost = false;
    }

    private static List<TrackDto> TracksFor(LiveRoom room, string participantId) => room.Media.Tracks
        .Where(t => t.ParticipantId != participantId && room.Members.TryGetValue(t.ParticipantId, out var owner) && owner.Joined && owner.Present)
        .Select(t => new TrackDto(t.TrackId, t.ParticipantId, t.Kind)).ToList();

    private static List<ParticipantDto> Waiting(LiveRoom room) =>
        room.Members.Values.Where(m => m.Present && !m.Joined).Select(m => m.ToDto()).ToList();

    // ------------------------------------------------------------------ media

    /// <summary>Which videos a receiver's budget serves first: a patient (or observer) sees the therapist first, the
    /// therapist sees the patients first.</summary>
    private static int Priority(ParticipantRole receiver, ParticipantRole? publisher) =>
        receiver == ParticipantRole.Therapist ? (publisher == ParticipantRole.Patient ? 1 : 0) : (publisher == ParticipantRole.Therapist ? 1 : 0);

    /// <summary>What a role may publish (<c>TeleRehab:Limits</c>); observers publish nothing.</summary>
    private PublishLimits PublishLimitsFor(ParticipantRole role) => role switch
    {
        ParticipantRole.Therapist => _therapistLimits,
        ParticipantRole.Patient => _patientLimits,
        _ => PublishLimits.None,
    };

    internal async Task<string> NegotiateAsync(Caller caller, NegotiateRequest request)
    {
        MediaRoom media;
        Dictionary<string, ParticipantRole> roles;
        lock (_lock)
        {
            var (room, member) = Require(caller);
            if (!member.Joined) throw new HubException("forbidden: wait until the therapist admits you");
            media = room.Media;
            roles = room.Members.Values.ToDictionary(m => m.Id, m => m.Role, StringComparer.Ordinal);
        }
        if (string.IsNullOrWhiteSpace(request.Sdp)) throw new HubException("invalid: the offer's sdp is empty");
        var startReason = request.StartMode == ParticipantModes.AudioPose ? UplinkModeDecider.Check : null;
        if (startReason is not null && caller.Role != ParticipantRole.Patient)
            throw new HubException("invalid: only a patient starts in audio + pose (patients send movement)");
        var owners = media.Tracks.ToDictionary(t => t.TrackId, t => t.ParticipantId, StringComparer.Ordinal);
        var subscriptions = (request.Subscriptions ?? []).Select(s => new SubscriptionRequest(s?.Mid ?? "", s?.TrackId ?? "",
            Priority(caller.Role, owners.TryGetValue(s?.TrackId ?? "", out var owner) ? roles.GetValueOrDefault(owner) : null))).ToList();
        var result = await media.NegotiateAsync(caller.ParticipantId, PublishLimitsFor(caller.Role), request.Sdp, subscriptions, caller.SeatTag,
            startReason);
        bool stillHere, gone, ended;
        lock (_lock)
        {
            ended = !_rooms.TryGetValue(caller.SessionId, out var room) || room.Ended || !ReferenceEquals(room.Media, media);
            var member = ended ? null : room!.Members.GetValueOrDefault(caller.ParticipantId);
            stillHere = member is { Present: true, Joined: true } && member.ConnectionId == caller.ConnectionId;
            gone = member is not { Present: true };
        }
        if (!stillHere)
        {
            // The caller left, was removed or the session ended while its offer was being answered: the answer may
            // have set up a peer for someone no longer in the room, which must not keep receiving the room's media.
            if (gone) _ = media.RemoveParticipantAsync(caller.ParticipantId, "left during negotiation");
            throw new HubException(ended ? "ended: this session has ended" : "unauthorized: you are no longer in this session; join again");
        }
        if (!result.Succeeded) throw new HubException($"invalid: {result.Error}");
        return result.AnswerSdp!;
    }

    internal async Task SetMutedAsync(Caller caller, string kind, bool muted)
    {
        var sends = new List<Outgoing>();
        MediaRoom media;
        lock (_lock)
        {
            var (room, member) = Require(caller);
            if (kind == "audio") member.AudioMuted = muted;
            else member.VideoMuted = muted;
            media = room.Media;
            if (member.Joined) Broadcast(room, sends, "ParticipantUpdated", member.ToDto());
        }
        await media.SetMutedAsync(caller.ParticipantId, kind, muted);
        Run(sends);
    }

    internal async Task SetOwnPoseViewAsync(Caller caller, bool show)
    {
        MediaRoom media;
        lock (_lock)
        {
            var (room, _) = Require(caller);
            media = room.Media;
        }
        await media.SetPoseInterestAsync(caller.ParticipantId, show ? PoseInterest.Own : PoseInterest.Default);
    }

    /// <summary>The ladder's thresholds for a patient's page, which judges its own evidence by them (null for others).</summary>
    internal UplinkLadderDto? LadderFor(Caller caller) => caller.Role == ParticipantRole.Patient
        ? new UplinkLadderDto(_media.UplinkMode.LowestVideoBps, _media.UplinkMode.MinUsefulFps)
        : null;

    /// <summary>A patient's page found its uplink too weak for video by itself: the ladder adopts audio + pose (reason
    /// "device") and tells the page and the room as for its own decisions (a mode the therapist holds stays held).</summary>
    internal async Task ReportWeakUplinkAsync(Caller caller, WeakUplinkReport report)
    {
        MediaRoom media;
        lock (_lock)
        {
            var (room, member) = Require(caller);
            if (!member.Joined) throw new HubException("forbidden: wait until the therapist admits you");
            if (member.Role != ParticipantRole.Patient) throw new HubException("invalid: only a patient reports its uplink (patients send movement)");
            media = room.Media;
        }
        var outcome = await media.StepDownUplinkAsync(caller.ParticipantId, UplinkModeDecider.Device);
        LogWeakUplinkReport(caller.ParticipantId, report.EstimateKbps, report.VideoKbps, report.RttMs, outcome);
        if (outcome == UplinkStepDown.NoLadder)
            throw new HubException("conflict: no media connection sending video and movement yet; Negotiate first");
    }

    // ------------------------------------------------------------------ therapist controls

    internal void Admit(Caller caller, string participantId)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            var (room, _) = RequireTherapist(caller);
            if (!room.Members.TryGetValue(participantId, out var target) || !target.Present)
                throw new HubException("not-found: nobody with that id is waiting");
            if (target.Joined) return;
            target.Joined = true;
            target.EverAdmitted = true;
            _registry.MarkConnected(room.Id, target.Id);
            var welcome = Describe(room, target);
            sends.Add(new Outgoing(target.ConnectionId, "Admitted", welcome));
            if (room.Media.WeakAudio) sends.Add(new Outgoing(target.ConnectionId, "AudioRate", AudioRateDto.For(room.Media.Voices)));
            Broadcast(room, sends, "ParticipantJoined", target.ToDto(), except: target.Id);
            NotifyTherapists(room, sends);
        }
        Run(sends);
    }

    internal async Task MuteParticipantAsync(Caller caller, string participantId, string kind)
    {
        var sends = new List<Outgoing>();
        MediaRoom media;
        lock (_lock)
        {
            var (room, _) = RequireTherapist(caller);
            if (!room.Members.TryGetValue(participantId, out var target) || !target.Present || !target.Joined)
                throw new HubException("not-found: that participant is not in the room");
            if (kind == "audio") target.AudioMuted = true;
            else target.VideoMuted = true;
            media = room.Media;
            sends.Add(new Outgoing(target.ConnectionId, "MutedByTherapist", new KindDto(kind)));
            Broadcast(room, sends, "ParticipantUpdated", target.ToDto());
        }
        await media.SetMutedAsync(participantId, kind, true);
        Run(sends);
    }

    /// <summary>The therapist holds a patient in audio + pose (its page stops sending video and sends its movement), or
    /// lets it go back to video. The patient's page is told (<c>ModeChanged</c>), everyone sees the mode.</summary>
    internal void HoldMode(Caller caller, string participantId, string mode)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            var (room, _) = RequireTherapist(caller);
            if (!room.Members.TryGetValue(participantId, out var target) || !target.Present || !target.Joined)
                throw new HubException("not-found: that participant is not in the room");
            if (target.Role != ParticipantRole.Patient) throw new HubException("invalid: only a patient's mode can be held (patients send movement)");
            var hold = mode == ParticipantModes.AudioPose;
            // Released, the participant goes back to what the ladder decides for its uplink.
            target.Mode = hold ? ParticipantModes.AudioPose : target.AutoMode;
            target.ModeReason = hold ? ParticipantModes.ReasonTherapist : target.AutoReason;
            sends.Add(new Outgoing(target.ConnectionId, "ModeChanged", new ModeDto(target.Mode, target.ModeReason, hold)));
            Broadcast(room, sends, "ParticipantUpdated", target.ToDto());
        }
        Run(sends);
    }

    /// <summary>The therapist puts someone in focus: the video every patient's page shows large (the therapist's own id,
    /// or null, puts nobody in focus: the pages show the therapist). Everyone admitted is told (<c>FocusChanged</c>),
    /// and a (re)joining participant finds it in its <see cref="JoinResult"/>; it ends when that participant leaves.</summary>
    internal void SetFocus(Caller caller, string? participantId)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            var (room, _) = RequireTherapist(caller);
            if (participantId == caller.ParticipantId) participantId = null;
            if (participantId is not null)
            {
                if (!room.Members.TryGetValue(participantId, out var target) || !target.Present || !target.Joined)
                    throw new HubException("not-found: that participant is not in the room");
                if (target.Role == ParticipantRole.Observer) throw new HubException("invalid: an observer sends no video to put in focus");
            }
            if (room.Focus == participantId) return;
            room.Focus = participantId;
            // Posted under the lock, so the media worker applies focus changes in the order they were made.
            _ = room.Media.SetFocusAsync(participantId);
            Broadcast(room, sends, "FocusChanged", new FocusDto(participantId));
        }
        Run(sends);
    }

    internal async Task RemoveParticipantAsync(Caller caller, string participantId)
    {
        var sends = new List<Outgoing>();
        HubCallerContext? context;
        MediaRoom media;
        lock (_lock)
        {
            var (room, _) = RequireTherapist(caller);
            if (participantId == caller.ParticipantId) throw new HubException("invalid: use Leave or EndSession to leave your own session");
            if (!room.Members.TryGetValue(participantId, out var target) || !target.Present)
                throw new HubException("not-found: that participant is not in the room");
            _registry.MarkRemoved(room.Id, target.Id);
            context = target.Context;
            var connectionId = target.ConnectionId;
            sends.Add(new Outgoing(connectionId, "Removed", new ReasonDto("The therapist removed you from the session.")));
            MarkLeft(room, target, "removed by the therapist", sends);
            media = room.Media;
        }
        await media.RemoveParticipantAsync(participantId, "removed by the therapist");
        await RunAsync(sends);
        context?.Abort();
    }

    internal void LockRoom(Caller caller, bool locked)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            var (room, _) = RequireTherapist(caller);
            _registry.SetLocked(room.Id, locked);
            foreach (var member in room.Members.Values.Where(m => m.Present))
                sends.Add(new Outgoing(member.ConnectionId, "RoomLocked", new LockedDto(locked)));
        }
        Run(sends);
    }

    internal void EndSession(Caller caller)
    {
        lock (_lock) RequireTherapist(caller);
        _registry.End(caller.SessionId); // raises SessionEnded -> EndRoom
    }

    // ------------------------------------------------------------------ leaving

    /// <summary>The caller leaves (Leave, or its hub connection closed).</summary>
    internal async Task LeaveAsync(Caller caller, string connectionId, string reason)
    {
        var sends = new List<Outgoing>();
        MediaRoom? media = null;
        lock (_lock)
        {
            if (!_rooms.TryGetValue(caller.SessionId, out var room) || !room.Members.TryGetValue(caller.ParticipantId, out var member)) return;
            if (!member.Present || member.ConnectionId != connectionId) return; // already left, or replaced by a newer connection
            MarkLeft(room, member, reason, sends);
            media = room.Media;
        }
        await media.RemoveParticipantAsync(caller.ParticipantId, reason);
        Run(sends);
    }

    private void MarkLeft(LiveRoom room, Member member, string reason, List<Outgoing> sends)
    {
        EndGrace(room, member);
        var wasJoined = member.Joined;
        member.Present = false;
        member.Quality = "unknown";
        member.Joined = false;
        // A new connection starts the ladder afresh (a mode the therapist holds stays held).
        (member.AutoMode, member.AutoReason, member.TrialKbps) = (ParticipantModes.Video, "", 0);
        if (member.ModeReason != ParticipantModes.ReasonTherapist) (member.Mode, member.ModeReason) = (ParticipantModes.Video, "");
        member.Context?.Items.Remove(typeof(Caller));
        member.Context = null;
        _registry.MarkLeft(room.Id, member.Id);
        if (wasJoined) Broadcast(room, sends, "ParticipantLeft", new ParticipantLeftDto(member.Id, reason));
        else NotifyTherapists(room, sends);
        if (room.Focus == member.Id)
        {
            // The one in focus left: the patients' pages show the therapist again.
            room.Focus = null;
            _ = room.Media.SetFocusAsync(null);
            Broadcast(room, sends, "FocusChanged", new FocusDto(null));
        }
        ForgetIfEmpty(room);
    }

    /// <summary>The last person left: the live room is forgotten and its media room closed. Both happen under the
    /// coordinator's lock, and <see cref="MediaRoom.CloseAsync"/> takes the media room out of the
    /// <see cref="RoomManager"/> before it returns, so a Join right after makes a new live room with a new media room;
    /// it never gets the one whose close is still queued on its worker (which would refuse every Negotiate).</summary>
    private void ForgetIfEmpty(LiveRoom room)
    {
        if (room.Members.Values.Any(m => m.Present)) return;
        _rooms.Remove(room.Id);
        _ = room.Media.CloseAsync("everyone left");
    }

    /// <summary>The session ended (therapist or operator): everyone is told and disconnected, media closed.</summary>
    private void EndRoom(string sessionId, string reason)
    {
        var sends = new List<Outgoing>();
        var contexts = new List<HubCallerContext>();
        LiveRoom? room;
        lock (_lock)
        {
            if (!_rooms.Remove(sessionId, out room)) return;
            room.Ended = true;
            foreach (var member in room.Members.Values.Where(m => m.Present))
            {
                var connectionId = member.ConnectionId;
                sends.Add(new Outgoing(connectionId, "SessionEnded", new ReasonDto(reason)));
                if (member.Context is { } context) contexts.Add(context);
                EndGrace(room, member);
                member.Present = false;
                member.Context?.Items.Remove(typeof(Caller));
            }
        }
        _ = Task.Run(async () =>
        {
            await RunAsync(sends);
            await room.Media.CloseAsync(reason);
            foreach (var context in contexts) context.Abort();
        });
    }

    // ------------------------------------------------------------------ media plane reports (worker thread: never block)

    void IRoomListener.OnTracksChanged(MediaRoom media, IReadOnlyList<TrackInfo> tracks)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            if (!_rooms.TryGetValue(media.Id, out var room) || !ReferenceEquals(room.Media, media)) return;
            foreach (var member in room.JoinedMembers)
            {
                var list = TracksFor(room, member.Id);
                var connectionId = member.ConnectionId;
                sends.Add(new Outgoing(connectionId, "TracksChanged", list));
            }
        }
        Run(sends);
    }

    void IRoomListener.OnParticipantConnected(MediaRoom media, string participantId)
    {
    }

    /// <summary>The SFU wants the participant to send only some simulcast encodings of a track (nobody needs the others).</summary>
    void IRoomListener.OnPublishedLayers(MediaRoom media, string participantId, string mid, IReadOnlyList<string> activeRids)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            if (!_rooms.TryGetValue(media.Id, out var room) || !ReferenceEquals(room.Media, media)
                || !room.Members.TryGetValue(participantId, out var member) || !member.Present || member.ConnectionId is not { } connectionId) return;
            member.PublishedLayers[mid] = activeRids;
            sends.Add(new Outgoing(connectionId, "PublishLayers", new PublishLayersDto(mid, activeRids)));
        }
        Run(sends);
    }

    /// <summary>The ladder's decision for a patient's uplink: the page is told unless the therapist holds a mode (then
    /// it applies when released); everyone sees a change of mode, a trial only the page.</summary>
    void IRoomListener.OnUplinkMode(MediaRoom media, string participantId, UplinkMode mode, string reason, long trialBps)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            if (!_rooms.TryGetValue(media.Id, out var room) || !ReferenceEquals(room.Media, media)
                || !room.Members.TryGetValue(participantId, out var member) || !member.Present || !member.Joined
                || member.Role != ParticipantRole.Patient) return;
            member.AutoMode = mode == UplinkMode.AudioPose ? ParticipantModes.AudioPose : ParticipantModes.Video;
            member.AutoReason = reason;
            member.TrialKbps = (int)Math.Min(int.MaxValue, trialBps / 1000);
            if (member.ModeReason == ParticipantModes.ReasonTherapist) return;
            var changed = member.Mode != member.AutoMode || member.ModeReason != member.AutoReason;
            member.Mode = member.AutoMode;
            member.ModeReason = member.AutoReason;
            sends.Add(new Outgoing(member.ConnectionId, "ModeChanged", new ModeDto(member.Mode, member.ModeReason, false, member.TrialKbps)));
            if (changed) Broadcast(room, sends, "ParticipantUpdated", member.ToDto());
        }
        Run(sends);
    }

    /// <summary>Someone in the room is on a weak link, or no longer: every voice is to be sent as that link carries it.</summary>
    void IRoomListener.OnVoiceRung(MediaRoom media, VoiceRung rung)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            if (!_rooms.TryGetValue(media.Id, out var room) || !ReferenceEquals(room.Media, media)) return;
            Broadcast(room, sends, "AudioRate", AudioRateDto.For(rung));
        }
        Run(sends);
    }

    void IRoomListener.OnParticipantQuality(MediaRoom media, string participantId, string quality)
    {
        var sends = new List<Outgoing>();
        lock (_lock)
        {
            if (!_rooms.TryGetValue(media.Id, out var room) || !ReferenceEquals(room.Media, media)
                || !room.Members.TryGetValue(participantId, out var member) || !member.Present || !member.Joined) return;
            member.Quality = quality;
            Broadcast(room, sends, "ParticipantUpdated", member.ToDto());
        }
        Run(sends);
    }

    /// <summary>A media connection ended by itself (consent lost: the peer vanished without a goodbye, or DTLS
    /// failed): the participant has left the room.</summary>
    void IRoomListener.OnParticipantDisconnected(MediaRoom media, string participantId, string reason, string? connectionTag)
    {
        var sends = new List<Outgoing>();
        HubCallerContext? context = null;
        lock (_lock)
        {
            if (!_rooms.TryGetValue(media.Id, out var room) || !ReferenceEquals(room.Media, media)
                || !room.Members.TryGetValue(participantId, out var member) || !member.Present) return;
            // A report from the media room of an earlier live room of this session (closed when it emptied) is about
            // nobody here now (checked above). A late report about the media of an older connection (the same link
            // joined again since) is not about the participant as it is now.
            if (connectionTag is not null && connectionTag != member.SeatTag) return;
            if (member.Reconnecting)
            {
                // Its hub connection is away too (a network gone for a while): the seat stays for the grace period, and
                // the page negotiates a new media connection when it resumes. What the ladder knew was about that one.
                member.MediaLost = true;
                (member.AutoMode, member.AutoReason, member.TrialKbps) = (ParticipantModes.Video, "", 0);
                if (member.ModeReason != ParticipantModes.ReasonTherapist) (member.Mode, member.ModeReason) = (ParticipantModes.Video, "");
                member.Quality = "unknown";
                Broadcast(room, sends, "ParticipantUpdated", member.ToDto(), except: member.Id);
                Run(sends);
                return;
            }
            context = member.Context;
            MarkLeft(room, member, $"connection lost: {reason}", sends);
        }
        Run(sends);
        context?.Abort();
    }

    // ------------------------------------------------------------------ helpers

    private (LiveRoom Room, Member Member) Require(Caller caller)
    {
        if (!_rooms.TryGetValue(caller.SessionId, out var room) || room.Ended) throw new HubException("ended: this session has ended");
        if (!room.Members.TryGetValue(caller.ParticipantId, out var member) || !member.Present)
            throw new HubException("unauthorized: you are not in this session; join again");
        return (room, member);
    }

    private (LiveRoom Room, Member Member) RequireTherapist(Caller caller)
    {
        var (room, member) = Require(caller);
        if (member.Role != ParticipantRole.Therapist) throw new HubException("forbidden: only the therapist can do that");
        return (room, member);
    }

    private void Broadcast<T>(LiveRoom room, List<Outgoing> sends, string method, T payload, string? except = null)
    {
        foreach (var member in room.JoinedMembers)
        {
            if (member.Id == except) continue;
            var connectionId = member.ConnectionId;
            sends.Add(new Outgoing(connectionId, method, payload));
        }
    }

    private void NotifyTherapists(LiveRoom room, List<Outgoing> sends)
    {
        var waiting = Waiting(room);
        foreach (var therapist in room.JoinedMembers.Where(m => m.Role == ParticipantRole.Therapist))
        {
            var connectionId = therapist.ConnectionId;
            sends.Add(new Outgoing(connectionId, "WaitingRoomChanged", waiting));
        }
    }

    /// <summary>An event for one connection, sent after the room lock is released.</summary>
    internal readonly record struct Outgoing(string ConnectionId, string Method, object? Payload);

    private readonly Dictionary<string, Task> _chains = new(StringComparer.Ordinal);
    private readonly Lock _chainLock = new();

    private void Run(List<Outgoing> sends) => _ = RunAsync(sends);

    /// <summary>Sends keep their order per connection (each connection's sends are chained), and a slow connection
    /// delays only its own events.</summary>
    private Task RunAsync(List<Outgoing> sends)
    {
        var tasks = new List<Task>(sends.Count);
        lock (_chainLock)
        {
            foreach (var send in sends)
            {
                if (send.ConnectionId.Length == 0) continue; // a participant reconnecting: it catches up when it resumes
                var previous = _chains.GetValueOrDefault(send.ConnectionId, Task.CompletedTask);
                var next = SendAfterAsync(previous, send);
                _chains[send.ConnectionId] = next;
                tasks.Add(next);
            }
        }
        return Task.WhenAll(tasks);
    }

    private async Task SendAfterAsync(Task previous, Outgoing send)
    {
        await previous.ConfigureAwait(false);
        try
        {
            await _hub.Clients.Client(send.ConnectionId).SendAsync(send.Method, send.Payload).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogSendFailed(ex);
        }
    }

    /// <summary>Drops a closed connection's send chain.</summary>
    internal void ForgetConnection(string connectionId)
    {
        lock (_chainLock) _chains.Remove(connectionId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Participant {ParticipantId} joined again; the older connection was closed")]
    private partial void LogReplaced(string participantId);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Participant {ParticipantId}'s page reports a weak uplink (send estimate {EstimateKbps} kbit/s, video {VideoKbps} kbit/s, round trip {RttMs} ms): {Outcome}")]
    private partial void LogWeakUplinkReport(string participantId, int estimateKbps, int videoKbps, int rttMs, UplinkStepDown outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Participant {ParticipantId}'s hub connection dropped; its place is kept for {GraceSeconds} s")]
    private partial void LogReconnecting(string participantId, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Participant {ParticipantId} resumed its place (was reconnecting: {WasReconnecting}; media kept: {KeepMedia})")]
    private partial void LogResumed(string participantId, bool wasReconnecting, bool keepMedia);

    [LoggerMessage(Level = LogLevel.Information, Message = "Participant {ParticipantId} did not reconnect within the grace period and left")]
    private partial void LogGraceExpired(string participantId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending a hub event failed")]
    private partial void LogSendFailed(Exception ex);
}
