namespace TeleRehab.Media.Bwe;

/// <summary><see cref="TimeSpan.MinValue"/> stands for "never" in this folder.</summary>
internal static class BweTime
{
    public static readonly TimeSpan Never = TimeSpan.MinValue;

    /// <summary>Time since <paramref name="since"/>, or <see cref="TimeSpan.MaxValue"/> when it never happened.</summary>
    public static TimeSpan Elapsed(TimeSpan now, TimeSpan since) => since == Never ? TimeSpan.MaxValue : now - since;
}
