using System.Net;
using System.Net.Sockets;
using TeleRehab.LoadTests;
using TeleRehab.LoadTests.Link;

namespace TeleRehab.Media.Tests.Link;

public class LinkCommandTests
{
    [Theory]
    [InlineData("link --target 127.0.0.1:40000 --profile 5g", "Unknown link profile '5g'")]
    [InlineData("link --target 127.0.0.1:40000 --schedule 0:4g,10:edge,5:3g", "times must increase")]
    [InlineData("link --target 127.0.0.1:40000 --schedule 10:edge", "must start at 0 seconds")]
    [InlineData("link --target 127.0.0.1 --profile edge", "'127.0.0.1' is not an address:port")]
    [InlineData("link --target 127.0.0.1:40000 --listen here --profile edge", "'here' is not an address:port")]
    [InlineData("link --profile edge", "--target")]
    [InlineData("link --target 127.0.0.1:40000", "Give a link profile")]
    [InlineData("link --target 127.0.0.1:40000 --profile edge --schedule 0:4g", "either --profile or --schedule")]
    [InlineData("link --target 127.0.0.1:40000 --profile edge --seed many", "many")]
    [InlineData("jump", "jump")]
    public async Task BadArgumentsGiveAMessageAndExitCode2(string args, string message)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await LoadTestsCli.RunAsync(args.Split(' '), output, error);
        Assert.Equal(LoadTestsCli.BadArguments, code);
        Assert.Contains(message, error.ToString());
    }

    [Fact]
    public async Task RunsUntilCancelledPrintingAStatusLineASecond()
    {
        using var target = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        target.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var output = new StringWriter();
        var error = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3.4));

        var code = await LoadTestsCli.RunAsync(
            ["link", "--target", target.LocalEndPoint!.ToString()!, "--schedule", "0:3g,1.5:edge", "--seed", "9"], output, error, stop.Token);

        Assert.Equal(0, code);
        Assert.Equal("", error.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("link: clients -> 127.0.0.1:", lines[0]);
        Assert.Contains("schedule 0:3g,1.5:edge, seed 9", lines[0]);
        // A status line a second (a loaded machine prints them late: one CI run's first line came at 1.5 s), each naming
        // the profile the schedule gives at its own time.
        var status = lines[1..];
        Assert.InRange(status.Length, 1, 4);
        foreach (var line in status)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var at = double.Parse(fields[0].TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);
            // (The time is printed to a tenth: at "1.5s" the switch may or may not have come.)
            if (Math.Abs(at - 1.5) > 0.05) Assert.Equal(at < 1.5 ? "3g" : "edge", fields[1]);
            else Assert.Contains(fields[1], new[] { "3g", "edge" });
            Assert.Contains("kbit/s queue", line);
        }
        Assert.Contains(status, line => line.Contains(" edge "));
    }

    [Fact]
    public void StatusLineShowsRatesQueueDelaysAndDropsOfTheInterval()
    {
        var before = new LinkEmulatorStatus(TimeSpan.FromSeconds(1), LinkProfile.Edge, 1,
            new LinkCounters(10, 1000, 10, 1000, 0, 0), default, TimeSpan.Zero, TimeSpan.Zero, 0);
        var after = before with
        {
            Elapsed = TimeSpan.FromSeconds(2),
            Up = new LinkCounters(30, 9000, 20, 8500, 4, 2),
            Down = new LinkCounters(5, 500, 5, 500, 0, 0),
            UpQueueDelay = TimeSpan.FromMilliseconds(612),
        };
        Assert.Equal(
            "   2.0s edge    clients 1 | up     60.0 kbit/s queue  612 ms drops 2 loss 4 queue | down      4.0 kbit/s queue    0 ms drops 0 loss 0 queue",
            LinkCommand.FormatStatus(before, after));
    }
}
