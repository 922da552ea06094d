using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TeleRehab.LoadTests.Link;

/// <summary><c>link --listen 127.0.0.1:41000 --target 127.0.0.1:40000 --profile edge</c>: runs a
/// <see cref="UdpLinkEmulator"/> until Ctrl+C, printing one status line a second.</summary>
public static class LinkCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var listen = new Option<IPEndPoint>("--listen")
        {
            Description = "Address clients send to (the server's only candidate for them).",
            DefaultValueFactory = _ => new IPEndPoint(IPAddress.Loopback, 0),
            CustomParser = ParseEndPoint,
        };
        var target = new Option<IPEndPoint>("--target")
        {
            Description = "The server's UDP address, e.g. 127.0.0.1:40000.",
            Required = true,
            CustomParser = ParseEndPoint,
        };
        var profile = new Option<LinkProfile?>("--profile")
        {
            Description = $"Link profile: {string.Join(", ", LinkProfile.Named.Select(p => p.Name))}.",
            CustomParser = result =>
            {
                try
                {
                    return LinkProfile.Parse(result.Tokens.Single().Value);
                }
                catch (FormatException e)
                {
                    result.AddError(e.Message);
                    return null;
                }
            },
        };
        var schedule = new Option<LinkSchedule?>("--schedule")
        {
            Description = "Profiles over time as seconds:profile, e.g. 0:4g,20:edge,50:4g.",
            CustomParser = result =>
            {
                if (LinkSchedule.TryParse(result.Tokens.Single().Value, out var parsed, out var message)) return parsed;
                result.AddError(message);
                return null;
            },
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed for loss and jitter (same seed, same losses for the same traffic).",
            DefaultValueFactory = _ => 1,
        };

        var command = new Command("link", "Emulate a weak network link (rate, queue, delay, jitter, loss) between UDP clients and a server.")
        {
            listen, target, profile, schedule, seed,
        };
        command.Validators.Add(result =>
        {
            var hasProfile = result.GetResult(profile) is { Implicit: false };
            var hasSchedule = result.GetResult(schedule) is { Implicit: false };
            if (hasProfile && hasSchedule) result.AddError("Give either --profile or --schedule, not both.");
            if (!hasProfile && !hasSchedule) result.AddError("Give a link profile (--profile edge) or a schedule (--schedule 0:4g,20:edge).");
        });

        command.SetAction(async (parsed, cancellationToken) =>
        {
            var options = new UdpLinkEmulatorOptions
            {
                Listen = parsed.GetValue(listen)!,
                Target = parsed.GetRequiredValue(target),
                Schedule = parsed.GetValue(schedule) ?? LinkSchedule.Constant(parsed.GetValue(profile)!),
                Seed = parsed.GetValue(seed),
            };
            return await RunAsync(options, output, error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Runs the emulator until cancelled; 0 when stopped, 1 when it could not start or failed.</summary>
    public static async Task<int> RunAsync(UdpLinkEmulatorOptions options, TextWriter output, TextWriter error,
        CancellationToken cancellationToken)
    {
        UdpLinkEmulator emulator;
        try
        {
            emulator = new UdpLinkEmulator(options);
        }
        catch (SocketException e)
        {
            error.WriteLine($"Cannot listen on {options.Listen}: {e.Message}");
            return 1;
        }

        await using (emulator.ConfigureAwait(false))
        {
            output.WriteLine($"link: clients -> {emulator.LocalEndPoint} -> {options.Target}, schedule {options.Schedule}, seed {options.Seed}. Ctrl+C stops.");
            var last = emulator.GetStatus();
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (emulator.Fault is { } fault)
                    {
                        error.WriteLine($"link: stopped on an error: {fault.Message}");
                        return 1;
                    }
                    var status = emulator.GetStatus();
                    output.WriteLine(FormatStatus(last, status));
                    last = status;
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
        return 0;
    }

    /// <summary>One line: time, profile, clients, then per direction the delivered rate over the interval, the
    /// queueing delay now and the drops (loss/queue) in the interval.</summary>
    public static string FormatStatus(LinkEmulatorStatus previous, LinkEmulatorStatus current)
    {
        var seconds = (current.Elapsed - previous.Elapsed).TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"{current.Elapsed.TotalSeconds,6:0.0}s {current.Profile.Name,-7} clients {current.Clients}" +
            $" | up {Direction(current.Up - previous.Up, current.UpQueueDelay, seconds)}" +
            $" | down {Direction(current.Down - previous.Down, current.DownQueueDelay, seconds)}");
    }

    private static string Direction(LinkCounters delta, TimeSpan queueDelay, double seconds)
    {
        var kbps = seconds > 0 ? delta.DeliveredBytes * 8 / 1000.0 / seconds : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"{kbps,8:0.0} kbit/s queue {queueDelay.TotalMilliseconds,4:0} ms drops {delta.DroppedByLoss} loss {delta.DroppedByQueue} queue");
    }

    private static IPEndPoint ParseEndPoint(ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (IPEndPoint.TryParse(text, out var endPoint) && (endPoint.Port != 0 || text.EndsWith(":0", StringComparison.Ordinal)))
            return endPoint;
        result.AddError($"'{text}' is not an address:port such as 127.0.0.1:40000.");
        return null!;
    }
}
