using Microsoft.Extensions.Logging;

namespace TeleRehab.Media.Tests.Support;

/// <summary>A logger provider that keeps every entry the app writes (at the levels its filters let through) and the
/// bytes a console line of each would take, so a test can bound what a flood costs the log.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly List<Entry> _entries = [];
    private long _bytes;

    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    public long Bytes => Interlocked.Read(ref _bytes);

    public IReadOnlyList<Entry> Entries
    {
        get { lock (_entries) return _entries.ToList(); }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(Entry entry)
    {
        // What a console line costs: level, category, message and the exception's full text (stack trace).
        Interlocked.Add(ref _bytes, 8 + entry.Category.Length + entry.Message.Length + (entry.Exception?.ToString().Length ?? 0));
        lock (_entries) _entries.Add(entry);
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new Entry(category, logLevel, formatter(state, exception), exception));
    }
}
