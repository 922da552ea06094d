using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Tests.Sfu;

public class LowSecondsWindowTests
{
    private static TimeSpan At(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Many_low_samples_in_one_second_count_once()
    {
        var window = new LowSecondsWindow();
        for (var ms = 0; ms < 1000; ms += 200) window.Record(low: true, At(10 + ms / 1000.0));
        Assert.Equal(1, window.LowSeconds(At(10.9)));
    }

    [Fact]
    public void A_dip_of_two_seconds_counts_two_and_is_forgotten_after_thirty()
    {
        var window = new LowSecondsWindow();
        for (var t = 0.0; t < 40; t += 0.2) window.Record(low: t is >= 18 and < 20, At(t));
        Assert.Equal(2, window.LowSeconds(At(39.9)));
        Assert.Equal(2, window.LowSeconds(At(47.9)));
        Assert.Equal(1, window.LowSeconds(At(48.0)));
        Assert.Equal(0, window.LowSeconds(At(49.0)));
    }

    [Fact]
    public void Seconds_without_samples_are_not_low()
    {
        var window = new LowSecondsWindow();
        window.Record(low: true, At(5));
        window.Record(low: true, At(9));
        window.Record(low: false, At(12));
        Assert.Equal(2, window.LowSeconds(At(12)));
        // A long silence forgets everything, however long.
        Assert.Equal(0, window.LowSeconds(At(5000)));
        window.Record(low: true, At(5000.5));
        Assert.Equal(1, window.LowSeconds(At(5001)));
    }

    [Fact]
    public void A_link_that_keeps_falling_low_keeps_counting()
    {
        // EDGE-like: low except for overshoots of up to 20 s after a probe.
        var window = new LowSecondsWindow();
        for (var t = 0.0; t < 120; t += 0.2) window.Record(low: t % 30 >= 20, At(t));
        Assert.True(window.LowSeconds(At(119.9)) >= 10);
    }

    [Fact]
    public void Never_more_than_the_window()
    {
        var window = new LowSecondsWindow();
        for (var t = 0.0; t < 60; t += 0.5) window.Record(low: true, At(t));
        Assert.Equal(LowSecondsWindow.Seconds, window.LowSeconds(At(59.9)));
    }
}
