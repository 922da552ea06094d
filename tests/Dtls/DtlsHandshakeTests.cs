using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.Tests.Dtls;

public class DtlsHandshakeTests
{
    private static readonly DtlsHandshakeScheduler s_scheduler = new(8);

    [Fact]
    public async Task Handshake_completes_with_identical_keys_and_preferred_gcm_profile()
    {
        using var pair = new DtlsTestPair(clientScheduler: s_scheduler, serverScheduler: s_scheduler);
        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success, client.ToString());
        Assert.True(server.Success, server.ToString());
        Assert.Equal(DtlsRole.Client, client.Role);
        Assert.Equal(DtlsRole.Server, server.Role);
        Assert.Equal(SrtpProtectionProfiles.AeadAes128Gcm, client.SrtpProfile);
        Assert.Equal(client.SrtpProfile, server.SrtpProfile);
        Assert.Equal(2 * (16 + 12), client.KeyingMaterial.Length);
        Assert.True(client.KeyingMaterial.SequenceEqual(server.KeyingMaterial));
        Assert.Equal(DtlsSessionState.Connected, pair.Client.State);
        Assert.Equal(DtlsSessionState.Connected, pair.Server.State);
        Assert.Equal(DtlsTestPair.ServerCertificate.Fingerprint, client.RemoteFingerprint);
        Assert.Equal(DtlsTestPair.ClientCertificate.Fingerprint, server.RemoteFingerprint);
        Assert.InRange(pair.MaxDatagramSize, 1, 1200);
    }

    [Fact]
    public async Task Keying_material_layout_follows_rfc5764_section_4_2()
    {
        // Client offers only the AES-CM profiles: the server must pick _80 (preferred over _32).
        var clientOptions = new DtlsSessionOptions
        {
            SrtpProfiles = [SrtpProtectionProfiles.AesCm128HmacSha1_32, SrtpProtectionProfiles.AesCm128HmacSha1_80],
        };
        using var pair = new DtlsTestPair(clientOptions, clientScheduler: s_scheduler, serverScheduler: s_scheduler);
        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success && server.Success, client + " / " + server);
        Assert.Equal(SrtpProtectionProfiles.AesCm128HmacSha1_80, client.SrtpProfile);
        Assert.Equal(SrtpProtectionProfiles.AesCm128HmacSha1_80, server.SrtpProfile);
        byte[] km = client.KeyingMaterial.ToArray();
        Assert.Equal(60, km.Length);
        // client_key(16) | server_key(16) | client_salt(14) | server_salt(14)
        Assert.Equal(km[0..16], client.ClientMasterKey.ToArray());
        Assert.Equal(km[16..32], client.ServerMasterKey.ToArray());
        Assert.Equal(km[32..46], client.ClientMasterSalt.ToArray());
        Assert.Equal(km[46..60], client.ServerMasterSalt.ToArray());
        // What one side sends with, the other receives with.
        Assert.Equal(client.LocalMasterKey.ToArray(), server.RemoteMasterKey.ToArray());
        Assert.Equal(client.LocalMasterSalt.ToArray(), server.RemoteMasterSalt.ToArray());
        Assert.Equal(server.LocalMasterKey.ToArray(), client.RemoteMasterKey.ToArray());
        Assert.Equal(server.LocalMasterSalt.ToArray(), client.RemoteMasterSalt.ToArray());
        Assert.False(client.LocalMasterKey.SequenceEqual(client.RemoteMasterKey));
    }

    [Fact]
    public async Task Gcm_layout_uses_12_byte_salts()
    {
        using var pair = new DtlsTestPair(clientScheduler: s_scheduler, serverScheduler: s_scheduler);
        var (client, server) = await pair.RunAsync();
        Assert.True(client.Success && server.Success);
        byte[] km = server.KeyingMaterial.ToArray();
        Assert.Equal(km[32..44], server.ClientMasterSalt.ToArray());
        Assert.Equal(km[44..56], server.ServerMasterSalt.ToArray());
        Assert.Equal(12, server.LocalMasterSalt.Length);
    }

    [Fact]
    public async Task Client_rejects_server_with_wrong_fingerprint()
    {
        var wrong = DtlsCertificate.Generate("impostor").Fingerprint;
        var options = new DtlsSessionOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) };
        using var pair = new DtlsTestPair(options, options, s_scheduler, s_scheduler, clientExpects: wrong);
        var (client, server) = await pair.RunAsync();

        Assert.False(client.Success);
        Assert.Equal(DtlsFailureReason.FingerprintMismatch, client.FailureReason);
        Assert.Contains("fingerprint", client.FailureMessage, StringComparison.OrdinalIgnoreCase);
        Assert.True(client.KeyingMaterial.IsEmpty);
        Assert.Equal(0, client.SrtpProfile);
        Assert.False(server.Success);
        Assert.Equal(DtlsFailureReason.AlertReceived, server.FailureReason);
        Assert.Contains("bad_certificate", server.FailureMessage);
        Assert.True(server.KeyingMaterial.IsEmpty);
        Assert.Equal(DtlsSessionState.Failed, pair.Client.State);
        Assert.Equal(DtlsSessionState.Failed, pair.Server.State);
        Assert.False(pair.Client.Send([1, 2, 3]));
    }

    [Fact]
    public async Task Server_rejects_client_with_wrong_fingerprint()
    {
        var wrong = DtlsFingerprint.Parse("sha-256 " + string.Join(":", Enumerable.Repeat("AB", 32)));
        var options = new DtlsSessionOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) };
        using var pair = new DtlsTestPair(options, options, s_scheduler, s_scheduler, serverExpects: wrong);
        var (client, server) = await pair.RunAsync();

        Assert.False(server.Success);
        Assert.Equal(DtlsFailureReason.FingerprintMismatch, server.FailureReason);
        Assert.Contains("expected 'sha-256 AB:AB", server.FailureMessage);
        Assert.True(server.KeyingMaterial.IsEmpty);
        Assert.False(client.Success);
        Assert.Equal(DtlsFailureReason.AlertReceived, client.FailureReason);
        Assert.Contains("bad_certificate", client.FailureMessage);
        Assert.True(client.KeyingMaterial.IsEmpty);
        Assert.Throws<InvalidOperationException>(() => client.ClientMasterKey.Length);
    }

    [Fact]
    public async Task Dropped_first_flight_is_retransmitted_and_handshake_completes()
    {
        var options = new DtlsSessionOptions { InitialRetransmitTimeout = TimeSpan.FromMilliseconds(300) };
        using var pair = new DtlsTestPair(options, options, s_scheduler, s_scheduler);
        int dropped = 0;
        pair.DropClientToServer = (n, _) =>
        {
            if (n != 0) return false;
            Interlocked.Increment(ref dropped);
            return true;
        };
        var (client, server) = await pair.RunAsync();

        Assert.Equal(1, dropped);
        Assert.True(client.Success, client.ToString());
        Assert.True(server.Success, server.ToString());
        Assert.True(client.KeyingMaterial.SequenceEqual(server.KeyingMaterial));
    }

    [Fact]
    public async Task Dropped_server_flight_is_retransmitted_and_handshake_completes()
    {
        var options = new DtlsSessionOptions { InitialRetransmitTimeout = TimeSpan.FromMilliseconds(300) };
        using var pair = new DtlsTestPair(options, options, s_scheduler, s_scheduler);
        // Lose the start of the first server flight, and the server's final flight (ChangeCipherSpec, record
        // type 20, and the Finished after it) once: the server has then already completed, so the resend is
        // triggered by the client's retransmitted flight arriving through HandleDatagram (RFC 6347 §4.2.4).
        int serverCcs = 0;
        pair.DropServerToClient = (n, d) => n < 2 || (d.Span[0] == 20 && Interlocked.Increment(ref serverCcs) == 1)
            || (d.Span[0] == 22 && d.Span[4] == 1 && Volatile.Read(ref serverCcs) == 1);
        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success, client.ToString());
        Assert.True(server.Success, server.ToString());
        Assert.True(serverCcs >= 2, "the final flight should have been retransmitted");
        Assert.True(client.KeyingMaterial.SequenceEqual(server.KeyingMaterial));
    }

    [Fact]
    public async Task Handshake_times_out_when_peer_never_answers()
    {
        var options = new DtlsSessionOptions
        {
            HandshakeTimeout = TimeSpan.FromSeconds(2),
            InitialRetransmitTimeout = TimeSpan.FromMilliseconds(250),
        };
        int sent = 0;
        using var client = new DtlsSession(DtlsRole.Client, DtlsTestPair.ClientCertificate,
            DtlsTestPair.ServerCertificate.Fingerprint, _ => Interlocked.Increment(ref sent), s_scheduler, options);
        using var server = new DtlsSession(DtlsRole.Server, DtlsTestPair.ServerCertificate,
            DtlsTestPair.ClientCertificate.Fingerprint, _ => { }, s_scheduler, options);

        var results = await Task.WhenAll(client.Start(), server.Start()).WaitAsync(TimeSpan.FromSeconds(60));

        foreach (var result in results)
        {
            Assert.False(result.Success);
            Assert.Equal(DtlsFailureReason.Timeout, result.FailureReason);
            Assert.True(result.KeyingMaterial.IsEmpty);
        }
        Assert.True(sent >= 2, "the ClientHello should have been retransmitted");
        Assert.Equal(DtlsSessionState.Failed, client.State);
    }

    [Fact]
    public async Task Time_waiting_for_a_scheduler_slot_counts_toward_the_handshake_timeout()
    {
        using var scheduler = new DtlsHandshakeScheduler(1);
        var slow = new DtlsSessionOptions { HandshakeTimeout = TimeSpan.FromSeconds(3) };
        var quick = new DtlsSessionOptions { HandshakeTimeout = TimeSpan.FromSeconds(1) };
        using var blocker = new DtlsSession(DtlsRole.Server, DtlsTestPair.ServerCertificate,
            DtlsTestPair.ClientCertificate.Fingerprint, _ => { }, scheduler, slow);
        using var queued = new DtlsSession(DtlsRole.Server, DtlsTestPair.ServerCertificate,
            DtlsTestPair.ClientCertificate.Fingerprint, _ => { }, scheduler, quick);

        var first = blocker.Start();
        var second = queued.Start();
        var results = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(DtlsFailureReason.Timeout, results[0].FailureReason);
        Assert.Equal(DtlsFailureReason.Timeout, results[1].FailureReason);
        Assert.Contains("did not start", results[1].FailureMessage);
        Assert.Equal(1, scheduler.PeakConcurrentHandshakes);
    }

    [Fact]
    public async Task Fifty_handshakes_complete_through_a_scheduler_limited_to_four()
    {
        using var serverScheduler = new DtlsHandshakeScheduler(4);
        // The clients stand for 50 independent remote browsers.
        using var clientScheduler = new DtlsHandshakeScheduler(50);
        var options = new DtlsSessionOptions { HandshakeTimeout = TimeSpan.FromSeconds(120) };
        var pairs = Enumerable.Range(0, 50)
            .Select(_ => new DtlsTestPair(options, options, clientScheduler, serverScheduler))
            .ToList();
        try
        {
            var tasks = pairs.Select(p => p.RunAsync(timeoutSeconds: 300)).ToList();
            Assert.True(serverScheduler.PendingHandshakes + serverScheduler.ActiveHandshakes > 0);
            var results = await Task.WhenAll(tasks);

            Assert.All(results, r =>
            {
                Assert.True(r.Client.Success, r.Client.ToString());
                Assert.True(r.Server.Success, r.Server.ToString());
                Assert.True(r.Client.KeyingMaterial.SequenceEqual(r.Server.KeyingMaterial));
            });
            Assert.InRange(serverScheduler.PeakConcurrentHandshakes, 1, 4);
            Assert.InRange(serverScheduler.WorkerThreads, 0, 4);
            Assert.Equal(0, serverScheduler.ActiveHandshakes);
            // Every session's key material is unique.
            Assert.Equal(50, results.Select(r => Convert.ToHexString(r.Client.KeyingMaterial)).Distinct().Count());
            Assert.All(pairs, p => Assert.InRange(p.MaxDatagramSize, 1, 1200));
        }
        finally
        {
            pairs.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public async Task Small_mtu_fragments_handshake_messages()
    {
        var options = new DtlsSessionOptions { Mtu = 300 };
        using var pair = new DtlsTestPair(options, options, s_scheduler, s_scheduler);
        var (client, server) = await pair.RunAsync();

        Assert.True(client.Success && server.Success, client + " / " + server);
        Assert.InRange(pair.MaxDatagramSize, 1, 300);
        Assert.True(pair.HandshakeFragmentCount > 0, "the certificate messages should have been fragmented");
    }

    [Fact]
    public async Task Close_before_handshake_completes_fails_it_with_closed()
    {
        using var session = new DtlsSession(DtlsRole.Server, DtlsTestPair.ServerCertificate,
            DtlsTestPair.ClientCertificate.Fingerprint, _ => { }, s_scheduler);
        var task = session.Start();
        session.Close();
        var result = await task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(result.Success);
        Assert.Equal(DtlsFailureReason.Closed, result.FailureReason);
    }

    [Fact]
    public async Task Start_after_close_reports_closed()
    {
        var session = new DtlsSession(DtlsRole.Client, DtlsTestPair.ClientCertificate,
            DtlsTestPair.ServerCertificate.Fingerprint, _ => { }, s_scheduler);
        session.Close();
        var result = await session.Start().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(DtlsFailureReason.Closed, result.FailureReason);
        Assert.Equal(DtlsSessionState.Failed, session.State);
    }

    [Fact]
    public async Task No_common_srtp_profile_fails_both_sides()
    {
        var clientOptions = new DtlsSessionOptions
        {
            SrtpProfiles = [SrtpProtectionProfiles.AesCm128HmacSha1_32],
            HandshakeTimeout = TimeSpan.FromSeconds(5),
        };
        var serverOptions = new DtlsSessionOptions
        {
            SrtpProfiles = [SrtpProtectionProfiles.AeadAes128Gcm],
            HandshakeTimeout = TimeSpan.FromSeconds(5),
        };
        using var pair = new DtlsTestPair(clientOptions, serverOptions, s_scheduler, s_scheduler);
        var (client, server) = await pair.RunAsync();
        Assert.Equal(DtlsFailureReason.NoSrtpProfile, server.FailureReason);
        Assert.False(client.Success);
    }
}
