using System.Diagnostics;
using System.Text.Json;

namespace TeleRehab.Media.Tests.Support;

/// <summary>Runs a WebRTC stack we did not write as a child process: a node script of tests/Support/werift or
/// tests/Support/wrtc (their node modules installed there by scripts/install-test-deps.sh) or a script of
/// tests/Support/aiortc for Debian's python3. Each script prints one JSON line with its outcome last.</summary>
internal static class ExternalPeer
{
    /// <summary>Debian's own python3, where python3-aiortc installs (another python3 may come first on PATH).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>tests/Support/<paramref name="folder"/> in the source tree (found above the test binaries by a file
    /// it holds; node modules are installed there, not copied to bin).</summary>
    public static string Directory(string folder, string marker)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Support", folder);
            if (File.Exists(Path.Combine(candidate, marker))) return candidate;
        }
        throw new InvalidOperationException($"tests/Support/{folder} not found above the test binaries");
    }

    /// <summary>Runs <c>node script args</c> in tests/Support/<paramref name="folder"/>, which must hold the node module
    /// <paramref name="module"/>.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunNodeAsync(string folder, string module, string script,
        TimeSpan timeout, params string[] args)
    {
        var dir = Directory(folder, "package.json");
        if (!System.IO.Directory.Exists(Path.Combine(dir, "node_modules", module)))
            throw new InvalidOperationException($"{module} is not installed: run scripts/install-test-deps.sh (npm install in tests/Support/{folder}).");
        return RunAsync("node", dir, script, timeout, args);
    }

    /// <summary>Runs <c>/usr/bin/python3 script args</c> in tests/Support/aiortc.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunPythonAsync(string script, TimeSpan timeout, params string[] args)
    {
        if (!File.Exists(Python)) throw new InvalidOperationException($"{Python} is missing: run scripts/install-test-deps.sh");
        var run = await RunAsync(Python, Directory("aiortc", "echo.py"), script, timeout, args);
        if (run.Stderr.Contains("No module named 'aiortc'", StringComparison.Ordinal))
            throw new InvalidOperationException("aiortc is not installed: run scripts/install-test-deps.sh (Debian's python3-aiortc)");
        return run;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, string dir, string script,
        TimeSpan timeout, string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The last JSON line a script printed, its output written to the test log; fails the test if there is none.</summary>
    public static JsonElement Result((int ExitCode, string Stdout, string Stderr) run, string name, Action<string> log)
    {
        log(run.Stdout);
        if (run.Stderr.Length > 0) log("stderr: " + run.Stderr[..Math.Min(run.Stderr.Length, 4000)]);
        var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        Xunit.Assert.True(line is not null, $"{name} printed no result (exit {run.ExitCode})");
        return JsonDocument.Parse(line).RootElement;
    }
}
