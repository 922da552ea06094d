using Microsoft.Playwright;

namespace TeleRehab.Media.Tests.Support;

/// <summary>
/// Waits for a condition in a page that may be asynchronous. Page.WaitForFunctionAsync takes a predicate's promise as
/// truthy at once (microsoft/playwright#29132: its predicates are synchronous by design), so a condition that reads
/// getStats() through it never waited; Page.EvaluateAsync awaits the promise, so it is polled from here instead.
/// </summary>
public static class PageWait
{
    /// <summary>Evaluates <paramref name="predicate"/> (a function of <paramref name="arg"/>, sync or async) every
    /// <paramref name="pollMs"/> until it is truthy; a TimeoutException naming it after <paramref name="timeoutMs"/>.</summary>
    public static async Task UntilAsync(IPage page, string predicate, object? arg = null, int timeoutMs = 20_000, int pollMs = 100)
    {
        var expression = $"async (arg) => !!(await ({predicate})(arg))";
        var deadline = DateTime.UtcNow + TimeSpan.FromMilliseconds(timeoutMs);
        while (!await page.EvaluateAsync<bool>(expression, arg))
        {
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"not true within {timeoutMs} ms: {predicate}");
            await Task.Delay(pollMs);
        }
    }
}
