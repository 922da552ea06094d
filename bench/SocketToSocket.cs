using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using TeleRehab.LoadTests;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;

namespace TeleRehab.Media.Bench;

/// <summary>
/// The server's CPU per forwarded packet on the real path, socket to socket: the signaling host runs as its own
/// process (Release, embedded defaults), C# participants (the project's own WebRTC client, one shared worker) join
/// through the hub, and the server process's CPU time (/proc/PID/stat)
/// over a window is divided by the RTP packets every subscriber received in it. Not a BenchmarkDotNet benchmark: a
/// whole-process measurement. <c>dotnet run -c Release --project bench -- socket-to-socket --help</c>.
/// </summary>
public static class SocketToSocket
{
    private const string ApiKey = "socket-to-socket-bench";

    private sealed record Options(string ServerDll, string Scenario, int Count, TimeSpan Window, TimeSpan Idle, TimeSpan Settle, int Port);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help") || args.Length == 0)
        {
            Console.WriteLine("""
                socket-to-socket --server <TeleRehab.Signaling.dll> [--fanout N] [--pairs N] [--window 15s] [--idle 10s] [--settle 15s] [--port 5190]
                  --server   the signaling host's built assembly (Release); it is started as a process of its own
                  --fanout N one therapist publishing audio + video to N patients in a group session
                  --pairs N  N one-to-one sessions, both people publishing audio + video
                  --window   how long CPU and packets are counted once every participant receives
                  --idle     how long the server's CPU is counted before anyone joins (its idle cost)
                  --settle   how long media flows before the window (the JIT's second tier compiles meanwhile)
                """);
            return args.Length == 0 ? 2 : 0;
        }
        Options options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"socket-to-socket: {ex.Message}");
            return 2;
        }

        using var server = StartServer(options);
        try
        {
            var baseAddress = new Uri($"http://127.0.0.1:{options.Port}");
            using var http = new HttpClient { BaseAddress = baseAddress };
            http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
            await WaitReadyAsync(http, server);

            await Task.Delay(TimeSpan.FromSeconds(5)); // start-up's compilation
            var idle = await MeasureIdleAsync(server.Id, options.Idle);
            Console.WriteLine($"idle: {idle.Cpu / idle.Seconds * 100:0.00} % of a core over {options.Idle.TotalSeconds:0} s with no rooms");

            var worker = new MediaWorker(0, TimeProvider.System, TimeProvider.System.GetTimestamp(), _ => { });
            worker.Start();
            await using var pacer = new MediaPacer();
            var certificate = DtlsCertificate.Generate();
            var clients = new List<SessionClient>();
            try
            {
                var flows = options.Scenario == "fanout"
                    ? await JoinFanoutAsync(http, baseAddress, worker, certificate, pacer, options.Count, clients)
                    : await JoinPairsAsync(http, baseAddress, worker, certificate, pacer, options.Count, clients);
                // The just-in-time compiler's second tier works for some seconds after the first packets: not counted.
                Console.WriteLine($"{clients.Count} participants joined; every subscriber receives; settling {options.Settle.TotalSeconds:0} s");
                await Task.Delay(options.Settle);

                var before = Snapshot(server.Id, flows);
                var delayBefore = await ScrapeDelayHistogramAsync(http);
                await Task.Delay(options.Window);
                var after = Snapshot(server.Id, flows);
                var delayAfter = await ScrapeDelayHistogramAsync(http);

                var received = after.Received - before.Received;
                var expected = after.Expected - before.Expected;
                var cpu = after.CpuSeconds - before.CpuSeconds;
                var seconds = (after.At - before.At) / (double)Stopwatch.Frequency;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{options.Scenario} {options.Count}: {received / seconds:0} packets/s received by subscribers, server CPU {cpu / seconds * 100:0.0} % of a core, " +
                    $"{cpu * 1e6 / received:0.00} µs per forwarded packet; loss {Math.Max(0, 1 - received / (double)expected) * 100:0.00} %; " +
                    $"forwarding delay p50 {Quantile(delayBefore, delayAfter, 0.50) * 1000:0.00} ms, p99 {Quantile(delayBefore, delayAfter, 0.99) * 1000:0.00} ms; " +
                    $"server RSS {RssMegabytes(server.Id):0} MB"));
            }
            finally
            {
                foreach (var client in clients) await client.DisposeAsync();
                worker.Dispose();
            }
            return 0;
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    private static Options Parse(string[] args)
    {
        string? dll = null;
        string? scenario = null;
        var (count, window, idle, settle, port) = (0, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15), 5190);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--server": dll = Next(); break;
                case "--fanout": scenario = "fanout"; count = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--pairs": scenario = "pairs"; count = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--window": window = Seconds(Next()); break;
                case "--idle": idle = Seconds(Next()); break;
                case "--settle": settle = Seconds(Next()); break;
                case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (dll is null || !File.Exists(dll)) throw new ArgumentException("--server must name the signaling host's built assembly");
        if (scenario is null || count < 1) throw new ArgumentException("say --fanout N or --pairs N (N >= 1)");
        return new Options(dll, scenario, count, window, idle, settle, port);
    }

    private static TimeSpan Seconds(string value) =>
        TimeSpan.FromSeconds(double.Parse(value.TrimEnd('s'), CultureInfo.InvariantCulture));

    private static Process StartServer(Options options)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(options.ServerDll);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{options.Port}";
        start.Environment["TeleRehab__OperatorApiKey"] = ApiKey;
        start.Environment["TeleRehab__Media__UdpPort"] = (options.Port + 1).ToString(CultureInfo.InvariantCulture);
        start.Environment["TeleRehab__Media__TcpPort"] = "-1";
        start.Environment["TeleRehab__Media__AnnouncedAddress"] = "127.0.0.1";
        start.Environment["TeleRehab__Sessions__MaxGroupPatients"] = Math.Max(12, options.Count).ToString(CultureInfo.InvariantCulture);
        // Every simulated participant connects from this machine's one address.
        start.Environment["TeleRehab__Limits__HubConnectionsPerAddress"] = "4096";
        start.Environment["TeleRehab__Limits__HttpConnectionsPerAddress"] = "4096";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("the server did not start");
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) Console.WriteLine($"  server: {line}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.WriteLine($"  server: {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitReadyAsync(HttpClient http, Process server)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !server.HasExited)
        {
            try
            {
                using var response = await http.GetAsync("/metrics");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        throw new InvalidOperationException("the server did not answer within 60 s");
    }

    private static async Task<(string Id, string Therapist, string? Patient)> CreateAsync(HttpClient http, string kind)
    {
        using var response = await http.PostAsJsonAsync("/api/sessions", new { title = "capacity", kind, waitingRoom = false });
        var body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"create session: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        var links = json.RootElement.GetProperty("links");
        return (json.RootElement.GetProperty("id").GetString()!, links.GetProperty("therapist").GetString()!,
            links.TryGetProperty("patient", out var patient) ? patient.GetString() : null);
    }

    private static async Task<string> InviteAsync(HttpClient http, string sessionId)
    {
        using var response = await http.PostAsJsonAsync($"/api/sessions/{sessionId}/invites", new { role = "patient", displayName = "patient" });
        var body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"invite: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("link").GetString()!;
    }

    private static async Task<SessionClient> JoinAsync(Uri baseAddress, MediaWorker worker, DtlsCertificate certificate, MediaPacer pacer,
        string link, string name, bool publish, List<SessionClient> clients)
    {
        var client = new SessionClient(baseAddress, worker, certificate,
            new SessionClientOptions { Name = name, SendAudio = publish, SendVideo = publish, Reconnect = false });
        clients.Add(client);
        var joined = await client.JoinAsync(SessionClient.TokenFromLink(link)).WaitAsync(TimeSpan.FromSeconds(30));
        if (joined.State != "joined") throw new InvalidOperationException($"{name}: {joined.State}");
        await client.WaitMediaConnectedAsync(TimeSpan.FromSeconds(30));
        if (publish) client.StartSending(pacer);
        return client;
    }

    private sealed record Flow(SessionClient Receiver, SessionClient Publisher)
    {
        public string PublisherId => Publisher.ParticipantId;
    }

    private static async Task<List<Flow>> JoinFanoutAsync(HttpClient http, Uri baseAddress, MediaWorker worker,
        DtlsCertificate certificate, MediaPacer pacer, int subscribers, List<SessionClient> clients)
    {
        var session = await CreateAsync(http, "group");
        var therapist = await JoinAsync(baseAddress, worker, certificate, pacer, session.Therapist, "therapist", publish: true, clients);
        var flows = new List<Flow>();
        for (var i = 0; i < subscribers; i++)
        {
            var link = await InviteAsync(http, session.Id);
            var patient = await JoinAsync(baseAddress, worker, certificate, pacer, link, $"patient{i}", publish: false, clients);
            flows.Add(new Flow(patient, therapist));
        }
        await WaitAllReceivingAsync(flows);
        return flows;
    }

    private static async Task<List<Flow>> JoinPairsAsync(HttpClient http, Uri baseAddress, MediaWorker worker,
        DtlsCertificate certificate, MediaPacer pacer, int pairs, List<SessionClient> clients)
    {
        var flows = new List<Flow>();
        for (var i = 0; i < pairs; i++)
        {
            var session = await CreateAsync(http, "one-to-one");
            var therapist = await JoinAsync(baseAddress, worker, certificate, pacer, session.Therapist, $"therapist{i}", publish: true, clients);
            var patient = await JoinAsync(baseAddress, worker, certificate, pacer, session.Patient!, $"patient{i}", publish: true, clients);
            flows.Add(new Flow(patient, therapist));
            flows.Add(new Flow(therapist, patient));
        }
        await WaitAllReceivingAsync(flows);
        return flows;
    }

    private static async Task WaitAllReceivingAsync(List<Flow> flows)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (flows.Any(f => Received(f) < 20))
        {
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"{flows.Count(f => Received(f) < 20)} of {flows.Count} subscribers receive nothing after 60 s");
            await Task.Delay(200);
        }
    }

    private static long Received(Flow flow) =>
        flow.Receiver.ReceivedFrom(flow.PublisherId, "audio").Packets + flow.Receiver.ReceivedFrom(flow.PublisherId, "video").Packets;

    private sealed record Sample(long At, double CpuSeconds, long Received, long Expected);

    private static Sample Snapshot(int pid, List<Flow> flows)
    {
        long received = 0, expected = 0;
        foreach (var flow in flows)
        {
            received += Received(flow);
            var sender = flow.Publisher.Sender!;
            expected += sender.AudioPacketsSent + sender.VideoPacketsSent;
        }
        return new Sample(Stopwatch.GetTimestamp(), ProcessCpuSeconds(pid), received, expected);
    }

    /// <summary>The process's CPU time (user and system, its threads that ended included), in seconds: /proc/PID/stat's
    /// utime and stime, in clock ticks of 10 ms (a window of 15 s at 10 % of a core counts 150 of them).</summary>
    private static double ProcessCpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (comm) ": field 3 onwards
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0;
    }

    private static async Task<(double Cpu, double Seconds)> MeasureIdleAsync(int pid, TimeSpan window)
    {
        var before = ProcessCpuSeconds(pid);
        await Task.Delay(window);
        return (ProcessCpuSeconds(pid) - before, window.TotalSeconds);
    }

    private static double RssMegabytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        return 0;
    }

    /// <summary>The forwarding-delay histogram's cumulative buckets (upper bound in seconds, count).</summary>
    private static async Task<List<(double Le, double Count)>> ScrapeDelayHistogramAsync(HttpClient http)
    {
        var text = await http.GetStringAsync("/metrics");
        var buckets = new List<(double, double)>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("telerehab_forwarding_delay_seconds_bucket{", StringComparison.Ordinal)) continue;
            var le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
            le = le[..le.IndexOf('"')];
            var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
            buckets.Add((bound, double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)));
        }
        return buckets;
    }

    /// <summary>The upper bound of the bucket holding quantile <paramref name="q"/> of the samples between two scrapes.</summary>
    private static double Quantile(List<(double Le, double Count)> before, List<(double Le, double Count)> after, double q)
    {
        if (after.Count == 0 || before.Count != after.Count) return double.NaN;
        var total = after[^1].Count - before[^1].Count;
        if (total <= 0) return double.NaN;
        for (var i = 0; i < after.Count; i++)
        {
            if (after[i].Count - before[i].Count >= q * total) return after[i].Le;
        }
        return double.PositiveInfinity;
    }
}
