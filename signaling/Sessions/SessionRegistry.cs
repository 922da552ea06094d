using Microsoft.Extensions.Logging.Abstractions;

namespace TeleRehab.Signaling.Sessions;

/// <summary>Configuration section <c>TeleRehab:Sessions</c>.</summary>
public sealed class SessionOptions
{
    public const string Section = "TeleRehab:Sessions";

    /// <summary>Patients a group session may invite.</summary>
    public int MaxGroupPatients { get; set; } = 12;

    /// <summary>Observers a session may have (the one made with the session included).</summary>
    public int MaxObservers { get; set; } = 4;

    /// <summary>How long an ended session stays readable (GET) before the registry forgets it.</summary>
    public double EndedRetentionHours { get; set; } = 24;
}

/// <summary>Outcomes of <see cref="SessionRegistry.AddParticipant"/>.</summary>
public enum AddParticipantStatus { Added, SessionNotFound, SessionEnded, RoleFull }

/// <summary>Outcomes of the <c>Mark*</c> methods and of <see cref="SessionRegistry.CheckAdmission"/>.</summary>
public enum ParticipantUpdateStatus { Updated, SessionNotFound, SessionEnded, ParticipantNotFound, RoleMismatch }

/// <summary>Outcomes of <see cref="SessionRegistry.End"/>.</summary>
public enum EndSessionStatus { Ended, NotFound, AlreadyEnded }

/// <summary>Every session of this server, in memory (they do not survive a restart). Thread-safe; one lock, as this
/// is the cold path (a few calls per join/leave, never per packet). <see cref="SessionEnded"/> is raised outside the lock.</summary>
public sealed class SessionRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly SessionOptions _options;
    private readonly ILogger _logger;

    public SessionRegistry(SessionOptions options, TimeProvider time, ILogger<SessionRegistry>? logger = null)
    {
        if (options.MaxGroupPatients < 1) throw new InvalidOperationException($"{SessionOptions.Section}:MaxGroupPatients must be at least 1.");
        if (options.MaxObservers < 1) throw new InvalidOperationException($"{SessionOptions.Section}:MaxObservers must be at least 1.");
        if (!(options.EndedRetentionHours >= 0)) throw new InvalidOperationException($"{SessionOptions.Section}:EndedRetentionHours must not be negative.");
        _options = options;
        _time = time;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public SessionOptions Options => _options;

    /// <summary>Raised once when a session ends, after the registry has recorded it; the hub disconnects everyone.
    /// A handler's exception is logged and does not stop the other handlers.</summary>
    public event EventHandler<SessionEndedEventArgs>? SessionEnded;

    /// <summary>Sessions not yet ended.</summary>
    public int ActiveCount
    {
        get { lock (_lock) return _sessions.Values.Count(s => s.EndedAt is null); }
    }

    public SessionSnapshot Create(string title, SessionKind kind, bool waitingRoom, string? language = null)
    {
        ArgumentNullException.ThrowIfNull(title);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            ForgetOldEnded(now);
            string id;
            do id = SessionIds.NewSessionId(); while (_sessions.ContainsKey(id));
            var session = new Session(id, title, kind, waitingRoom, now) { Language = language };
            _sessions.Add(id, session);
            return session.Snapshot();
        }
    }

    public bool TryGet(string sessionId, out SessionSnapshot? session)
    {
        lock (_lock)
        {
            ForgetOldEnded(_time.GetUtcNow());
            session = _sessions.TryGetValue(sessionId, out var s) ? s.Snapshot() : null;
            return session is not null;
        }
    }

    /// <summary>Adds an invited participant with a new id. A one-to-one session has one patient; a group at most
    /// <see cref="SessionOptions.MaxGroupPatients"/>; observers at most <see cref="SessionOptions.MaxObservers"/>; one therapist.</summary>
    public AddParticipantStatus AddParticipant(string sessionId, ParticipantRole role, string displayName, out ParticipantSnapshot? participant, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(displayName);
        participant = null;
        lock (_lock)
        {
            if (!_sessions.TryGetValue(sessionId, out var session))
            {
                reason = $"no session '{sessionId}'";
                return AddParticipantStatus.SessionNotFound;
            }
            if (session.EndedAt is not null)
            {
                reason = $"session '{sessionId}' has ended";
                return AddParticipantStatus.SessionEnded;
            }
            var limit = role switch
            {
                ParticipantRole.Therapist => 1,
                ParticipantRole.Patient => session.Kind == SessionKind.OneToOne ? 1 : _options.MaxGroupPatients,
                _ => _options.MaxObservers,
            };
            if (session.Participants.Count(p => p.Role == role) >= limit)
            {
                reason = role switch
                {
                    ParticipantRole.Therapist => "the session already has its therapist",
                    ParticipantRole.Patient when session.Kind == SessionKind.OneToOne => "a one-to-one session has exactly one patient, who is already invited",
                    ParticipantRole.Patient => $"the group already has {limit} patients (the limit)",
                    _ => $"the session already has {limit} observers (the limit)",
                };
                return AddParticipantStatus.RoleFull;
            }
            string id;
            do id = SessionIds.NewParticipantId(); while (session.Participants.Any(p => p.Id == id));
            var added = new Participant(id, displayName, role);
            session.Participants.Add(added);
            participant = added.Snapshot();
            reason = null;
            return AddParticipantStatus.Added;
        }
    }

    /// <summary>Whether a validated token's holder may join now: the session exists and runs, and the participant
    /// is one the session invited, with the same role.</summary>
    public ParticipantUpdateStatus CheckAdmission(JoinTokenPayload token)
    {
        lock (_lock)
        {
            var status = Find(token.SessionId, token.ParticipantId, allowEnded: false, out _, out var participant);
            if (status != ParticipantUpdateStatus.Updated) return status;
            return participant!.Role == token.Role ? ParticipantUpdateStatus.Updated : ParticipantUpdateStatus.RoleMismatch;
        }
    }

    /// <summary>The participant is in the room (media flowing or about to).</summary>
    public ParticipantUpdateStatus MarkConnected(string sessionId, string participantId) => Mark(sessionId, participantId, ParticipantState.Connected);

    /// <summary>The participant's hub connection dropped; its place is kept for it for the grace period.</summary>
    public ParticipantUpdateStatus MarkReconnecting(string sessionId, string participantId) => Mark(sessionId, participantId, ParticipantState.Reconnecting);

    /// <summary>The participant is in the waiting room, to be admitted by the therapist.</summary>
    public ParticipantUpdateStatus MarkWaiting(string sessionId, string participantId) => Mark(sessionId, participantId, ParticipantState.Waiting);

    /// <summary>The participant has gone (also allowed after the session ended, as the hub disconnects everyone).</summary>
    public ParticipantUpdateStatus MarkLeft(string sessionId, string participantId) => Mark(sessionId, participantId, ParticipantState.Left);

    /// <summary>The therapist removed the participant: its link no longer joins this session, however often the
    /// room empties and fills again (kept here, not in the live room, which is forgotten when everyone has gone).</summary>
    public ParticipantUpdateStatus MarkRemoved(string sessionId, string participantId)
    {
        lock (_lock)
        {
            var status = Find(sessionId, participantId, allowEnded: true, out _, out var participant);
            if (status == ParticipantUpdateStatus.Updated) participant!.Removed = true;
            return status;
        }
    }

    /// <summary>Whether the therapist removed the participant from the session (false for an unknown one).</summary>
    public bool IsRemoved(string sessionId, string participantId)
    {
        lock (_lock)
        {
            return Find(sessionId, participantId, allowEnded: true, out _, out var participant) == ParticipantUpdateStatus.Updated
                && participant!.Removed;
        }
    }

    /// <summary>Whether the participant was ever let into the room (joined, or admitted from the waiting room).</summary>
    public bool WasAdmitted(string sessionId, string participantId)
    {
        lock (_lock)
        {
            return Find(sessionId, participantId, allowEnded: true, out _, out var participant) == ParticipantUpdateStatus.Updated
                && participant!.Admitted;
        }
    }

    /// <summary>Locks or unlocks the session's room: while locked, nobody who was never admitted gets in. Kept for the
    /// session's life, across the room emptying. False when there is no such session or it has ended.</summary>
    public bool SetLocked(string sessionId, bool locked)
    {
        lock (_lock)
        {
            if (!_sessions.TryGetValue(sessionId, out var session) || session.EndedAt is not null) return false;
            session.Locked = locked;
            return true;
        }
    }

    /// <summary>Whether the session's room is locked (false for an unknown session).</summary>
    public bool IsLocked(string sessionId)
    {
        lock (_lock) return _sessions.TryGetValue(sessionId, out var session) && session.Locked;
    }

    /// <summary>Ends the session: records the time and raises <see cref="SessionEnded"/> once.</summary>
    public EndSessionStatus End(string sessionId)
    {
        SessionSnapshot ended;
        lock (_lock)
        {
            if (!_sessions.TryGetValue(sessionId, out var session)) return EndSessionStatus.NotFound;
            if (session.EndedAt is not null) return EndSessionStatus.AlreadyEnded;
            session.EndedAt = _time.GetUtcNow();
            ended = session.Snapshot();
        }
        RaiseEnded(ended);
        return EndSessionStatus.Ended;
    }

    private ParticipantUpdateStatus Mark(string sessionId, string participantId, ParticipantState state)
    {
        lock (_lock)
        {
            var status = Find(sessionId, participantId, allowEnded: state == ParticipantState.Left, out _, out var participant);
            if (status == ParticipantUpdateStatus.Updated)
            {
                participant!.State = state;
                if (state == ParticipantState.Connected) participant.Admitted = true;
            }
            return status;
        }
    }

    private ParticipantUpdateStatus Find(string sessionId, string participantId, bool allowEnded, out Session? session, out Participant? participant)
    {
        participant = null;
        if (!_sessions.TryGetValue(sessionId, out session)) return ParticipantUpdateStatus.SessionNotFound;
        if (session.EndedAt is not null && !allowEnded) return ParticipantUpdateStatus.SessionEnded;
        participant = session.Participants.Find(p => p.Id == participantId);
        return participant is null ? ParticipantUpdateStatus.ParticipantNotFound : ParticipantUpdateStatus.Updated;
    }

    private void ForgetOldEnded(DateTimeOffset now)
    {
        var retention = TimeSpan.FromHours(_options.EndedRetentionHours);
        List<string>? old = null;
        foreach (var (id, session) in _sessions)
        {
            if (session.EndedAt is { } ended && now - ended > retention) (old ??= []).Add(id);
        }
        if (old is null) return;
        foreach (var id in old) _sessions.Remove(id);
    }

    private void RaiseEnded(SessionSnapshot ended)
    {
        if (SessionEnded is not { } handlers) return;
        var args = new SessionEndedEventArgs(ended);
        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<SessionEndedEventArgs>>())
        {
            try
            {
                handler(this, args);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "A SessionEnded handler failed for session {SessionId}", ended.Id);
            }
        }
    }

    private sealed class Session(string id, string title, SessionKind kind, bool waitingRoom, DateTimeOffset createdAt)
    {
        public string Id { get; } = id;
        public string Title { get; } = title;
        public SessionKind Kind { get; } = kind;
        public bool WaitingRoom { get; } = waitingRoom;
        public DateTimeOffset CreatedAt { get; } = createdAt;
        public DateTimeOffset? EndedAt { get; set; }
        public bool Locked { get; set; }
        public string? Language { get; init; }
        public List<Participant> Participants { get; } = [];

        public SessionSnapshot Snapshot() =>
            new(Id, Title, Kind, WaitingRoom, CreatedAt, EndedAt, Participants.ConvertAll(p => p.Snapshot()), Locked, Language);
    }

    private sealed class Participant(string id, string displayName, ParticipantRole role)
    {
        public string Id { get; } = id;
        public string DisplayName { get; } = displayName;
        public ParticipantRole Role { get; } = role;
        public ParticipantState State { get; set; } = ParticipantState.Invited;
        public bool Admitted { get; set; }
        public bool Removed { get; set; }

        public ParticipantSnapshot Snapshot() => new(Id, DisplayName, Role, State, Admitted, Removed);
    }
}
