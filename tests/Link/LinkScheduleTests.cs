using TeleRehab.LoadTests.Link;

namespace TeleRehab.Media.Tests.Link;

public class LinkScheduleTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void ParsesSecondsAndProfiles()
    {
        var schedule = LinkSchedule.Parse("0:4g,20:edge,50:4g");
        Assert.Equal(
            [new LinkScheduleEntry(S(0), LinkProfile.FourG), new LinkScheduleEntry(S(20), LinkProfile.Edge), new LinkScheduleEntry(S(50), LinkProfile.FourG)],
            schedule.Entries);
        Assert.Equal("4g", schedule.ProfileAt(S(0)).Name);
        Assert.Equal("4g", schedule.ProfileAt(S(19.999)).Name);
        Assert.Equal("edge", schedule.ProfileAt(S(20)).Name);
        Assert.Equal("edge", schedule.ProfileAt(S(49.9)).Name);
        Assert.Equal("4g", schedule.ProfileAt(S(50)).Name);
        Assert.Equal("4g", schedule.ProfileAt(S(3600)).Name);
        Assert.Equal(S(20), schedule.NextChangeAfter(S(0)));
        Assert.Equal(S(50), schedule.NextChangeAfter(S(20)));
        Assert.Null(schedule.NextChangeAfter(S(50)));
        Assert.Equal("0:4g,20:edge,50:4g", schedule.ToString());
    }

    [Theory]
    [InlineData("edge", "0:edge")]
    [InlineData(" 3G-Poor ", "0:3g-poor")]
    [InlineData(" 0 : gprs , 2.5 : clean ", "0:gprs,2.5:clean")]
    public void AcceptsBareNamesSpacesCaseAndFractions(string text, string normalised)
    {
        Assert.Equal(normalised, LinkSchedule.Parse(text).ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("wifi", "Unknown link profile 'wifi'; known profiles: clean, 4g, 3g, 3g-poor, edge, gprs.")]
    [InlineData("0:4g,20:wifi", "entry 2 ('20:wifi'): unknown link profile 'wifi'")]
    [InlineData("5:4g,20:edge", "must start at 0 seconds")]
    [InlineData("0:4g,20:edge,10:3g", "times must increase: entry 3 at 10 s is not after entry 2 at 20 s")]
    [InlineData("0:4g,0:edge", "times must increase")]
    [InlineData("0:4g,,20:edge", "entry 2 ('') is not 'seconds:profile'")]
    [InlineData("0:4g,20", "entry 2 ('20') is not 'seconds:profile'")]
    [InlineData("0:4g,", "entry 2 ('') is not 'seconds:profile'")]
    [InlineData("4g:0", "'4g' is not a number of seconds")]
    [InlineData("-1:4g", "'-1' is not a number of seconds")]
    [InlineData("0:4g,1e3:edge", "'1e3' is not a number of seconds")]
    [InlineData("0:", "unknown link profile ''")]
    public void BadSchedulesSayWhatIsWrong(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => LinkSchedule.Parse(text));
        Assert.Contains(message, e.Message);
        Assert.False(LinkSchedule.TryParse(text, out _, out var error));
        Assert.Equal(e.Message, error);
    }

    [Fact]
    public void ProfilesParseByNameAndRefuseUnknownOnes()
    {
        foreach (var profile in LinkProfile.Named) Assert.Same(profile, LinkProfile.Parse(profile.Name.ToUpperInvariant()));
        var e = Assert.Throws<FormatException>(() => LinkProfile.Parse("5g"));
        Assert.Equal("Unknown link profile '5g'; known profiles: clean, 4g, 3g, 3g-poor, edge, gprs.", e.Message);
    }

    [Fact]
    public void NamedProfilesHaveTheFiguresOfTheTable()
    {
        (string Name, int Up, int Down, int RttMs, double Loss, LinkLossKind Kind, int QueueMs)[] table =
        [
            ("4g", 2000, 5000, 40, 0, LinkLossKind.None, 200),
            ("3g", 250, 750, 150, 0.01, LinkLossKind.Random, 400),
            ("3g-poor", 150, 400, 300, 0.02, LinkLossKind.Bursty, 500),
            ("edge", 60, 120, 600, 0.03, LinkLossKind.Bursty, 800),
            ("gprs", 25, 50, 800, 0.05, LinkLossKind.Bursty, 1000),
        ];
        foreach (var row in table)
        {
            var p = LinkProfile.Parse(row.Name);
            Assert.Equal((row.Up, row.Down), (p.Up.RateKbps, p.Down.RateKbps));
            Assert.Equal(TimeSpan.FromMilliseconds(row.RttMs), p.Rtt);
            foreach (var d in new[] { p.Up, p.Down })
            {
                Assert.Equal(row.Loss, d.Loss.Average);
                Assert.Equal(row.Kind, d.Loss.Kind);
                Assert.Equal(TimeSpan.FromMilliseconds(row.QueueMs), d.QueueLimit);
            }
        }
        Assert.False(LinkProfile.Clean.Up.IsRateLimited);
        Assert.Equal(TimeSpan.Zero, LinkProfile.Clean.Rtt);
    }

    [Fact]
    public void CreateChecksOrderToo()
    {
        var e = Assert.Throws<ArgumentException>(() => LinkSchedule.Create(
            [new LinkScheduleEntry(S(0), LinkProfile.Edge), new LinkScheduleEntry(S(0), LinkProfile.Gprs)]));
        Assert.Contains("times must increase", e.Message);
        Assert.Throws<ArgumentException>(() => LinkSchedule.Create([]));
    }
}
