using Xunit.Abstractions;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TeleRehab.LoadTests.Link;

namespace TeleRehab.Media.Tests.Link;

/// <summary>The emulator over real loopback sockets, with a UDP server behind it.</summary>
public class UdpLinkEmulatorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RoundTripTakesTheProfileRttAndEachClientGetsItsOwnAddress()
    {
        using var server = new UdpTestServer(echo: true);
        await using var emulator = new UdpLinkEmulator(new UdpLinkEmulatorOptions
        {
            Target = server.EndPoint,
            Schedule = LinkSchedule.Parse("4g"),
        });
        using var first = NewClient();
        using var second = NewClient();
        var rtt = LinkProfile.FourG.Rtt;

        var samples = new List<TimeSpan>();
        for (var i = 0; i < 10; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            var reply = Ping(first, emulator.LocalEndPoint, $"ping {i}");
            samples.Add(Stopwatch.GetElapsedTime(sent));
            Assert.Equal($"ping {i}", reply);
        }
        Assert.Equal("from the second", Ping(second, emulator.LocalEndPoint, "from the second"));

        Assert.All(samples, s => Assert.True(s >= rtt, $"round trip {s.TotalMilliseconds:0.0} ms shorter than the RTT"));
        var median = samples.Order().ElementAt(samples.Count / 2);
        output.WriteLine($"round trips (ms): {string.Join(", ", samples.Select(x => x.TotalMilliseconds.ToString("0.0")))}");
        Assert.True(median < rtt + TimeSpan.FromMilliseconds(100), $"median round trip {median.TotalMilliseconds:0.0} ms");

        var sources = server.Sources.Distinct().ToList();
        Assert.Equal(2, sources.Count);
        Assert.DoesNotContain(first.LocalEndPoint, sources);
        Assert.DoesNotContain(second.LocalEndPoint, sources);
        Assert.DoesNotContain(emulator.LocalEndPoint, sources);

        // Like a symmetric NAT, a client's mapping only lets the server answer: a stranger's datagram is not relayed.
        using (var stranger = NewClient())
            stranger.SendTo("intruder"u8.ToArray(), sources[0]);
        Assert.Equal("after", Ping(first, emulator.LocalEndPoint, "after"));

        var status = emulator.GetStatus();
        Assert.Equal(2, status.Clients);
        Assert.Equal("4g", status.Profile.Name);
        Assert.Equal(12, status.Up.Delivered);
        Assert.Equal(12, status.Down.Delivered);
        Assert.Equal(0, status.Up.Dropped + status.Down.Dropped);
    }

    [Fact]
    public async Task RateLimitHoldsOverRealSockets()
    {
        using var server = new UdpTestServer(echo: false);
        var up = new LinkDirectionProfile(400, TimeSpan.FromMilliseconds(10), TimeSpan.Zero, LinkLoss.None, TimeSpan.FromMilliseconds(300));
        await using var emulator = new UdpLinkEmulator(new UdpLinkEmulatorOptions
        {
            Target = server.EndPoint,
            Schedule = LinkSchedule.Constant(new LinkProfile("test-400k", up, LinkDirectionProfile.Unlimited)),
        });
        using var client = NewClient();

        // About 800 kbit/s offered for two seconds: twice the link rate.
        var payload = new byte[1000];
        var start = Stopwatch.GetTimestamp();
        var sentPackets = 0;
        while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(2))
        {
            var due = (int)(Stopwatch.GetElapsedTime(start).TotalMilliseconds / 10) + 1;
            while (sentPackets < due)
            {
                client.SendTo(payload, emulator.LocalEndPoint);
                sentPackets++;
            }
            Thread.Sleep(2);
        }
        Thread.Sleep(500); // the queue drains (300 ms at most)

        var arrivals = server.Arrivals.ToArray();
        var from = arrivals[0].At + TimeSpan.FromMilliseconds(300); // past the token bucket's start-up burst
        var window = arrivals.Where(a => a.At >= from).ToArray();
        var kbps = window.Skip(1).Sum(a => a.Bytes) * 8 / (window[^1].At - window[0].At).TotalMilliseconds;
        output.WriteLine($"offered {sentPackets} x 1000 bytes in 2 s, delivered {kbps:0.0} kbit/s through a 400 kbit/s link");
        Assert.InRange(kbps, 0.85 * 400, 1.15 * 400);

        var status = emulator.GetStatus();
        Assert.Equal(sentPackets, status.Up.Offered);
        Assert.Equal(arrivals.Length, status.Up.Delivered);
        Assert.True(status.Up.DroppedByQueue > sentPackets / 4, $"{status.Up.DroppedByQueue} of {sentPackets} dropped by the queue");
        Assert.Equal(0, status.Up.DroppedByLoss);
    }

    [Fact]
    public async Task ScheduleSwitchesTheProfileWhileRunning()
    {
        using var server = new UdpTestServer(echo: true);
        await using var emulator = new UdpLinkEmulator(new UdpLinkEmulatorOptions
        {
            Target = server.EndPoint,
            Schedule = LinkSchedule.Parse("0:clean,0.3:4g"),
        });
        using var client = NewClient();
        Assert.Equal("clean", emulator.CurrentProfile.Name);
        Assert.Equal("a", Ping(client, emulator.LocalEndPoint, "a"));

        var deadline = Stopwatch.GetTimestamp();
        while (emulator.CurrentProfile.Name != "4g" && Stopwatch.GetElapsedTime(deadline) < TimeSpan.FromSeconds(5))
            await Task.Delay(20);
        Assert.Equal("4g", emulator.CurrentProfile.Name);

        var sent = Stopwatch.GetTimestamp();
        Assert.Equal("b", Ping(client, emulator.LocalEndPoint, "b"));
        Assert.True(Stopwatch.GetElapsedTime(sent) >= LinkProfile.FourG.Rtt, "the existing client's link follows the schedule");
    }

    [Fact]
    public async Task DisposeStopsTheLoopAndClosesThePort()
    {
        using var server = new UdpTestServer(echo: true);
        var emulator = new UdpLinkEmulator(new UdpLinkEmulatorOptions { Target = server.EndPoint });
        var port = emulator.LocalEndPoint;
        await emulator.DisposeAsync();
        Assert.True(emulator.Completion.IsCompleted);
        Assert.Null(emulator.Fault);
        using var rebind = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        rebind.Bind(port); // free again
        emulator.Dispose(); // idempotent
    }

    [Fact]
    public async Task A_cut_drops_everything_both_ways_until_lifted_and_a_rebind_moves_the_clients_source_port()
    {
        using var server = new UdpTestServer(echo: true);
        await using var emulator = new UdpLinkEmulator(new UdpLinkEmulatorOptions { Target = server.EndPoint });
        using var client = NewClient();
        Assert.Equal("before", Ping(client, emulator.LocalEndPoint, "before"));

        emulator.Cut = true;
        client.SendTo("lost"u8.ToArray(), emulator.LocalEndPoint);
        client.ReceiveTimeout = 500;
        Assert.Throws<SocketException>(() => client.Receive(new byte[100]));
        Assert.Single(server.Sources); // "lost" never reached the server
        Assert.Equal(1, emulator.CutDrops);

        emulator.Cut = false;
        Assert.Equal("after", Ping(client, emulator.LocalEndPoint, "after"));
        var first = server.Sources.Last();

        // A new mapping: the server sees the same client from another port, and answers reach the client through it.
        emulator.RebindClients();
        await Task.Delay(200);
        Assert.Equal("moved", Ping(client, emulator.LocalEndPoint, "moved"));
        var moved = server.Sources.Last();
        Assert.Equal(first.Address, moved.Address);
        Assert.NotEqual(first.Port, moved.Port);
        Assert.Equal(1, emulator.GetStatus().Clients);
    }

    private static Socket NewClient()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>Sends <paramref name="text"/> and waits (blocking, so the measure is not a thread-pool queue) for the reply.</summary>
    private static string Ping(Socket client, IPEndPoint to, string text)
    {
        client.SendTo(System.Text.Encoding.UTF8.GetBytes(text), to);
        var buffer = new byte[2048];
        client.ReceiveTimeout = 5000;
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        var length = client.ReceiveFrom(buffer, ref from);
        Assert.Equal(to, from);
        return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>A UDP server on loopback that records who sent what when, and optionally echoes. It reads on its
    /// own thread so busy thread-pool threads (tests run in parallel) do not skew its arrival times.</summary>
    private sealed class UdpTestServer : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly Thread _thread;
        private readonly long _start = Stopwatch.GetTimestamp();
        private volatile bool _stopping;

        public UdpTestServer(bool echo)
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _socket.ReceiveTimeout = 50;
            EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
            _thread = new Thread(() =>
            {
                var buffer = new byte[65536];
                while (!_stopping)
                {
                    EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                    int length;
                    try
                    {
                        length = _socket.ReceiveFrom(buffer, ref from);
                    }
                    catch (SocketException)
                    {
                        continue; // the receive timeout: look at the stop flag
                    }
                    Arrivals.Enqueue((Stopwatch.GetElapsedTime(_start), length));
                    Sources.Enqueue((IPEndPoint)from);
                    if (echo) _socket.SendTo(buffer.AsSpan(0, length), SocketFlags.None, from);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public IPEndPoint EndPoint { get; }

        public ConcurrentQueue<IPEndPoint> Sources { get; } = new();

        public ConcurrentQueue<(TimeSpan At, int Bytes)> Arrivals { get; } = new();

        public void Dispose()
        {
            _stopping = true;
            _thread.Join();
            _socket.Dispose();
        }
    }
}
