namespace TeleRehab.Media.Tests.Support;

/// <summary>
/// A browser test of a "done when" point that the product does not meet in every run yet: skipped (with the reason) in
/// the default run, so that the suite stays a verdict, and run with <c>TELEREHAB_NOT_YET_STEADY=1</c> (figures and the
/// runs that failed are in the docs the reason names).
/// </summary>
public sealed class NotYetSteadyFactAttribute : FactAttribute
{
    public const string Variable = "TELEREHAB_NOT_YET_STEADY";

    public NotYetSteadyFactAttribute(string why)
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1") Skip = $"not steady yet: {why}; run with {Variable}=1";
    }
}
