using Microsoft.Extensions.Time.Testing;
using TeleRehab.Signaling.Hubs;

namespace TeleRehab.Media.Tests.Sessions;

/// <summary>The grace timers of seats whose hub connection dropped, on a fake clock.</summary>
public sealed class ReconnectGraceTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromSeconds(60);

    [Fact]
    public void A_seat_expires_once_when_its_grace_period_has_passed_and_not_before()
    {
        var clock = new FakeTimeProvider();
        using var grace = new ReconnectGrace(clock, Minute);
        var expired = new List<(string, string, long)>();
        var ticket = grace.Start("s1", "p1", (s, p, t) => expired.Add((s, p, t)));

        clock.Advance(TimeSpan.FromSeconds(59.9));
        Assert.Empty(expired);
        Assert.Equal(1, grace.Count);

        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal([("s1", "p1", ticket)], expired);
        Assert.Equal(0, grace.Count);

        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Single(expired);
    }

    [Fact]
    public void A_seat_that_came_back_never_expires()
    {
        var clock = new FakeTimeProvider();
        using var grace = new ReconnectGrace(clock, Minute);
        var expired = 0;
        grace.Start("s1", "p1", (_, _, _) => expired++);
        clock.Advance(TimeSpan.FromSeconds(30));

        Assert.True(grace.Cancel("s1", "p1"));
        Assert.False(grace.Cancel("s1", "p1"));
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, expired);
        Assert.Equal(0, grace.Count);
    }

    [Fact]
    public void A_second_drop_starts_a_new_full_period_and_the_first_ticket_never_fires()
    {
        var clock = new FakeTimeProvider();
        using var grace = new ReconnectGrace(clock, Minute);
        var expired = new List<long>();
        var first = grace.Start("s1", "p1", (_, _, t) => expired.Add(t));
        clock.Advance(TimeSpan.FromSeconds(40));
        var second = grace.Start("s1", "p1", (_, _, t) => expired.Add(t));
        Assert.NotEqual(first, second);

        clock.Advance(TimeSpan.FromSeconds(40)); // 80 s after the first drop, 40 s after the second
        Assert.Empty(expired);
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal([second], expired);
    }

    [Fact]
    public void Seats_expire_independently()
    {
        var clock = new FakeTimeProvider();
        using var grace = new ReconnectGrace(clock, Minute);
        var expired = new List<string>();
        grace.Start("s1", "p1", (s, p, _) => expired.Add($"{s}/{p}"));
        clock.Advance(TimeSpan.FromSeconds(10));
        grace.Start("s1", "p2", (s, p, _) => expired.Add($"{s}/{p}"));
        grace.Start("s2", "p1", (s, p, _) => expired.Add($"{s}/{p}"));
        grace.Cancel("s2", "p1");

        clock.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(["s1/p1"], expired);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(["s1/p1", "s1/p2"], expired);
    }

    [Fact]
    public void Disposing_stops_every_timer()
    {
        var clock = new FakeTimeProvider();
        var grace = new ReconnectGrace(clock, Minute);
        var expired = 0;
        grace.Start("s1", "p1", (_, _, _) => expired++);
        grace.Dispose();
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, expired);
    }

    [Fact]
    public void Zero_turns_the_grace_off_and_the_setting_is_checked()
    {
        Assert.False(new ReconnectGrace(new FakeTimeProvider(), TimeSpan.Zero).Enabled);
        Assert.True(new ReconnectGrace(new FakeTimeProvider(), Minute).Enabled);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectGrace(new FakeTimeProvider(), TimeSpan.FromSeconds(-1)));

        Assert.Equal(TimeSpan.FromSeconds(60), new RoomOptions().ReconnectGrace);
        new RoomOptions { ReconnectGraceSeconds = 0 }.Validate();
        var error = Assert.Throws<ArgumentException>(() => new RoomOptions { ReconnectGraceSeconds = -5 }.Validate());
        Assert.Contains("TeleRehab:Rooms:ReconnectGraceSeconds", error.Message);
        Assert.Throws<ArgumentException>(() => new RoomOptions { ReconnectGraceSeconds = double.NaN }.Validate());
        Assert.Throws<ArgumentException>(() => new RoomOptions { ReconnectGraceSeconds = 7200 }.Validate());
    }
}
