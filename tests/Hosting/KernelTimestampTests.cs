using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Tests.Support;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>
/// Arrival times for transport-wide feedback come from the kernel (SO_TIMESTAMPNS) on Linux: a datagram that waited in
/// the socket's queue while the receive loop was busy keeps the time it arrived, not the time it was read. (The server
/// runs on 64-bit Linux; elsewhere it stamps in user space and these tests do not apply.)
/// </summary>
[Collection(HostingCollection.Name)]
public sealed class KernelTimestampTests
{
    [Fact]
    public void A_datagram_read_late_keeps_the_time_the_kernel_received_it()
    {
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stamped = UdpMessageReceiver.TryCreate(receiver);
        Assert.NotNull(stamped);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        // The kernel turns its receive stamps on for the whole system some moments after the first socket asks for them
        // (net_enable_timestamp defers it to a work queue) and until then stamps a datagram when it is read: in a process
        // with no stamping socket before this one, the first datagram may be stamped late (one CI run). One round first.
        sender.SendTo(new byte[] { 0 }, receiver.LocalEndPoint!);
        Assert.Equal(1, stamped.Receive(new byte[64], new SocketAddress(AddressFamily.InterNetwork), TimeSpan.FromSeconds(5), out _));
        Thread.Sleep(100);

        // The kernel stamps with the wall clock, which the receiver carries over to the monotonic one: a read during
        // which the wall clock was stepped (a virtual machine's clock synchronised, as in one CI run: "stamped 0 ms
        // before it was read") measures the step, not the wait, and is read again.
        var (reads, measured) = (0, 0);
        while (measured < 3)
        {
            Assert.True(reads < 10, $"the wall clock was stepped during {reads - measured} of {reads} reads");
            var i = reads++;
            var sent = Stopwatch.GetTimestamp();
            var sentWall = DateTime.UtcNow;
            sender.SendTo(new byte[] { 1, 2, (byte)i }, receiver.LocalEndPoint!);
            Thread.Sleep(200); // the loop is "busy": the datagram waits in the socket's queue

            var buffer = new byte[2048];
            var from = new SocketAddress(AddressFamily.InterNetwork);
            var length = stamped.Receive(buffer, from, TimeSpan.FromSeconds(5), out var receivedAt);
            var read = Stopwatch.GetTimestamp();
            var readWall = DateTime.UtcNow;

            Assert.Equal(3, length);
            Assert.Equal(new byte[] { 1, 2, (byte)i }, buffer[..3]);
            Assert.Equal(sender.LocalEndPoint, new IPEndPoint(IPAddress.Any, 0).Create(from));
            if (Math.Abs(((readWall - sentWall) - Stopwatch.GetElapsedTime(sent, read)).TotalMilliseconds) > 20) continue;
            measured++;
            // Stamped at arrival: after the send, and well before it was read (the sleep was 200 ms; generous bounds).
            Assert.True(receivedAt >= sent - Stopwatch.Frequency / 1000, "stamped before it was sent");
            var waited = Stopwatch.GetElapsedTime(receivedAt, read);
            Assert.True(waited >= TimeSpan.FromMilliseconds(150), $"stamped {waited.TotalMilliseconds:0} ms before it was read (want about 200)");
        }
        Assert.Equal(reads + 1, stamped.KernelStamped);
    }

    [Fact]
    public void Nothing_within_the_wait_returns_zero_and_disposing_the_socket_ends_the_receive()
    {
        var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var stamped = UdpMessageReceiver.TryCreate(receiver)!;
        var from = new SocketAddress(AddressFamily.InterNetwork);
        Assert.Equal(0, stamped.Receive(new byte[64], from, TimeSpan.FromMilliseconds(50), out _));

        // Disposed from another thread, as the server does while its loop waits: the wait ends, the next call throws.
        var receiving = Task.Run(() =>
        {
            while (true) stamped.Receive(new byte[64], from, TimeSpan.FromMilliseconds(50), out _);
        });
        Thread.Sleep(100);
        receiver.Dispose();
        Assert.True(((IAsyncResult)receiving).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(20)), "the receive did not end");
        Assert.IsType<ObjectDisposedException>(receiving.Exception?.InnerException);
        stamped.Dispose();
    }

    [Fact]
    public async Task The_servers_receive_loop_stamps_media_with_kernel_times()
    {
        await using var host = await AppHost.StartAsync();
        using var worker = new ClientWorker();
        var (client, _) = await host.ConnectEchoAsync(worker.Worker, DtlsCertificate.Generate());
        await using (client)
        {
            Assert.True(await client.EchoesAsync());
        }
        Assert.True(host.Media.KernelStampedDatagrams > 0, "no datagram carried a kernel timestamp");
    }
}
