namespace TeleRehab.Signaling.Limits;

/// <summary>Writes refusals (connections over a limit, refused hub calls) as single warning lines, at most one per
/// <see cref="Interval"/> for each kind, with the count of those not written: a flood of refusals costs the log a few
/// lines a minute, not one line each.</summary>
public sealed class RefusalLog(ILogger logger, TimeProvider time, TimeSpan interval)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long LastWritten, long Suppressed)> _kinds = new(StringComparer.Ordinal);

    public TimeSpan Interval { get; } = interval;

    /// <summary>Logs <paramref name="message"/> unless a line of <paramref name="kind"/> was written less than an
    /// interval ago. The message must not contain anything the client chose beyond bounded identifiers.</summary>
    public void Refused(string kind, string message)
    {
        var now = time.GetTimestamp();
        long suppressed;
        lock (_lock)
        {
            if (_kinds.TryGetValue(kind, out var state) && time.GetElapsedTime(state.LastWritten, now) < Interval)
            {
                _kinds[kind] = state with { Suppressed = state.Suppressed + 1 };
                return;
            }
            suppressed = state.Suppressed;
            _kinds[kind] = (now, 0);
            if (_kinds.Count > 1024) _kinds.Clear(); // kinds are few; never let them grow without bound
        }
        if (suppressed > 0) logger.LogWarning("{Message} ({Suppressed} more like it since the last such line)", message, suppressed);
        else logger.LogWarning("{Message}", message);
    }
}
