using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.Tests.Dtls;

/// <summary>
/// Handshakes over links that reorder and lose records, including the ChangeCipherSpec-before-CertificateVerify
/// case BouncyCastle cannot recover from on its own (bc-java#229), and flight packing (RFC 6347 §4.1.1).
/// </summary>
public class DtlsReorderTests
{
    private const int CertificateVerify = 15;
    private static readonly DtlsHandshakeScheduler s_scheduler = new(24);

    /// <summary>Passes each record alone, holding back the first one that matches until after <paramref name="after"/>.</summary>
    private sealed class HoldBack(Func<DtlsRecordView, bool> hold, Func<DtlsRecordView, bool> after)
    {
        private readonly object _lock = new();
        private readonly List<DtlsRecordView> _delivered = new();
        private readonly List<DtlsRecordView> _sent = new();
        private DtlsRecordView? _held;
        private bool _done;

        public List<DtlsRecordView> Delivered { get { lock (_lock) return _delivered.ToList(); } }
        public List<DtlsRecordView> Sent { get { lock (_lock) return _sent.ToList(); } }

        public IReadOnlyList<byte[]> Carry(byte[] datagram)
        {
            var deliver = new List<byte[]>();
            lock (_lock)
            {
                foreach (var record in DtlsRecordView.Split(datagram))
                {
                    _sent.Add(record);
                    if (!_done && _held is null && hold(record))
                    {
                        _held = record;
                        continue;
                    }
                    Deliver(record);
                    if (_held is not null && after(record))
                    {
                        Deliver(_held);
                        _held = null;
                        _done = true;
                    }
                }
            }
            return deliver;

            void Deliver(DtlsRecordView record)
            {
                _delivered.Add(record);
                deliver.Add(record.Bytes);
            }
        }
    }

    private static DtlsSessionOptions SlowRetransmission => new()
    {
        // A retransmission would only come after 10 s: completing without one proves the reordered records were
        // used as they arrived.
        InitialRetransmitTimeout = TimeSpan.FromSeconds(10),
        HandshakeTimeout = TimeSpan.FromSeconds(40),
    };

    [Fact]
    public async Task Client_certificate_verify_held_back_until_after_its_finished_still_completes()
    {
        using var pair = new DtlsTestPair(SlowRetransmission, SlowRetransmission, s_scheduler, s_scheduler);
        var link = new HoldBack(r => r.HandshakeType == CertificateVerify,
            r => r.Epoch == 1 && r.ContentType == DtlsRecordView.Handshake);
        pair.ClientToServerLink = link.Carry;

        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success, client.ToString());
        Assert.True(server.Success, server.ToString());
        Assert.True(client.KeyingMaterial.SequenceEqual(server.KeyingMaterial));
        // The server really got ChangeCipherSpec and Finished before CertificateVerify...
        var order = link.Delivered.Select(r => r.ContentType == DtlsRecordView.ChangeCipherSpec ? "ccs"
            : r.Epoch == 1 ? "finished" : r.HandshakeType == CertificateVerify ? "cv" : "other").ToList();
        Assert.True(order.IndexOf("ccs") < order.IndexOf("cv"));
        Assert.True(order.IndexOf("finished") < order.IndexOf("cv"));
        // ...and the client never had to retransmit its flight.
        Assert.Single(link.Sent, r => r.HandshakeType == CertificateVerify);
        Assert.Single(link.Sent, r => r.ContentType == DtlsRecordView.ChangeCipherSpec);
    }

    [Fact]
    public async Task Lost_client_certificate_verify_is_recovered_from_the_retransmitted_flight()
    {
        var options = new DtlsSessionOptions { InitialRetransmitTimeout = TimeSpan.FromMilliseconds(300) };
        using var pair = new DtlsTestPair(options, options, s_scheduler, s_scheduler);
        int certificateVerifies = 0;
        pair.ClientToServerLink = datagram => DtlsRecordView.Split(datagram)
            .Where(r => r.HandshakeType != CertificateVerify || Interlocked.Increment(ref certificateVerifies) > 1)
            .Select(r => r.Bytes)
            .ToList();

        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success, client.ToString());
        Assert.True(server.Success, server.ToString());
        Assert.True(client.KeyingMaterial.SequenceEqual(server.KeyingMaterial));
        Assert.True(Volatile.Read(ref certificateVerifies) >= 2, "the client's flight should have been retransmitted");
    }

    [Fact]
    public async Task Server_finished_before_its_change_cipher_spec_completes_without_retransmission()
    {
        using var pair = new DtlsTestPair(SlowRetransmission, SlowRetransmission, s_scheduler, s_scheduler);
        var link = new HoldBack(r => r.ContentType == DtlsRecordView.ChangeCipherSpec, r => r.Epoch == 1);
        pair.ServerToClientLink = link.Carry;

        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success, client.ToString());
        Assert.True(server.Success, server.ToString());
        Assert.Single(link.Sent, r => r.ContentType == DtlsRecordView.ChangeCipherSpec);
        var delivered = link.Delivered;
        Assert.True(delivered.FindIndex(r => r.Epoch == 1) < delivered.FindIndex(r => r.ContentType == DtlsRecordView.ChangeCipherSpec));
    }

    [Fact]
    public async Task Fifty_seeds_of_random_record_loss_reordering_and_duplication_all_complete()
    {
        // A short first retransmission timer keeps the test quick. What it proves is that every seed completes, not how
        // fast: ten handshakes at a time run beside the rest of the suite, and on a busy two-core machine one seed's
        // backoff once ran past the default 15 s; the timeout is generous (a stuck handshake still fails).
        var options = new DtlsSessionOptions
        {
            InitialRetransmitTimeout = TimeSpan.FromMilliseconds(250),
            HandshakeTimeout = TimeSpan.FromSeconds(60),
        };
        int lost = 0, reordered = 0;
        var failures = new List<string>();
        foreach (var batch in Enumerable.Range(1, 50).Chunk(10))
        {
            var runs = batch.Select(async seed =>
            {
                using var pair = new DtlsTestPair(options, options, s_scheduler, s_scheduler);
                var up = new ImpairedLink(seed * 2);
                var down = new ImpairedLink(seed * 2 + 1);
                pair.ClientToServerLink = up.Carry;
                pair.ServerToClientLink = down.Carry;
                var (client, server) = await pair.RunAsync();
                lock (failures)
                {
                    lost += up.Lost + down.Lost;
                    reordered += up.Reordered + down.Reordered;
                    if (!client.Success || !server.Success || !client.KeyingMaterial.SequenceEqual(server.KeyingMaterial))
                        failures.Add($"seed {seed}: {client} / {server}");
                    else if (pair.MaxDatagramSize > 1200)
                        failures.Add($"seed {seed}: a {pair.MaxDatagramSize}-byte datagram");
                }
            });
            await Task.WhenAll(runs);
        }

        Assert.Empty(failures);
        Assert.True(lost > 50 && reordered > 50, $"lost {lost}, reordered {reordered}");
    }

    [Fact]
    public async Task Flights_are_packed_into_datagrams_within_the_mtu()
    {
        using var pair = new DtlsTestPair(clientScheduler: s_scheduler, serverScheduler: s_scheduler);
        var sent = new List<List<DtlsRecordView>>();
        pair.ClientToServerLink = datagram =>
        {
            lock (sent)
                sent.Add(DtlsRecordView.Split(datagram));
            return [datagram];
        };
        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success && server.Success, client + " / " + server);
        Assert.InRange(pair.MaxDatagramSize, 1, 1200);
        lock (sent)
        {
            // ClientHello, then Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec and the
            // epoch-1 Finished together: the reordering that stalls BouncyCastle cannot happen inside a datagram.
            var flight5 = sent.Single(d => d.Any(r => r.HandshakeType == CertificateVerify));
            Assert.Equal(5, flight5.Count);
            Assert.Equal(DtlsRecordView.ChangeCipherSpec, flight5[3].ContentType);
            Assert.Equal(1, flight5[4].Epoch);
        }
        Assert.True(pair.MaxRecordsPerDatagram >= 5);
    }

    [Fact]
    public async Task Small_mtu_packs_records_without_exceeding_it()
    {
        var options = new DtlsSessionOptions { Mtu = 300 };
        using var pair = new DtlsTestPair(options, options, s_scheduler, s_scheduler);
        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success && server.Success, client + " / " + server);
        Assert.InRange(pair.MaxDatagramSize, 1, 300);
        Assert.True(pair.HandshakeFragmentCount > 0);
        Assert.True(pair.MaxRecordsPerDatagram >= 2);
    }

    [Fact]
    public async Task Application_data_after_the_handshake_is_sent_at_once_one_record_per_datagram()
    {
        using var pair = new DtlsTestPair(clientScheduler: s_scheduler, serverScheduler: s_scheduler);
        var received = new List<byte[]>();
        pair.Server.ApplicationDataReceived += (_, data) => { lock (received) received.Add(data.ToArray()); };
        var (client, server) = await pair.RunAsync();
        Assert.True(client.Success && server.Success);

        int before = pair.ClientToServerCount;
        Assert.True(pair.Client.Send([1, 2, 3]));
        Assert.True(pair.Client.Send([4, 5]));
        Assert.Equal(before + 2, pair.ClientToServerCount);
        lock (received)
            Assert.Equal([[1, 2, 3], [4, 5]], received);
    }
}
