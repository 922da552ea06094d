namespace TeleRehab.LoadTests.Load;

/// <summary>A fixed histogram of milliseconds: 1 ms buckets below 1 s, 10 ms buckets to 10 s, the last bucket holding
/// everything above. Recording is one interlocked increment (no allocation), safe from any thread.</summary>
public sealed class LatencyHistogram
{
    private const int FineLimit = 1000;
    private const int Buckets = FineLimit + 900 + 1;

    private readonly long[] _counts = new long[Buckets];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(double milliseconds)
    {
        Interlocked.Increment(ref _counts[Index(milliseconds)]);
        Interlocked.Increment(ref _total);
    }

    private static int Index(double ms)
    {
        if (ms < 0) ms = 0;
        if (ms < FineLimit) return (int)ms;
        return Math.Min(Buckets - 1, FineLimit + (int)((ms - FineLimit) / 10));
    }

    private static double UpperEdge(int index) => index < FineLimit ? index + 1 : FineLimit + (index - FineLimit + 1) * 10;

    /// <summary>The value below which <paramref name="quantile"/> of the samples lie (the bucket's upper edge), or null
    /// with no samples.</summary>
    public double? Quantile(double quantile)
    {
        var total = Count;
        if (total == 0) return null;
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank && seen > 0) return UpperEdge(i);
        }
        return UpperEdge(Buckets - 1);
    }

    /// <summary>Adds <paramref name="other"/>'s samples to this one.</summary>
    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < Buckets; i++)
        {
            var c = Interlocked.Read(ref other._counts[i]);
            if (c != 0) Interlocked.Add(ref _counts[i], c);
        }
        Interlocked.Add(ref _total, other.Count);
    }

    /// <summary>Moves every sample into <paramref name="into"/> and empties this one (for per-second figures; a sample
    /// recorded meanwhile lands in one of the two).</summary>
    public void DrainInto(LatencyHistogram into)
    {
        for (var i = 0; i < Buckets; i++)
        {
            var c = Interlocked.Exchange(ref _counts[i], 0);
            if (c == 0) continue;
            Interlocked.Add(ref into._counts[i], c);
            Interlocked.Add(ref into._total, c);
            Interlocked.Add(ref _total, -c);
        }
    }
}

/// <summary>Quantiles of plain values (per-participant figures at the end of a run).</summary>
public static class Quantiles
{
    public static double? Of(IEnumerable<double> values, double quantile)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return null;
        var rank = Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[rank];
    }
}
