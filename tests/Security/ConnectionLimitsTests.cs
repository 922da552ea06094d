using System.Net;
using TeleRehab.Media.Hosting;
using TeleRehab.Signaling.Security;

namespace TeleRehab.Media.Tests.Security;

public sealed class ConnectionLimitsTests
{
    [Fact]
    public void The_budget_refuses_beyond_its_capacity_and_counts_refusals()
    {
        var budget = new ConnectionBudget(2);
        Assert.True(budget.TryAcquire());
        Assert.True(budget.TryAcquire());
        Assert.False(budget.TryAcquire());
        Assert.Equal(2, budget.InUse);
        Assert.Equal(1, budget.Refused);
        budget.Release();
        Assert.True(budget.TryAcquire());
    }

    [Fact]
    public void The_per_address_limiter_counts_each_address_on_its_own_and_forgets_released_ones()
    {
        var limiter = new PerAddressLimiter(2);
        var a = IPAddress.Parse("192.0.2.1");
        Assert.True(limiter.TryAcquire(a));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("::ffff:192.0.2.1"))); // the same client through a dual-stack socket
        Assert.False(limiter.TryAcquire(a));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.2")));
        Assert.Equal(1, limiter.Refused);
        limiter.Release(a);
        limiter.Release(a);
        limiter.Release(IPAddress.Parse("192.0.2.2"));
        Assert.Equal(0, limiter.AddressCount);
    }

    [Fact]
    public void The_process_open_file_limit_is_read()
    {
        var limit = FileDescriptorLimit.RaiseToHard();
        Assert.True(limit >= 256, $"{limit}");
        Assert.True(ConnectionBudget.ForProcess().Capacity >= 16);
    }

    [Theory]
    [InlineData("Bilal", "Bilal")]
    [InlineData("  \u202EBilal\u202C ", "Bilal")]
    [InlineData("\u0628\u0644\u0627\u0644 \u2067Khan\u2069", "\u0628\u0644\u0627\u0644 Khan")]
    [InlineData("a\u200E\u200F\u061Cb", "ab")]
    public void Display_text_loses_bidi_controls_and_keeps_everything_else(string input, string expected) =>
        Assert.Equal(expected, DisplayText.Clean(input));
}
