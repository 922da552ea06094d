namespace TeleRehab.Media.Tests.Support;

/// <summary>Allocation checks for steady-state paths. The runtime itself may allocate on the test's thread at a
/// moment that depends on timing (tiered compilation replacing a method, a type's first use from new code), once, not
/// per call; a path that allocates per call does so in every block, so the fewest bytes over a few blocks is what the
/// path allocates.</summary>
internal static class Allocations
{
    /// <summary>Runs <paramref name="block"/> <paramref name="blocks"/> times (block index passed in) and returns the
    /// fewest bytes the current thread allocated in one of them.</summary>
    public static long FewestBytes(int blocks, Action<int> block)
    {
        var fewest = long.MaxValue;
        for (var i = 0; i < blocks; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            block(i);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
