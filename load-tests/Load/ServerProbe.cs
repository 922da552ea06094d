using System.Globalization;
using System.Net;

namespace TeleRehab.LoadTests.Load;

/// <summary>Reads the server's <c>/metrics</c> (Prometheus text): every series of a metric summed over its labels.</summary>
public static class MetricsText
{
    public static Dictionary<string, double> Parse(string text)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var nameEnd = line.IndexOfAny(['{', ' ']);
            if (nameEnd <= 0) continue;
            var valueStart = line[nameEnd] == '{' ? line.IndexOf("} ", nameEnd, StringComparison.Ordinal) + 2 : nameEnd + 1;
            if (valueStart < 2) continue;
            var valueText = line[valueStart..].Trim().Split(' ')[0];
            if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) continue;
            var name = line[..nameEnd];
            sums[name] = sums.GetValueOrDefault(name) + value;
        }
        return sums;
    }
}

/// <summary>A process's CPU time and resident memory from <c>/proc</c> (Linux), and the process listening on a local
/// TCP port.</summary>
public static class ProcStat
{
    private static readonly double TicksPerSecond = 100; // USER_HZ, 100 on Linux

    /// <summary>User + system CPU seconds and resident bytes, or null when the process cannot be read.</summary>
    public static (double CpuSeconds, long RssBytes)? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is the state (field 3): utime is field 14, stime 15, rss (pages) 24.
            var cpu = (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            var rss = long.Parse(fields[21], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
            return (cpu, rss);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The process with a socket listening on TCP <paramref name="port"/> on this machine, or null.</summary>
    public static int? FindListener(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || f[3] != "0A") continue; // LISTEN
                var local = f[1];
                if (int.Parse(local[(local.IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port) inodes.Add(f[9]);
            }
        }
        if (inodes.Count == 0) return null;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFiles($"{dir}/fd"))
                {
                    var target = new FileInfo(fd).LinkTarget;
                    if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && inodes.Contains(target[8..^1])) return pid;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    public static bool IsLocal(Uri target) =>
        target.IsLoopback || Dns.GetHostAddresses(Dns.GetHostName()).Any(a => target.Host == a.ToString());
}

/// <summary>One scrape of the server: its metrics (summed per name) and, when it runs here, its process's CPU and memory.</summary>
public sealed record ServerSample(DateTime At, IReadOnlyDictionary<string, double>? Metrics, double? CpuSeconds, long? RssBytes, string? Error);

/// <summary>Scrapes the server once a second during a run.</summary>
public sealed class ServerProbe(HttpClient http, int? pid)
{
    public int? Pid { get; } = pid;

    public async Task<ServerSample> SampleAsync(CancellationToken cancel)
    {
        Dictionary<string, double>? metrics = null;
        string? error = null;
        try
        {
            using var response = await http.GetAsync("/metrics", cancel).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK) metrics = MetricsText.Parse(await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false));
            else error = $"/metrics answered {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            error = $"/metrics: {e.Message}";
        }
        var proc = Pid is { } p ? ProcStat.Read(p) : null;
        return new ServerSample(DateTime.UtcNow, metrics, proc?.CpuSeconds, proc?.RssBytes, error);
    }
}
