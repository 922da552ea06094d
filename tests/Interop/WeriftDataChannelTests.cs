using System.Diagnostics;
using System.Text.Json;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>Issue 9 with a WebRTC stack we did not write: werift (TypeScript, run with node) offers a data channel to
/// POST /api/echo, runs ICE, DTLS (as the DTLS client: our answer says passive) and SCTP against the server, and
/// sends messages of 1 byte to 64 KiB, text and binary, on an ordered reliable channel; all come back intact and in
/// order, and the channel the echo opens from the server side reaches werift. The script is
/// tests/Support/werift/echo.mjs; scripts/install-test-deps.sh installs its node modules.</summary>
[Collection(BrowserCollection.Name)]
public sealed class WeriftDataChannelTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AppHost _host = null!;

    public async Task InitializeAsync() => _host = await AppHost.StartAsync(("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>tests/Support/werift in the source tree (its node_modules are installed there, not copied to bin).</summary>
    internal static string WeriftDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Support", "werift");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException("tests/Support/werift not found above the test binaries");
    }

    internal static async Task<(int ExitCode, string Stdout, string Stderr)> RunNodeAsync(string script, params string[] args)
    {
        var dir = WeriftDirectory();
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "werift")))
            throw new InvalidOperationException("werift is not installed: run scripts/install-test-deps.sh (npm install in tests/Support/werift).");
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Werift_echoes_messages_of_1_byte_to_64_KiB_in_order_and_sees_the_servers_channel()
    {
        var (exitCode, stdout, stderr) = await RunNodeAsync("echo.mjs", _host.BaseAddress.ToString());
        output.WriteLine(stdout);
        if (stderr.Length > 0) output.WriteLine("stderr: " + stderr[..Math.Min(stderr.Length, 4000)]);
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.True(line is not null, $"werift printed no result (exit {exitCode})");
        var result = JsonDocument.Parse(line).RootElement;
        if (result.TryGetProperty("ufrag", out var ufrag) && ufrag.GetString() is { } u && _host.Media.FindPeer(u) is EchoSession echo
            && echo.DataChannels is { } transport)
        {
            var c = transport.Association?.Counters;
            output.WriteLine($"server: packets in {transport.PacketsReceived} dropped {transport.PacketsDropped} out {transport.PacketsSent}, " +
                $"association {transport.Association?.State}, bad packets {c?.BadPacketsDropped}, chunks dropped {c?.ChunksDropped}, " +
                $"messages in {transport.MessagesReceived}, refused {transport.ChannelsRefused}, protocol drops {transport.ProtocolDrops}, " +
                $"recent chunks [{string.Join(", ", transport.RecentChunkTypes())}]");
        }
        Assert.Equal(0, result.GetProperty("problems").GetArrayLength());
        Assert.Equal(0, exitCode);
        Assert.Equal("client", result.GetProperty("dtlsRole").GetString());
        Assert.Equal("open", result.GetProperty("channel").GetString());
        Assert.Equal(18, result.GetProperty("sent").GetInt32());
        Assert.Equal(18, result.GetProperty("received").GetInt32());
        Assert.Equal(EchoSession.ServerChannelLabel, result.GetProperty("serverChannel").GetString());
        Assert.Equal(EchoSession.ServerChannelGreeting, result.GetProperty("greeting").GetString());
        Assert.True(_host.Media.DataChannels.MessagesReceivedTotal >= 18);
    }
}
