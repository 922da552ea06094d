using System.Globalization;

namespace TeleRehab.LoadTests.Link;

/// <summary>One step of a schedule: from <paramref name="At"/> (time since the run started) the link behaves as
/// <paramref name="Profile"/>.</summary>
public readonly record struct LinkScheduleEntry(TimeSpan At, LinkProfile Profile);

/// <summary>Which link profile applies when: "0:4g,20:edge,50:4g" is 4g for 20 s, edge until 50 s, then 4g again.
/// A bare profile name ("edge") is that profile for the whole run.</summary>
public sealed class LinkSchedule
{
    private readonly LinkScheduleEntry[] _entries;

    private LinkSchedule(LinkScheduleEntry[] entries) => _entries = entries;

    public IReadOnlyList<LinkScheduleEntry> Entries => _entries;

    public static LinkSchedule Constant(LinkProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new([new LinkScheduleEntry(TimeSpan.Zero, profile)]);
    }

    /// <summary>Builds a schedule from entries; the first must start at 0 and the times must increase.</summary>
    public static LinkSchedule Create(IEnumerable<LinkScheduleEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToArray();
        var error = Check(list);
        return error is null ? new LinkSchedule(list) : throw new ArgumentException(error, nameof(entries));
    }

    /// <summary>Parses "seconds:profile[,seconds:profile...]" or a bare profile name; throws
    /// <see cref="FormatException"/> with a message naming what is wrong.</summary>
    public static LinkSchedule Parse(string text) =>
        TryParse(text, out var schedule, out var error) ? schedule : throw new FormatException(error);

    public static bool TryParse(string? text,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LinkSchedule? schedule,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        schedule = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "The link schedule is empty; expected 'seconds:profile,...' such as '0:4g,20:edge,50:4g', or a profile name.";
            return false;
        }

        if (!text.Contains(':') && !text.Contains(','))
        {
            if (!LinkProfile.TryGet(text, out var only))
            {
                error = "U" + UnknownProfile(text.Trim())[1..];
                return false;
            }
            schedule = Constant(only);
            error = null;
            return true;
        }

        var parts = text.Split(',');
        var entries = new LinkScheduleEntry[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Trim();
            var colon = part.IndexOf(':');
            if (colon < 0)
            {
                error = $"Link schedule entry {i + 1} ('{part}') is not 'seconds:profile'.";
                return false;
            }

            var secondsText = part[..colon].Trim();
            var name = part[(colon + 1)..].Trim();
            if (!double.TryParse(secondsText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                || double.IsInfinity(seconds) || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
            {
                error = $"Link schedule entry {i + 1} ('{part}'): '{secondsText}' is not a number of seconds (0 or more).";
                return false;
            }

            if (!LinkProfile.TryGet(name, out var profile))
            {
                error = $"Link schedule entry {i + 1} ('{part}'): {UnknownProfile(name)}";
                return false;
            }

            entries[i] = new LinkScheduleEntry(TimeSpan.FromSeconds(seconds), profile);
        }

        error = Check(entries);
        if (error is not null) return false;
        schedule = new LinkSchedule(entries);
        return true;
    }

    /// <summary>The profile in force <paramref name="elapsed"/> after the start.</summary>
    public LinkProfile ProfileAt(TimeSpan elapsed)
    {
        var profile = _entries[0].Profile;
        foreach (var entry in _entries)
        {
            if (entry.At > elapsed) break;
            profile = entry.Profile;
        }
        return profile;
    }

    /// <summary>When the profile next changes after <paramref name="elapsed"/>, or null if it never does.</summary>
    public TimeSpan? NextChangeAfter(TimeSpan elapsed)
    {
        foreach (var entry in _entries)
            if (entry.At > elapsed) return entry.At;
        return null;
    }

    public override string ToString() =>
        string.Join(",", _entries.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.At.TotalSeconds:0.###}:{e.Profile.Name}")));

    private static string? Check(LinkScheduleEntry[] entries)
    {
        if (entries.Length == 0) return "The link schedule has no entries.";
        if (entries[0].At != TimeSpan.Zero)
            return $"The link schedule must start at 0 seconds (it starts at {entries[0].At.TotalSeconds:0.###}).";
        for (var i = 0; i < entries.Length; i++)
        {
            if (entries[i].Profile is null) return $"Link schedule entry {i + 1} has no profile.";
            entries[i].Profile.Up.Validate();
            entries[i].Profile.Down.Validate();
            if (i > 0 && entries[i].At <= entries[i - 1].At)
                return $"Link schedule times must increase: entry {i + 1} at {entries[i].At.TotalSeconds:0.###} s " +
                       $"is not after entry {i} at {entries[i - 1].At.TotalSeconds:0.###} s.";
        }
        return null;
    }

    private static string UnknownProfile(string name) =>
        $"unknown link profile '{name}'; known profiles: {string.Join(", ", LinkProfile.Named.Select(p => p.Name))}.";
}
