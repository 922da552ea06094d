using System.Text.Json;
using System.Text.Json.Serialization;

namespace TeleRehab.LoadTests.Load;

/// <summary>The run's figures one second at a time (server figures null when not available).</summary>
public sealed record TimelinePoint
{
    public double Seconds { get; init; }
    public int Participants { get; init; }
    public int Joined { get; init; }
    public int Flowing { get; init; }
    public int Failed { get; init; }
    public double ReceivedKbps { get; init; }
    public double? LossPercent { get; init; }
    public double? LatencyP50Ms { get; init; }
    public double? LatencyP95Ms { get; init; }
    public double GeneratorCpuPercent { get; init; }
    public double? ServerCpuPercent { get; init; }
    public double? ServerRssMb { get; init; }
    public double? ServerPacketsInPerSecond { get; init; }
    public double? ServerPacketsOutPerSecond { get; init; }
    public double? ServerRooms { get; init; }
    public string? ServerError { get; init; }
}

/// <summary>An SLO as judged after a run: the figure it names, its value (null: not measured, which fails it).</summary>
public sealed record SloResult(string Slo, string Metric, double? Actual, bool Met);

/// <summary>Everything a run measured: what the report and the JSON file hold.</summary>
public sealed record LoadResult
{
    public required string Target { get; init; }
    public required string Kind { get; init; }
    public int Rooms { get; init; }
    public int Patients { get; init; }
    public required string Profiles { get; init; }
    public required string LinksFor { get; init; }
    public double RampSeconds { get; init; }
    public double DurationSeconds { get; init; }
    public DateTime StartedAt { get; init; }
    public double ElapsedSeconds { get; init; }
    public int? ServerPid { get; init; }
    public int ProcessorCount { get; init; } = Environment.ProcessorCount;

    /// <summary>Aggregate figures by SLO name (join_p95, loss, ...) plus the generator's own cost.</summary>
    public required IReadOnlyDictionary<string, double?> Figures { get; init; }

    public required IReadOnlyList<SloResult> Slos { get; init; }
    public bool SlosMet => Slos.All(s => s.Met);
    public required IReadOnlyList<ParticipantResult> Participants { get; init; }
    public required IReadOnlyList<TimelinePoint> Timeline { get; init; }

    /// <summary>How much the server's counters grew over the run (packets, retransmissions, NACKs, PLIs, drops).</summary>
    public required IReadOnlyDictionary<string, double> ServerCounters { get; init; }

    public required IReadOnlyList<string> Errors { get; init; }

    public static LoadResult Create(LoadOptions options, DateTime startedAt, TimeSpan elapsed, int? pid, IReadOnlyList<ParticipantResult> participants,
        IReadOnlyList<TimelinePoint> timeline, IReadOnlyDictionary<string, double> serverCounters, IReadOnlyList<string> errors, LatencyHistogram latency)
    {
        var steady = timeline.Where(p => p.Seconds >= options.Ramp.TotalSeconds + 1).ToList();
        if (steady.Count == 0) steady = [.. timeline];
        var joins = participants.Select(p => p.Joined && p.JoinMs is { } j ? j : double.PositiveInfinity).ToList();
        var expected = participants.Sum(p => p.PacketsExpected);
        var lost = participants.Sum(p => p.LossPercent is { } l ? l / 100 * p.PacketsExpected : 0);
        var figures = new Dictionary<string, double?>(StringComparer.Ordinal)
        {
            ["participants"] = participants.Count,
            ["joined"] = participants.Count == 0 ? null : 100.0 * participants.Count(p => p.Joined) / participants.Count,
            ["join_p50"] = Finite(Quantiles.Of(joins, 0.5)),
            ["join_p95"] = Finite(Quantiles.Of(joins, 0.95)),
            ["join_max"] = Finite(Quantiles.Of(joins, 1)),
            ["loss"] = expected > 0 ? 100 * lost / expected : null,
            ["loss_p95"] = Quantiles.Of(participants.Where(p => p.LossPercent is not null).Select(p => p.LossPercent!.Value), 0.95),
            ["jitter_p95"] = Quantiles.Of(participants.Where(p => p.JitterMs is not null).Select(p => p.JitterMs!.Value), 0.95),
            ["without_media_p95"] = Quantiles.Of(participants.Select(p => p.WithoutMediaMs ?? double.PositiveInfinity), 0.95) is { } w && !double.IsInfinity(w) ? w : null,
            ["server_cpu"] = Mean(steady.Select(p => p.ServerCpuPercent)),
            ["server_rss_mb"] = steady.LastOrDefault()?.ServerRssMb,
            ["received_kbps"] = Mean(steady.Select(p => (double?)p.ReceivedKbps)),
            ["generator_cpu"] = Mean(steady.Select(p => (double?)p.GeneratorCpuPercent)),
            ["errors"] = participants.Count(p => p.Error is not null) + errors.Count(e => !participants.Any(p => e.StartsWith(p.Name + ":", StringComparison.Ordinal))),
        };
        // Over every media packet every participant received.
        figures["latency_p50"] = latency.Quantile(0.5);
        figures["latency_p95"] = latency.Quantile(0.95);
        figures["latency_p99"] = latency.Quantile(0.99);
        figures["generator_cpu_per_participant"] = figures["generator_cpu"] is { } g && participants.Count > 0 ? g / participants.Count : null;
        var slos = options.Slos.Select(s =>
        {
            var actual = figures.GetValueOrDefault(s.Metric);
            return new SloResult(s.Text, s.Metric, actual, actual is { } a && s.IsMet(a));
        }).ToList();
        return new LoadResult
        {
            Target = options.Target.ToString(),
            Kind = options.Kind,
            Rooms = options.Rooms,
            Patients = options.Kind == "group" ? options.Patients : 1,
            Profiles = options.Profiles.ToString(),
            LinksFor = options.LinksFor.ToString().ToLowerInvariant(),
            RampSeconds = options.Ramp.TotalSeconds,
            DurationSeconds = options.Duration.TotalSeconds,
            StartedAt = startedAt,
            ElapsedSeconds = elapsed.TotalSeconds,
            ServerPid = pid,
            Figures = figures,
            Slos = slos,
            Participants = participants,
            Timeline = timeline,
            ServerCounters = serverCounters,
            Errors = errors,
        };
    }

    private static double? Finite(double? value) => value is { } v && !double.IsInfinity(v) ? v : null;

    private static double? Mean(IEnumerable<double?> values)
    {
        var list = values.Where(v => v is not null).Select(v => v!.Value).ToList();
        return list.Count == 0 ? null : list.Average();
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>A capacity search: one run per step, rooms added until an SLO fails.</summary>
public sealed record CapacityResult
{
    public required IReadOnlyList<CapacityStep> Steps { get; init; }

    /// <summary>The largest number of rooms with every SLO met (0: even the first step failed).</summary>
    public int LargestPassingRooms { get; init; }

    public int LargestPassingParticipants { get; init; }

    /// <summary>The step that failed, or null when the search reached its limit with every step passing.</summary>
    public CapacityStep? FailedAt { get; init; }
}

public sealed record CapacityStep(int Rooms, int Participants, bool Passed, IReadOnlyList<SloResult> Slos, IReadOnlyDictionary<string, double?> Figures);

/// <summary>What the JSON file and the HTML report hold: the (last) run, and the capacity search when there was one.</summary>
public sealed record LoadReport(LoadResult Run, CapacityResult? Capacity);
