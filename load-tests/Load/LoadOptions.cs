using System.Globalization;
using System.Net;
using TeleRehab.LoadTests.Link;

namespace TeleRehab.LoadTests.Load;

/// <summary>Who sits behind an emulated link: patients only (therapists in a clinic on a good network) or everyone.</summary>
public enum LinkedRoles { Patients, All }

/// <summary>One load run (or the first step of a capacity search), as the <c>run</c> command's options give it.</summary>
public sealed record LoadOptions
{
    public required Uri Target { get; init; }

    public required string ApiKey { get; init; }

    public int Rooms { get; init; } = 1;

    /// <summary>"one-to-one" (a therapist and a patient) or "group" (a therapist and <see cref="Patients"/> patients).</summary>
    public string Kind { get; init; } = "one-to-one";

    public int Patients { get; init; } = 4;

    public ProfileMix Profiles { get; init; } = ProfileMix.Clean;

    public LinkedRoles LinksFor { get; init; } = LinkedRoles.Patients;

    /// <summary>Rooms start evenly over this time; the measured steady part (<see cref="Duration"/>) follows.</summary>
    public TimeSpan Ramp { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(2);

    public int VideoKbps { get; init; } = 300;

    public int Fps { get; init; } = 15;

    /// <summary>Patients send pose frames at 10/s on a data channel.</summary>
    public bool Pose { get; init; } = true;

    public string? ReportPath { get; init; }

    public string? JsonPath { get; init; }

    public IReadOnlyList<Slo> Slos { get; init; } = [];

    public bool FindCapacity { get; init; }

    /// <summary>Rooms added per capacity step (0: <see cref="Rooms"/>).</summary>
    public int Step { get; init; }

    public int MaxRooms { get; init; } = 500;

    /// <summary>The server's process on this machine, for its CPU and memory; null: found by the target's port when local.</summary>
    public int? ServerPid { get; init; }

    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    public int Seed { get; init; } = 1;

    public int Participants => Rooms * (Kind == "group" ? 1 + Patients : 2);
}

/// <summary>A share of participants behind one link schedule.</summary>
public sealed record ProfileShare(string Name, LinkSchedule Schedule, double Percent)
{
    public bool IsClean => Schedule.Entries.All(e => e.Profile == LinkProfile.Clean);
}

/// <summary>How linked participants are spread over link profiles: <c>4g:50%,3g:30%,edge:20%</c>, or one profile or
/// schedule for all (<c>3g</c>, <c>0:4g,20:edge</c>).</summary>
public sealed class ProfileMix
{
    private ProfileMix(IReadOnlyList<ProfileShare> shares) => Shares = shares;

    public IReadOnlyList<ProfileShare> Shares { get; }

    public static ProfileMix Clean { get; } = new([new ProfileShare("clean", LinkSchedule.Constant(LinkProfile.Clean), 100)]);

    /// <summary>One profile name or schedule for every linked participant.</summary>
    public static bool TryParseSingle(string text, out ProfileMix? mix, out string? error)
    {
        mix = null;
        if (!LinkSchedule.TryParse(text, out var schedule, out error)) return false;
        mix = new ProfileMix([new ProfileShare(text.Trim(), schedule, 100)]);
        return true;
    }

    /// <summary>A mix <c>name:percent%,...</c> whose shares add up to 100 %.</summary>
    public static bool TryParseMix(string text, out ProfileMix? mix, out string? error)
    {
        mix = null;
        var shares = new List<ProfileShare>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var colon = raw.LastIndexOf(':');
            if (colon <= 0)
            {
                error = $"'{raw}' in the profile mix is not name:percent such as 3g:30%.";
                return false;
            }
            var name = raw[..colon].Trim();
            if (!LinkProfile.TryGet(name, out var profile))
            {
                error = $"Unknown link profile '{name}' in the mix; known: {string.Join(", ", LinkProfile.Named.Select(p => p.Name))}.";
                return false;
            }
            var percentText = raw[(colon + 1)..].Trim().TrimEnd('%');
            if (!double.TryParse(percentText, NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent <= 0 || percent > 100)
            {
                error = $"'{raw}': the share must be a percentage above 0 and at most 100.";
                return false;
            }
            if (shares.Any(s => s.Name == profile.Name))
            {
                error = $"Profile '{profile.Name}' appears twice in the mix.";
                return false;
            }
            shares.Add(new ProfileShare(profile.Name, LinkSchedule.Constant(profile), percent));
        }
        var total = shares.Sum(s => s.Percent);
        if (Math.Abs(total - 100) > 0.5)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"The profile mix adds up to {total:0.#}%, not 100%.");
            return false;
        }
        mix = new ProfileMix(shares);
        error = null;
        return true;
    }

    /// <summary>The share of each of <paramref name="count"/> linked participants, in order: counts by largest remainder
    /// (so 4 participants at 75/25 give exactly 3 and 1), then spread so each room gets a fair mix.</summary>
    public IReadOnlyList<ProfileShare> Assign(int count)
    {
        var exact = Shares.Select(s => s.Percent / 100 * count).ToArray();
        var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (var i in Enumerable.Range(0, Shares.Count).OrderByDescending(i => exact[i] - counts[i]).ThenBy(i => i).Take(count - counts.Sum()))
            counts[i]++;
        // Interleave: participant k takes the share whose quota is least used so far.
        var result = new List<ProfileShare>(count);
        var used = new int[Shares.Count];
        for (var k = 0; k < count; k++)
        {
            var best = Enumerable.Range(0, Shares.Count).Where(i => used[i] < counts[i])
                .OrderBy(i => (used[i] + 0.5) / counts[i]).ThenBy(i => i).First();
            used[best]++;
            result.Add(Shares[best]);
        }
        return result;
    }

    public override string ToString() => string.Join(",", Shares.Select(s => s.Percent >= 100 ? s.Name : string.Create(CultureInfo.InvariantCulture, $"{s.Name}:{s.Percent:0.#}%")));
}

public enum SloOperator { Less, LessOrEqual, Greater, GreaterOrEqual }

/// <summary>A service-level objective on one of the run's aggregate figures, e.g. <c>join_p95&lt;3s</c>.</summary>
public sealed record Slo(string Metric, SloOperator Operator, double Value, string Text)
{
    /// <summary>The figures an SLO may name, with their unit (values are compared in it).</summary>
    public static readonly IReadOnlyDictionary<string, string> Metrics = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["join_p50"] = "ms", ["join_p95"] = "ms", ["join_max"] = "ms",
        ["joined"] = "%",
        ["loss"] = "%", ["loss_p95"] = "%",
        ["latency_p50"] = "ms", ["latency_p95"] = "ms", ["latency_p99"] = "ms",
        ["jitter_p95"] = "ms",
        ["without_media_p95"] = "ms",
        ["server_cpu"] = "%",
        ["errors"] = "",
    };

    public bool IsMet(double actual) => Operator switch
    {
        SloOperator.Less => actual < Value,
        SloOperator.LessOrEqual => actual <= Value,
        SloOperator.Greater => actual > Value,
        _ => actual >= Value,
    };

    public override string ToString() => Text;

    /// <summary>Parses <c>metric op value[unit]</c>, comma separated: ops &lt; &lt;= &gt; &gt;=; units ms and s for times,
    /// % for ratios (a bare number is in the metric's unit).</summary>
    public static bool TryParseList(string text, out IReadOnlyList<Slo> slos, out string? error)
    {
        var list = new List<Slo>();
        slos = list;
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var at = raw.IndexOfAny(['<', '>']);
            if (at <= 0)
            {
                error = $"SLO '{raw}' is not metric<value or metric>value (e.g. join_p95<3s, loss<1%).";
                return false;
            }
            var metric = raw[..at].Trim();
            if (!Metrics.TryGetValue(metric, out var unit))
            {
                error = $"SLO '{raw}': unknown figure '{metric}'; known: {string.Join(", ", Metrics.Keys)}.";
                return false;
            }
            var orEqual = at + 1 < raw.Length && raw[at + 1] == '=';
            var op = (raw[at], orEqual) switch
            {
                ('<', false) => SloOperator.Less,
                ('<', true) => SloOperator.LessOrEqual,
                ('>', false) => SloOperator.Greater,
                _ => SloOperator.GreaterOrEqual,
            };
            var valueText = raw[(at + (orEqual ? 2 : 1))..].Trim();
            if (!TryParseValue(valueText, unit, out var value, out var valueError))
            {
                error = $"SLO '{raw}': {valueError}";
                return false;
            }
            list.Add(new Slo(metric, op, value, raw));
        }
        if (list.Count == 0)
        {
            error = "The SLO list is empty; expected e.g. \"join_p95<3s,loss<1%,latency_p95<400ms\".";
            return false;
        }
        error = null;
        return true;
    }

    private static bool TryParseValue(string text, string unit, out double value, out string? error)
    {
        var (number, given) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], "ms")
            : text.EndsWith('s') ? (text[..^1], "s")
            : text.EndsWith('%') ? (text[..^1], "%")
            : (text, "");
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || value < 0 || double.IsInfinity(value))
        {
            error = $"'{text}' is not a non-negative number with an optional unit.";
            return false;
        }
        switch (unit, given)
        {
            case (_, ""):
            case ("ms", "ms"):
            case ("%", "%"):
                break;
            case ("ms", "s"):
                value *= 1000;
                break;
            default:
                error = unit == "" ? $"'{text}' takes no unit." : $"'{text}' has unit '{given}'; this figure is in {(unit == "ms" ? "ms or s" : unit)}.";
                return false;
        }
        error = null;
        return true;
    }
}

/// <summary>Durations on the command line: <c>30s</c>, <c>2m</c>, <c>1h</c>, <c>500ms</c>, or a bare number of seconds.</summary>
public static class DurationText
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        var (number, scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : text.EndsWith('h') ? (text[..^1], 3600.0)
            : (text, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || value * scale > 7 * 86400) return false;
        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }
}
