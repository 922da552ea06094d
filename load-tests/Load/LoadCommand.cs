using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace TeleRehab.LoadTests.Load;

/// <summary><c>run --target http://host:5080 --api-key K --rooms 20 ...</c>: a load test or capacity search against a
/// running server. Exit codes: 0 done (every SLO met), 1 the run failed, 2 bad arguments, 3 an SLO was not met (a
/// capacity search: not even its first step met them).</summary>
public static class LoadCommand
{
    public const int RunFailed = 1;
    public const int SloNotMet = 3;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var target = new Option<string>("--target") { Description = "The server's HTTP address (hub, operator API and /metrics), e.g. http://localhost:5080.", Required = true };
        var apiKey = new Option<string?>("--api-key") { Description = "The operator API key (the server's TeleRehab:OperatorApiKey); default: the TELEREHAB_API_KEY environment variable; none: the demo API (a server on this machine with its defaults)." };
        var rooms = new Option<int>("--rooms") { Description = "Sessions to run at once (the first step of --find-capacity). Default 1.", DefaultValueFactory = _ => 1 };
        var kind = new Option<string>("--kind") { Description = "one-to-one (a therapist and a patient per room) or group (a therapist and --patients patients).", DefaultValueFactory = _ => "one-to-one" };
        var patients = new Option<int>("--patients") { Description = "Patients per group room (with --kind group). Default 4.", DefaultValueFactory = _ => 4 };
        var profile = new Option<string?>("--profile") { Description = "One link profile (clean, 4g, 3g, 3g-poor, edge, gprs) or schedule (0:4g,20:edge,50:4g) for every linked participant." };
        var profiles = new Option<string?>("--profiles") { Description = "A mix of link profiles over the linked participants, e.g. 4g:50%,3g:30%,edge:20% (shares add up to 100%)." };
        var linksFor = new Option<string>("--links-for") { Description = "Who sits behind an emulated link: patients (therapists on a clinic's good network) or all.", DefaultValueFactory = _ => "patients" };
        var ramp = new Option<string>("--ramp") { Description = "Time over which rooms start (evenly), e.g. 30s. Default 30s.", DefaultValueFactory = _ => "30s" };
        var duration = new Option<string>("--duration") { Description = "How long the full load runs after the ramp (what the figures measure), e.g. 2m. Default 2m.", DefaultValueFactory = _ => "2m" };
        var videoKbps = new Option<int>("--video-kbps") { Description = "Video bitrate on a clean link (less on a slow uplink; none below 50 kbit/s). Default 300.", DefaultValueFactory = _ => 300 };
        var fps = new Option<int>("--fps") { Description = "Video frames per second. Default 15.", DefaultValueFactory = _ => 15 };
        var noPose = new Option<bool>("--no-pose") { Description = "Patients send no pose frames (by default 10/s on a data channel)." };
        var report = new Option<string?>("--report") { Description = "Write the HTML report here (e.g. out/report.html); the JSON goes beside it (.json)." };
        var json = new Option<string?>("--json") { Description = "Write the JSON figures here (default: beside --report)." };
        var slo = new Option<string?>("--slo") { Description = "Objectives that set the exit code, e.g. \"join_p95<3s,loss<1%,latency_p95<400ms\". Figures: " + string.Join(", ", Slo.Metrics.Keys) + "." };
        var findCapacity = new Option<bool>("--find-capacity") { Description = "Add --step rooms per run until an SLO fails; report the largest passing load (needs --slo)." };
        var step = new Option<int>("--step") { Description = "Rooms added per capacity step (default: --rooms)." };
        var maxRooms = new Option<int>("--max-rooms") { Description = "Where a capacity search stops if nothing fails. Default 500.", DefaultValueFactory = _ => 500 };
        var serverPid = new Option<int?>("--server-pid") { Description = "The server's process id for its CPU and memory (default: found by the target's port when it runs here)." };
        var bind = new Option<string>("--bind") { Description = "Local address of the media sockets: 127.0.0.1 for a server on this machine, 0.0.0.0 for another. Default 127.0.0.1.", DefaultValueFactory = _ => "127.0.0.1" };
        var seed = new Option<int>("--seed") { Description = "Seed of the links' losses and jitter.", DefaultValueFactory = _ => 1 };

        var command = new Command("run", "Run a load test (or a capacity search) against a TeleRehab Media server and report what participants saw.")
        {
            target, apiKey, rooms, kind, patients, profile, profiles, linksFor, ramp, duration, videoKbps, fps, noPose, report, json, slo,
            findCapacity, step, maxRooms, serverPid, bind, seed,
        };

        command.SetAction(async (parsed, cancel) =>
        {
            var values = new RunArguments
            {
                Target = parsed.GetValue(target)!,
                ApiKey = parsed.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("TELEREHAB_API_KEY"),
                Rooms = parsed.GetValue(rooms),
                Kind = parsed.GetValue(kind)!,
                Patients = parsed.GetValue(patients),
                Profile = parsed.GetValue(profile),
                Profiles = parsed.GetValue(profiles),
                LinksFor = parsed.GetValue(linksFor)!,
                Ramp = parsed.GetValue(ramp)!,
                Duration = parsed.GetValue(duration)!,
                VideoKbps = parsed.GetValue(videoKbps),
                Fps = parsed.GetValue(fps),
                Pose = !parsed.GetValue(noPose),
                Report = parsed.GetValue(report),
                Json = parsed.GetValue(json),
                Slo = parsed.GetValue(slo),
                FindCapacity = parsed.GetValue(findCapacity),
                Step = parsed.GetValue(step),
                MaxRooms = parsed.GetValue(maxRooms),
                ServerPid = parsed.GetValue(serverPid),
                Bind = parsed.GetValue(bind)!,
                Seed = parsed.GetValue(seed),
            };
            if (!values.TryCreate(out var options, out var problems))
            {
                foreach (var problem in problems) error.WriteLine(problem);
                error.WriteLine("Run with --help for usage.");
                return LoadTestsCli.BadArguments;
            }
            return await RunAsync(options, output, error, interactive: ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected, cancel).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Runs the load (or the capacity search), writes the reports, prints the summary; returns the exit code.</summary>
    public static async Task<int> RunAsync(LoadOptions options, TextWriter output, TextWriter error, bool interactive, CancellationToken cancel)
    {
        LoadReport report;
        try
        {
            if (interactive)
            {
                var live = new LiveProgress();
                report = await live.RunAsync(() => ExecuteAsync(options, live, cancel)).ConfigureAwait(false);
            }
            else
            {
                report = await ExecuteAsync(options, new PlainProgress(output), cancel).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperatorApiException or IOException)
        {
            error.WriteLine($"The load test failed: {e.Message}");
            return RunFailed;
        }

        WriteSummary(report, output);
        var jsonPath = options.JsonPath ?? (options.ReportPath is { } html ? Path.ChangeExtension(html, ".json") : null);
        try
        {
            if (options.ReportPath is { } path)
            {
                CreateDirectoryOf(path);
                await File.WriteAllTextAsync(path, HtmlReport.Render(report), CancellationToken.None).ConfigureAwait(false);
                output.WriteLine($"report: {path}");
            }
            if (jsonPath is not null)
            {
                CreateDirectoryOf(jsonPath);
                await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, LoadResult.Json), CancellationToken.None).ConfigureAwait(false);
                output.WriteLine($"figures: {jsonPath}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"Cannot write the report: {e.Message}");
            return RunFailed;
        }

        if (report.Run.Participants.Count > 0 && report.Run.Participants.All(p => !p.Joined))
        {
            error.WriteLine("No participant received any media: see the errors above (is the API key right, the server's media port reachable?).");
            return RunFailed;
        }
        if (report.Capacity is { } capacity) return capacity.LargestPassingRooms > 0 ? 0 : SloNotMet;
        return report.Run.SlosMet ? 0 : SloNotMet;
    }

    private static void CreateDirectoryOf(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
    }

    private static async Task<LoadReport> ExecuteAsync(LoadOptions options, ILoadProgress progress, CancellationToken cancel)
    {
        if (!options.FindCapacity) return new LoadReport(await LoadRun.RunAsync(options, progress, cancel).ConfigureAwait(false), null);
        var step = options.Step > 0 ? options.Step : options.Rooms;
        var steps = new List<CapacityStep>();
        LoadResult? last = null;
        CapacityStep? failed = null;
        for (var rooms = options.Rooms; rooms <= options.MaxRooms && !cancel.IsCancellationRequested; rooms += step)
        {
            progress.Message($"capacity step: {rooms} rooms");
            last = await LoadRun.RunAsync(options with { Rooms = rooms }, progress, cancel).ConfigureAwait(false);
            var result = new CapacityStep(rooms, last.Participants.Count, last.SlosMet, last.Slos, last.Figures);
            steps.Add(result);
            progress.Message($"capacity step: {rooms} rooms {(result.Passed ? "met every SLO" : "failed " + string.Join(", ", result.Slos.Where(s => !s.Met).Select(s => s.Slo)))}");
            if (!result.Passed)
            {
                failed = result;
                break;
            }
        }
        var passing = steps.LastOrDefault(s => s.Passed);
        return new LoadReport(last!, new CapacityResult
        {
            Steps = steps,
            LargestPassingRooms = passing?.Rooms ?? 0,
            LargestPassingParticipants = passing?.Participants ?? 0,
            FailedAt = failed,
        });
    }

    /// <summary>The summary table: the aggregate figures, the SLOs and, for a capacity search, its steps.</summary>
    public static void WriteSummary(LoadReport report, TextWriter output)
    {
        var run = report.Run;
        output.WriteLine();
        output.WriteLine(HtmlReport.Describe(run));
        var joined = run.Participants.Count(p => p.Joined);
        output.WriteLine($"joined {joined}/{run.Participants.Count}; errors {run.Errors.Count}");
        output.WriteLine($"{"figure",-32} {"value",12}");
        foreach (var (name, value) in run.Figures)
            output.WriteLine($"{name,-32} {(value is { } v ? v.ToString(Math.Abs(v) >= 100 ? "0" : "0.###", CultureInfo.InvariantCulture) : "-"),12}");
        foreach (var s in run.Slos)
            output.WriteLine($"SLO {s.Slo,-28} {(s.Actual is { } a ? a.ToString("0.###", CultureInfo.InvariantCulture) : "-"),12}  {(s.Met ? "met" : "FAILED")}");
        if (report.Capacity is { } capacity)
        {
            foreach (var st in capacity.Steps) output.WriteLine($"capacity step {st.Rooms,4} rooms {st.Participants,5} participants: {(st.Passed ? "pass" : "fail")}");
            output.WriteLine($"capacity: {capacity.LargestPassingRooms} rooms ({capacity.LargestPassingParticipants} participants) with every SLO met" +
                (capacity.FailedAt is { } f ? $"; failed at {f.Rooms} rooms: {string.Join(", ", f.Slos.Where(s => !s.Met).Select(s => $"{s.Slo} (measured {s.Actual?.ToString("0.###", CultureInfo.InvariantCulture) ?? "-"})"))}" : "; no step failed"));
        }
    }
}

/// <summary>The <c>run</c> command's options as typed, checked together into <see cref="LoadOptions"/>.</summary>
public sealed record RunArguments
{
    public required string Target { get; init; }
    public string? ApiKey { get; init; }
    public int Rooms { get; init; } = 1;
    public string Kind { get; init; } = "one-to-one";
    public int Patients { get; init; } = 4;
    public string? Profile { get; init; }
    public string? Profiles { get; init; }
    public string LinksFor { get; init; } = "patients";
    public string Ramp { get; init; } = "30s";
    public string Duration { get; init; } = "2m";
    public int VideoKbps { get; init; } = 300;
    public int Fps { get; init; } = 15;
    public bool Pose { get; init; } = true;
    public string? Report { get; init; }
    public string? Json { get; init; }
    public string? Slo { get; init; }
    public bool FindCapacity { get; init; }
    public int Step { get; init; }
    public int MaxRooms { get; init; } = 500;
    public int? ServerPid { get; init; }
    public string Bind { get; init; } = "127.0.0.1";
    public int Seed { get; init; } = 1;

    /// <summary>Checks every option; <paramref name="problems"/> names each bad one and why.</summary>
    public bool TryCreate(out LoadOptions options, out IReadOnlyList<string> problems)
    {
        var errors = new List<string>();
        options = null!;
        if (!Uri.TryCreate(Target, UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
            errors.Add($"--target '{Target}' is not an http:// or https:// address such as http://localhost:5080.");
        if (string.IsNullOrEmpty(ApiKey) && Kind == "group" && Patients > OperatorApi.DemoGroupPatients)
            errors.Add($"Without --api-key (the demo API) a group room has {OperatorApi.DemoGroupPatients} patients: give --patients {OperatorApi.DemoGroupPatients} or less, or the operator API key.");
        if (Rooms < 1) errors.Add("--rooms must be at least 1.");
        if (Kind is not ("one-to-one" or "group")) errors.Add($"--kind '{Kind}' is neither one-to-one nor group.");
        if (Patients < 1) errors.Add("--patients must be at least 1.");
        if (VideoKbps < 1) errors.Add("--video-kbps must be at least 1.");
        if (Fps is < 1 or > 50) errors.Add("--fps must be 1 to 50.");
        if (MaxRooms < 1) errors.Add("--max-rooms must be at least 1.");
        if (Step < 0) errors.Add("--step must be 0 (the same as --rooms) or more.");
        if (LinksFor is not ("patients" or "all")) errors.Add($"--links-for '{LinksFor}' is neither patients nor all.");
        var mix = ProfileMix.Clean;
        if (Profile is not null && Profiles is not null) errors.Add("Give either --profile or --profiles, not both.");
        else if (Profile is not null && !ProfileMix.TryParseSingle(Profile, out mix!, out var profileError)) errors.Add($"--profile: {profileError}");
        else if (Profiles is not null && !ProfileMix.TryParseMix(Profiles, out mix!, out var mixError)) errors.Add($"--profiles: {mixError}");
        if (!DurationText.TryParse(Ramp, out var ramp)) errors.Add($"--ramp '{Ramp}' is not a duration such as 30s, 2m or 500ms.");
        if (!DurationText.TryParse(Duration, out var duration)) errors.Add($"--duration '{Duration}' is not a duration such as 30s, 2m or 500ms.");
        else if (duration <= TimeSpan.Zero) errors.Add("--duration must be above 0.");
        IReadOnlyList<Slo> slos = [];
        if (Slo is not null && !Load.Slo.TryParseList(Slo, out slos, out var sloError)) errors.Add($"--slo: {sloError}");
        if (FindCapacity && Slo is null) errors.Add("--find-capacity needs --slo: a step passes when every SLO is met.");
        if (!IPAddress.TryParse(Bind, out var bind)) errors.Add($"--bind '{Bind}' is not an IP address.");
        problems = errors;
        if (errors.Count > 0) return false;
        options = new LoadOptions
        {
            Target = target!,
            ApiKey = ApiKey ?? "",
            Rooms = Rooms,
            Kind = Kind,
            Patients = Patients,
            Profiles = mix,
            LinksFor = LinksFor == "all" ? LinkedRoles.All : LinkedRoles.Patients,
            Ramp = ramp,
            Duration = duration,
            VideoKbps = VideoKbps,
            Fps = Fps,
            Pose = Pose,
            ReportPath = Report,
            JsonPath = Json,
            Slos = slos,
            FindCapacity = FindCapacity,
            Step = Step,
            MaxRooms = MaxRooms,
            ServerPid = ServerPid,
            BindAddress = bind!,
            Seed = Seed,
        };
        return true;
    }
}
