using System.Globalization;
using Spectre.Console;

namespace TeleRehab.LoadTests.Load;

public sealed record ProgressSnapshot(TimelinePoint Point, int Planned, TimeSpan Total);

/// <summary>Where a run reports its progress: a sample a second and occasional messages.</summary>
public interface ILoadProgress
{
    void Report(ProgressSnapshot snapshot);

    void Message(string line);
}

/// <summary>Progress as plain lines (output that is not a terminal: a file, a pipe, CI): one line every
/// <paramref name="every"/> samples, and every message.</summary>
public sealed class PlainProgress(TextWriter output, int every = 5) : ILoadProgress
{
    private int _samples;

    public void Report(ProgressSnapshot snapshot)
    {
        if (_samples++ % every == 0) output.WriteLine(Line(snapshot));
    }

    public void Message(string line) => output.WriteLine(line);

    public static string Line(ProgressSnapshot s)
    {
        var p = s.Point;
        return string.Create(CultureInfo.InvariantCulture,
            $"{p.Seconds,5:0}/{s.Total.TotalSeconds:0}s joined {p.Joined}/{s.Planned} flowing {p.Flowing} errors {p.Failed} | rx {p.ReceivedKbps,7:0} kbit/s " +
            $"loss {Format(p.LossPercent, "0.00")}% latency p95 {Format(p.LatencyP95Ms, "0")} ms | server CPU {Format(p.ServerCpuPercent, "0")}% " +
            $"rss {Format(p.ServerRssMb, "0")} MB | generator CPU {p.GeneratorCpuPercent:0}%");
    }

    internal static string Format(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}

/// <summary>A live table in the terminal (Spectre.Console), redrawn every second; messages scroll above it.</summary>
public sealed class LiveProgress : ILoadProgress
{
    private readonly Lock _lock = new();
    private readonly List<string> _messages = [];
    private ProgressSnapshot? _last;
    private LiveDisplayContext? _context;

    /// <summary>Runs <paramref name="body"/> with the live display on screen.</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> body) =>
        AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async context =>
        {
            lock (_lock) _context = context;
            try
            {
                return await body().ConfigureAwait(false);
            }
            finally
            {
                lock (_lock) _context = null;
            }
        });

    public void Report(ProgressSnapshot snapshot)
    {
        lock (_lock)
        {
            _last = snapshot;
            Refresh();
        }
    }

    public void Message(string line)
    {
        lock (_lock)
        {
            _messages.Add(line);
            if (_messages.Count > 8) _messages.RemoveAt(0);
            Refresh();
        }
    }

    private void Refresh()
    {
        if (_context is null) return;
        _context.UpdateTarget(Render());
        _context.Refresh();
    }

    private Rows Render()
    {
        var table = new Table().Border(TableBorder.Rounded).Title("load test");
        foreach (var column in new[] { "time", "joined", "media flowing", "errors", "received", "loss", "latency p95", "server CPU", "server RSS", "generator CPU" })
            table.AddColumn(column);
        if (_last is { } s)
        {
            var p = s.Point;
            table.AddRow(
                $"{p.Seconds:0}/{s.Total.TotalSeconds:0} s", $"{p.Joined}/{s.Planned}", p.Flowing.ToString(CultureInfo.InvariantCulture),
                p.Failed == 0 ? "0" : $"[red]{p.Failed}[/]", $"{p.ReceivedKbps:0} kbit/s", $"{PlainProgress.Format(p.LossPercent, "0.00")} %",
                $"{PlainProgress.Format(p.LatencyP95Ms, "0")} ms", $"{PlainProgress.Format(p.ServerCpuPercent, "0")} %",
                $"{PlainProgress.Format(p.ServerRssMb, "0")} MB", $"{p.GeneratorCpuPercent:0} %");
        }
        var items = _messages.Select(m => (Spectre.Console.Rendering.IRenderable)new Text(m)).Append(table);
        return new Rows(items);
    }
}
