using TeleRehab.LoadTests;
using TeleRehab.LoadTests.Load;

namespace TeleRehab.Media.Tests.LoadGen;

/// <summary>The load generator's command line: profile mixes, the SLO grammar, durations, and bad input refused with
/// a message and exit code 2 before anything runs.</summary>
public sealed class LoadOptionsTests
{
    [Fact]
    public void A_profile_mix_splits_participants_by_largest_remainder_and_interleaves_them()
    {
        Assert.True(ProfileMix.TryParseMix("4g:50%,3g:30%,edge:20%", out var mix, out var error), error);
        var ten = mix!.Assign(10).Select(s => s.Name).ToList();
        Assert.Equal(5, ten.Count(n => n == "4g"));
        Assert.Equal(3, ten.Count(n => n == "3g"));
        Assert.Equal(2, ten.Count(n => n == "edge"));
        Assert.NotEqual(["4g", "4g", "4g", "4g", "4g"], ten.Take(5)); // spread, not in blocks

        Assert.True(ProfileMix.TryParseMix("clean:75%, 3g:25%", out var quarter, out _));
        Assert.Equal(1, quarter!.Assign(4).Count(s => s.Name == "3g"));
        var seven = mix.Assign(7).Select(s => s.Name).ToList(); // 3.5, 2.1, 1.4: the largest remainder goes to 4g
        Assert.Equal([4, 2, 1], new[] { "4g", "3g", "edge" }.Select(n => seven.Count(x => x == n)));
    }

    [Theory]
    [InlineData("4g:50%,3g:30%", "adds up to 80%")]
    [InlineData("4g:50%,5g:50%", "Unknown link profile '5g'")]
    [InlineData("4g:50%,4g:50%", "twice")]
    [InlineData("4g", "not name:percent")]
    [InlineData("4g:abc%,3g:100%", "percentage")]
    public void A_bad_profile_mix_is_refused_naming_what_is_wrong(string text, string message)
    {
        Assert.False(ProfileMix.TryParseMix(text, out _, out var error));
        Assert.Contains(message, error);
    }

    [Fact]
    public void A_single_profile_or_a_schedule_applies_to_every_linked_participant()
    {
        Assert.True(ProfileMix.TryParseSingle("3g", out var one, out _));
        Assert.Equal("3g", Assert.Single(one!.Shares).Schedule.Entries[0].Profile.Name);
        Assert.True(ProfileMix.TryParseSingle("0:4g,20:edge", out var schedule, out _));
        Assert.Equal(2, Assert.Single(schedule!.Shares).Schedule.Entries.Count);
        Assert.False(ProfileMix.TryParseSingle("5g", out _, out var error));
        Assert.Contains("5g", error);
    }

    [Fact]
    public void Slos_parse_with_units_and_judge_figures()
    {
        Assert.True(Slo.TryParseList("join_p95<3s, loss<1%,latency_p95<=400ms,joined>=100%,errors<1", out var slos, out var error), error);
        Assert.Equal(["join_p95", "loss", "latency_p95", "joined", "errors"], slos.Select(s => s.Metric));
        Assert.Equal(3000, slos[0].Value);
        Assert.Equal(SloOperator.LessOrEqual, slos[2].Operator);
        Assert.True(slos[0].IsMet(2999) && !slos[0].IsMet(3000));
        Assert.True(slos[2].IsMet(400));
        Assert.True(slos[3].IsMet(100) && !slos[3].IsMet(99.9));
    }

    [Theory]
    [InlineData("join_p95", "not metric<value")]
    [InlineData("speed<3", "unknown figure 'speed'")]
    [InlineData("loss<1s", "this figure is in %")]
    [InlineData("join_p95<3%", "ms or s")]
    [InlineData("latency_p95<fast", "not a non-negative number")]
    [InlineData("errors<2ms", "takes no unit")]
    [InlineData(" , ", "empty")]
    public void A_bad_slo_is_refused_naming_what_is_wrong(string text, string message)
    {
        Assert.False(Slo.TryParseList(text, out _, out var error));
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("2m", 120)]
    [InlineData("500ms", 0.5)]
    [InlineData("1.5h", 5400)]
    [InlineData("45", 45)]
    public void Durations_take_units(string text, double seconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration));
        Assert.Equal(seconds, duration.TotalSeconds, 6);
    }

    [Theory]
    [InlineData("--rooms", "0", "--rooms must be at least 1")]
    [InlineData("--kind", "party", "party")]
    [InlineData("--profiles", "4g:60%,3g:30%", "adds up to 90%")]
    [InlineData("--slo", "loss<<1", "not a non-negative number")]
    [InlineData("--ramp", "soon", "not a duration")]
    [InlineData("--target", "localhost", "not an http:// or https:// address")]
    [InlineData("--find-capacity", null, "--find-capacity needs --slo")]
    public async Task Bad_options_exit_with_2_and_a_clear_message_before_anything_runs(string option, string? value, string message)
    {
        var args = new List<string> { "run", "--target", "http://127.0.0.1:9", "--api-key", "k" };
        if (option == "--target") args.RemoveRange(1, 2);
        args.Add(option);
        if (value is not null) args.Add(value);
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await LoadTestsCli.RunAsync([.. args], output, error);
        Assert.Equal(LoadTestsCli.BadArguments, code);
        Assert.Contains(message, error.ToString());
        Assert.Contains("--help", error.ToString());
    }

    [Fact]
    public async Task Help_explains_every_option()
    {
        var output = new StringWriter();
        Assert.Equal(0, await LoadTestsCli.RunAsync(["run", "--help"], output, new StringWriter()));
        foreach (var option in new[] { "--target", "--api-key", "--rooms", "--kind", "--patients", "--profile", "--profiles", "--ramp", "--duration", "--report", "--slo", "--find-capacity", "--server-pid" })
            Assert.Contains(option, output.ToString());
        Assert.Contains("4g:50%,3g:30%,edge:20%", output.ToString());
    }
}
