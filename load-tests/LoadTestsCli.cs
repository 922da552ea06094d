using System.CommandLine;
using TeleRehab.LoadTests.Link;
using TeleRehab.LoadTests.Load;

namespace TeleRehab.LoadTests;

/// <summary>The load-tests executable: one subcommand per tool (<c>run</c>, the load generator; <c>link</c>, the link
/// emulator). Exit codes: 0 done, 1 failed while running, 2 bad arguments, 3 an SLO not met (<c>run</c>).</summary>
public static class LoadTestsCli
{
    public const int BadArguments = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null,
        CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var root = new RootCommand("TeleRehab Media load tests.")
        {
            LoadCommand.Create(output, error),
            LinkCommand.Create(output, error),
        };

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors) error.WriteLine(parseError.Message);
            error.WriteLine("Run with --help for usage.");
            return BadArguments;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken)
            .ConfigureAwait(false);
    }
}
