using TeleRehab.Media.Rooms;

namespace TeleRehab.Media.Tests.Sfu;

/// <summary>
/// The start of a simulcast track: a subscriber's first layer choice waits a moment for the encodings the publisher
/// announced, and an encoding nobody has needed yet is paused at the publisher sooner than one that was needed (either
/// would later cost a key frame while the publisher's encoder runs at full rate).
/// </summary>
public sealed class SimulcastStartTests
{
    private static readonly TimeSpan NotFlowing = TimeSpan.Zero;

    [Fact]
    public void The_first_choice_waits_for_an_announced_encoding_that_has_not_started()
    {
        var h = TimeSpan.FromSeconds(10);
        TimeSpan[] activeSince = [h, NotFlowing];
        Assert.True(Publication.IsStarting(activeSince, pausedMask: 0, knownMask: 0, now: h + TimeSpan.FromMilliseconds(300)));
        // Not for ever: after the wait the subscriber chooses from what flows.
        Assert.False(Publication.IsStarting(activeSince, 0, 0, h + Publication.StartWait));
    }

    [Fact]
    public void Nothing_is_awaited_once_every_encoding_flows_or_when_none_does()
    {
        var t = TimeSpan.FromSeconds(3);
        TimeSpan[] both = [t, t + TimeSpan.FromMilliseconds(40)];
        Assert.False(Publication.IsStarting(both, 0, 0, t + TimeSpan.FromMilliseconds(100)));
        TimeSpan[] none = [NotFlowing, NotFlowing];
        Assert.False(Publication.IsStarting(none, 0, 0, t));
    }

    [Fact]
    public void An_encoding_the_server_paused_or_that_flowed_before_is_not_awaited()
    {
        var h = TimeSpan.FromSeconds(10);
        TimeSpan[] activeSince = [h, NotFlowing];
        var soon = h + TimeSpan.FromMilliseconds(100);
        Assert.False(Publication.IsStarting(activeSince, pausedMask: 0b10, knownMask: 0, soon));
        // Known: it flowed earlier and stopped (the publisher's own bandwidth allocation): it is not about to start.
        Assert.False(Publication.IsStarting(activeSince, pausedMask: 0, knownMask: 0b10, soon));
    }

    [Fact]
    public void An_encoding_never_needed_is_paused_sooner_than_one_that_was()
    {
        Assert.Equal(Publication.FirstPauseAfter, Publication.PauseDelay(everNeeded: 0b10, spatial: 0));
        Assert.Equal(Publication.PauseAfter, Publication.PauseDelay(everNeeded: 0b11, spatial: 0));
        Assert.True(Publication.FirstPauseAfter < Publication.PauseAfter);
    }
}
