using System.Collections.Concurrent;
using CsCheck;
using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.Tests.Dtls;

public class DtlsApplicationDataTests
{
    private static readonly DtlsHandshakeScheduler s_scheduler = new(8);

    private static async Task<(DtlsTestPair Pair, ConcurrentQueue<byte[]> AtClient, ConcurrentQueue<byte[]> AtServer)> ConnectAsync()
    {
        var pair = new DtlsTestPair(clientScheduler: s_scheduler, serverScheduler: s_scheduler);
        var atClient = new ConcurrentQueue<byte[]>();
        var atServer = new ConcurrentQueue<byte[]>();
        pair.Client.ApplicationDataReceived += (_, data) => atClient.Enqueue(data.ToArray());
        pair.Server.ApplicationDataReceived += (_, data) => atServer.Enqueue(data.ToArray());
        var (client, server) = await pair.RunAsync();
        Assert.True(client.Success && server.Success, client + " / " + server);
        return (pair, atClient, atServer);
    }

    [Fact]
    public async Task Application_data_round_trips_both_ways()
    {
        var (pair, atClient, atServer) = await ConnectAsync();
        using var _ = pair;

        byte[] ping = "hello from client"u8.ToArray();
        Assert.True(pair.Client.Send(ping));
        Assert.Single(atServer);
        Assert.Equal(ping, atServer.Single());

        byte[] big = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        Assert.True(pair.Client.MaxApplicationDataSize >= big.Length);
        Assert.True(pair.Server.Send(big));
        Assert.True(atClient.TryDequeue(out var got));
        Assert.Equal(big, got);

        for (int i = 0; i < 20; i++)
            Assert.True(pair.Server.Send([(byte)i]));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (byte)i), atClient.Select(b => Assert.Single(b)));
    }

    [Fact]
    public async Task Handler_may_reply_from_inside_the_callback()
    {
        var (pair, atClient, _) = await ConnectAsync();
        using var _p = pair;
        // Echo server: replies on the thread that delivered the data (re-entrant through the in-memory wiring).
        pair.Server.ApplicationDataReceived += (session, data) =>
        {
            Span<byte> reply = stackalloc byte[data.Length + 1];
            reply[0] = 0xEE;
            data.CopyTo(reply[1..]);
            Assert.True(session.Send(reply));
        };
        for (byte i = 0; i < 10; i++)
            Assert.True(pair.Client.Send([i, i]));
        Assert.Equal(10, atClient.Count);
        Assert.All(atClient.Select((b, i) => (b, i)), x => Assert.Equal(new byte[] { 0xEE, (byte)x.i, (byte)x.i }, x.b));
    }

    [Fact]
    public async Task Deferred_early_application_data_waits_for_the_owner_and_never_runs_on_the_handshake_thread()
    {
        for (var round = 0; round < 5; round++)
        {
            // The server's last flight (it starts with ChangeCipherSpec) is held until its first application record,
            // then both reach the client back to back: the record is queued while the client's handshake finishes.
            using var pair = new DtlsTestPair(clientScheduler: s_scheduler, serverScheduler: s_scheduler, clientDefersEarlyData: true);
            var held = new List<byte[]>();
            pair.ServerToClientLink = datagram =>
            {
                lock (held)
                {
                    if (datagram[0] == 20) { held.Add(datagram); return []; }
                    if (datagram[0] != 23) return [datagram];
                    var all = held.Append(datagram).ToList();
                    held.Clear();
                    return all;
                }
            };
            var deliveredOn = new ConcurrentQueue<string?>();
            var received = new ConcurrentQueue<byte[]>();
            pair.Client.ApplicationDataReceived += (_, data) =>
            {
                deliveredOn.Enqueue(Thread.CurrentThread.Name);
                received.Enqueue(data.ToArray());
            };

            var server = pair.Server.Start();
            var client = pair.Client.Start();
            Assert.True((await server.WaitAsync(TimeSpan.FromSeconds(30))).Success);
            Assert.True(pair.Server.Send("early"u8));
            Assert.True((await client.WaitAsync(TimeSpan.FromSeconds(30))).Success);
            await Task.Delay(20);
            // Either the delivery thread's HandleDatagram saw the session connected and decrypted it, or it waits here.
            pair.Client.ReceivePending();

            Assert.Equal("early"u8.ToArray(), Assert.Single(received));
            Assert.DoesNotContain("dtls-handshake", deliveredOn);
            pair.Client.ReceivePending();
            Assert.Single(received);
        }
    }

    [Fact]
    public async Task Oversized_application_data_is_refused()
    {
        var (pair, _, atServer) = await ConnectAsync();
        using var _p = pair;
        Assert.False(pair.Client.Send(new byte[pair.Client.MaxApplicationDataSize + 1]));
        Assert.Empty(atServer);
        Assert.True(pair.Client.Send(new byte[pair.Client.MaxApplicationDataSize]));
        Assert.Single(atServer);
    }

    [Fact]
    public void Send_before_handshake_returns_false()
    {
        using var session = new DtlsSession(DtlsRole.Client, DtlsTestPair.ClientCertificate,
            DtlsTestPair.ServerCertificate.Fingerprint, _ => { }, s_scheduler);
        Assert.False(session.Send([1, 2, 3]));
        Assert.Equal(0, session.MaxApplicationDataSize);
        Assert.Equal(DtlsSessionState.New, session.State);
    }

    [Fact]
    public async Task Close_sends_close_notify_and_the_peer_raises_closed()
    {
        var (pair, _, atServer) = await ConnectAsync();
        using var _p = pair;
        var serverClosed = new TaskCompletionSource<DtlsCloseReason>();
        var clientClosed = new TaskCompletionSource<DtlsCloseReason>();
        pair.Server.Closed += (_, reason) => serverClosed.TrySetResult(reason);
        pair.Client.Closed += (_, reason) => clientClosed.TrySetResult(reason);

        pair.Client.Close();

        Assert.Equal(DtlsCloseReason.LocalClose, await clientClosed.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(DtlsCloseReason.RemoteCloseNotify, await serverClosed.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(DtlsSessionState.Closed, pair.Client.State);
        Assert.Equal(DtlsSessionState.Closed, pair.Server.State);
        Assert.False(pair.Client.Send([1]));
        Assert.False(pair.Server.Send([1]));
        pair.Server.HandleDatagram([23, 254, 253, 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0]);
        Assert.Empty(atServer);
    }

    [Fact]
    public async Task Garbage_before_the_handshake_is_ignored()
    {
        using var pair = new DtlsTestPair(clientScheduler: s_scheduler, serverScheduler: s_scheduler);
        var random = new Random(42);
        for (int i = 0; i < 20; i++)
        {
            var junk = new byte[random.Next(0, 200)];
            random.NextBytes(junk);
            pair.Server.HandleDatagram(junk);
            pair.Client.HandleDatagram(junk);
        }
        pair.Server.HandleDatagram([]);
        pair.Server.HandleDatagram(new byte[5000]); // larger than any datagram we accept

        var (client, server) = await pair.RunAsync();
        Assert.True(client.Success && server.Success, client + " / " + server);
        Assert.True(client.KeyingMaterial.SequenceEqual(server.KeyingMaterial));
    }

    [Fact]
    public async Task Garbage_after_the_handshake_neither_throws_nor_breaks_the_session()
    {
        var (pair, atClient, atServer) = await ConnectAsync();
        using var _p = pair;
        bool closed = false;
        pair.Server.Closed += (_, _) => closed = true;
        pair.Client.Closed += (_, _) => closed = true;

        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            pair.Server.HandleDatagram(bytes);
            pair.Client.HandleDatagram(bytes);
        }, iter: 500);
        // Well-formed headers with bogus ciphertext, in the current epoch (fails authentication).
        for (byte type = 20; type <= 25; type++)
        {
            byte[] record = [type, 254, 253, 0, 1, 0, 0, 0, 0, 0, 99, 0, 24, .. new byte[24]];
            pair.Server.HandleDatagram(record);
            pair.Client.HandleDatagram(record);
        }

        Assert.False(closed);
        Assert.Empty(atServer);
        Assert.Empty(atClient);
        Assert.Equal(DtlsSessionState.Connected, pair.Server.State);
        Assert.True(pair.Client.Send("still alive"u8));
        Assert.Equal("still alive"u8.ToArray(), Assert.Single(atServer));
        Assert.True(pair.Server.Send("me too"u8));
        Assert.Equal("me too"u8.ToArray(), Assert.Single(atClient));
    }

    [Fact]
    public async Task Replayed_application_record_is_delivered_once()
    {
        var pair = new DtlsTestPair(clientScheduler: s_scheduler, serverScheduler: s_scheduler);
        using var _p = pair;
        byte[]? last = null;
        pair.DropClientToServer = (_, d) => { last = d.ToArray(); return false; };
        var atServer = new ConcurrentQueue<byte[]>();
        pair.Server.ApplicationDataReceived += (_, data) => atServer.Enqueue(data.ToArray());
        var (client, server) = await pair.RunAsync();
        Assert.True(client.Success && server.Success);

        Assert.True(pair.Client.Send([7, 7, 7]));
        Assert.NotNull(last);
        pair.Server.HandleDatagram(last); // replay (RFC 6347 §4.1.2.6)
        Assert.Single(atServer);
    }

    [Fact]
    public async Task Throwing_handler_does_not_escape_or_break_the_session()
    {
        var (pair, _, atServer) = await ConnectAsync();
        using var _p = pair;
        pair.Server.ApplicationDataReceived += (_, _) => throw new InvalidOperationException("handler bug");
        Assert.True(pair.Client.Send([1]));
        Assert.True(pair.Client.Send([2]));
        Assert.Equal(2, atServer.Count);
        Assert.Equal(DtlsSessionState.Connected, pair.Server.State);
    }
}
