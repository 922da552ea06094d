namespace TeleRehab.Signaling.Hubs;

/// <summary>Settings of the live rooms, bound from <c>TeleRehab:Rooms</c>.</summary>
public sealed class RoomOptions
{
    public const string Section = "TeleRehab:Rooms";

    /// <summary>The most a grace period may be: a seat held longer is a participant nobody can tell apart from one
    /// who left.</summary>
    public const double MaxReconnectGraceSeconds = 3600;

    /// <summary>Seconds an admitted participant whose hub connection dropped keeps its place (role, tracks,
    /// subscriptions, a mode the therapist holds, and its media connection) for a new hub connection that resumes it
    /// (docs/signalling.md, "Reconnecting"); 0 removes it at once, as a Leave would.</summary>
    public double ReconnectGraceSeconds { get; set; } = 60;

    public TimeSpan ReconnectGrace => TimeSpan.FromSeconds(ReconnectGraceSeconds);

    public void Validate()
    {
        if (!(ReconnectGraceSeconds is >= 0 and <= MaxReconnectGraceSeconds))
            throw new ArgumentException($"{Section}:ReconnectGraceSeconds must be from 0 to {MaxReconnectGraceSeconds}.");
    }
}

/// <summary>The grace timers of participants whose hub connection dropped: one timer per seat, from the host's
/// <see cref="TimeProvider"/> (a test drives it with a fake clock). A timer that was cancelled or restarted never calls
/// back with its old ticket, and the caller checks the ticket against the seat under its own lock, so an expiry that
/// races a resume changes nothing. Thread-safe.</summary>
public sealed class ReconnectGrace : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string SessionId, string ParticipantId), (long Ticket, ITimer Timer)> _timers = [];
    private long _nextTicket;

    public ReconnectGrace(TimeProvider time, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (period < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(period), "a grace period is not negative");
        _time = time;
        Period = period;
    }

    /// <summary>How long a seat is kept; <see cref="TimeSpan.Zero"/>: not at all.</summary>
    public TimeSpan Period { get; }

    public bool Enabled => Period > TimeSpan.Zero;

    /// <summary>Seats whose timer runs.</summary>
    public int Count
    {
        get { lock (_lock) return _timers.Count; }
    }

    /// <summary>Starts the seat's timer (a running one is replaced) and returns its ticket. After <see cref="Period"/>,
    /// <paramref name="expired"/> is called once with the session, the participant and the ticket, on a timer thread,
    /// unless <see cref="Cancel"/> or another <see cref="Start"/> for the seat came first.</summary>
    public long Start(string sessionId, string participantId, Action<string, string, long> expired)
    {
        ArgumentNullException.ThrowIfNull(expired);
        var key = (sessionId, participantId);
        lock (_lock)
        {
            var ticket = ++_nextTicket;
            if (_timers.Remove(key, out var running)) running.Timer.Dispose();
            var timer = _time.CreateTimer(static state =>
            {
                var (grace, key, ticket, expired) = ((ReconnectGrace, (string, string), long, Action<string, string, long>))state!;
                if (grace.TakeExpired(key, ticket)) expired(key.Item1, key.Item2, ticket);
            }, (this, key, ticket, expired), Period, Timeout.InfiniteTimeSpan);
            _timers[key] = (ticket, timer);
            return ticket;
        }
    }

    /// <summary>Stops the seat's timer (it came back, left or was removed); false when none ran.</summary>
    public bool Cancel(string sessionId, string participantId)
    {
        lock (_lock)
        {
            if (!_timers.Remove((sessionId, participantId), out var running)) return false;
            running.Timer.Dispose();
            return true;
        }
    }

    private bool TakeExpired((string, string) key, long ticket)
    {
        lock (_lock)
        {
            if (!_timers.TryGetValue(key, out var running) || running.Ticket != ticket) return false;
            _timers.Remove(key);
            running.Timer.Dispose();
            return true;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var (_, timer) in _timers.Values) timer.Dispose();
            _timers.Clear();
        }
    }
}
