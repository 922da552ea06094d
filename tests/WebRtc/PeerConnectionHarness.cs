using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>Records what a <see cref="PeerConnection"/> reports (all calls arrive on the test's owner loop).</summary>
public sealed class RecordingHandler : IPeerConnectionHandler
{
    public List<IPacketPath> SelectedPaths { get; } = [];

    public int ConnectedCount { get; private set; }

    public List<byte[]> Rtp { get; } = [];

    public List<byte[]> Rtcp { get; } = [];

    public List<string> Closed { get; } = [];

    /// <summary>Runs inside <see cref="OnRtp"/> (e.g. to check the buffer contract).</summary>
    public Action<PeerConnection, byte[]>? OnRtpReceived { get; set; }

    public void OnPathSelected(PeerConnection connection, IPacketPath path) => SelectedPaths.Add(path);

    public void OnConnected(PeerConnection connection) => ConnectedCount++;

    public void OnRtp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now)
    {
        var packet = buffer[..length].ToArray();
        Rtp.Add(packet);
        OnRtpReceived?.Invoke(connection, packet);
    }

    public void OnRtcp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now) => Rtcp.Add(buffer[..length].ToArray());

    public void OnClosed(PeerConnection connection, string reason) => Closed.Add(reason);
}

/// <summary>
/// A server (ICE-lite, DTLS server) and a client (ICE controlling, DTLS client) <see cref="PeerConnection"/> joined by a
/// <see cref="VirtualNetwork"/>. The test thread is the owner loop of both: <see cref="Step"/> runs dispatched actions,
/// delivers datagrams, fires due timeouts and advances a <see cref="FakeTimeProvider"/> whose elapsed time is the
/// <c>now</c> given to the cores. Only the DTLS handshake runs on real threads (BouncyCastle), so waits that include it
/// are bounded in real time.
/// </summary>
public sealed class PeerConnectionHarness : IDisposable
{
    public static readonly TimeSpan RealTimeLimit = TimeSpan.FromSeconds(20);

    private const int BufferSize = 2048;

    private readonly ConcurrentQueue<Action> _dispatched = new();
    private readonly DtlsHandshakeScheduler _scheduler = new(2);
    private readonly long _origin;

    public PeerConnectionHarness(int seed, DtlsFingerprint? serverExpectsFingerprint = null, DtlsSessionOptions? dtls = null,
        bool serverIsDtlsClient = false)
    {
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _origin = Time.GetTimestamp();
        Network = new VirtualNetwork(seed);
        ServerCertificate = DtlsCertificate.Generate("server");
        ClientCertificate = DtlsCertificate.Generate("client");
        ServerCredentials = IceCredentials.Generate();
        ClientCredentials = IceCredentials.Generate();
        dtls ??= new DtlsSessionOptions
        {
            InitialRetransmitTimeout = TimeSpan.FromMilliseconds(200),
            HandshakeTimeout = TimeSpan.FromSeconds(18),
        };

        Server = PeerConnection.CreateIceLite(ServerCredentials, ClientCredentials,
            serverExpectsFingerprint ?? ClientCertificate.Fingerprint, serverIsDtlsClient ? DtlsRole.Client : DtlsRole.Server,
            new PeerConnectionOptions { Certificate = ServerCertificate, HandshakeScheduler = _scheduler, Dtls = dtls },
            ServerEvents, _dispatched.Enqueue);

        var serverCandidate = new IceCandidate
        {
            Foundation = "1",
            Address = Network.Server.EndPoint.Address.ToString(),
            Port = Network.Server.EndPoint.Port,
            Priority = IceCandidate.ComputePriority(IceCandidateType.Host, 65535),
        };
        Client = PeerConnection.CreateControlling(ClientCredentials, ServerCredentials, [serverCandidate],
            ServerCertificate.Fingerprint, serverIsDtlsClient ? DtlsRole.Server : DtlsRole.Client,
            new PeerConnectionOptions { Certificate = ClientCertificate, HandshakeScheduler = _scheduler, Dtls = dtls },
            ClientEvents, _dispatched.Enqueue,
            remote => remote.Equals(Network.Server.Address) ? Network.ClientToServer : null,
            new IceControllingOptions { Random = new Random(seed) });
    }

    public FakeTimeProvider Time { get; }

    public TimeSpan Now => Time.GetElapsedTime(_origin);

    public VirtualNetwork Network { get; }

    public DtlsCertificate ServerCertificate { get; }

    public DtlsCertificate ClientCertificate { get; }

    public IceCredentials ServerCredentials { get; }

    public IceCredentials ClientCredentials { get; }

    public RecordingHandler ServerEvents { get; } = new();

    public RecordingHandler ClientEvents { get; } = new();

    public PeerConnection Server { get; }

    public PeerConnection Client { get; }

    /// <summary>Called for every datagram delivered, before the peer sees it (for asserting per-state injection).</summary>
    public Action<PeerConnection>? BeforeDelivery { get; set; }

    public bool BothConnected => Server.State == PeerConnectionState.Connected && Client.State == PeerConnectionState.Connected;

    public void Start() => Client.Start(Now);

    /// <summary>One round of the owner loop, then fake time moves by <paramref name="advance"/>.</summary>
    public void Step(TimeSpan advance)
    {
        RunDispatched();
        Deliver(Network.Server, Server, Network.ServerToClient);
        Deliver(Network.Client, Client, Network.ClientToServer);
        RunDispatched();
        FireTimeouts();
        Time.Advance(advance);
    }

    public void RunDispatched()
    {
        while (_dispatched.TryDequeue(out var action)) action();
    }

    private void FireTimeouts()
    {
        var now = Now;
        if (Server.NextTimeout is { } serverDue && serverDue <= now) Server.HandleTimeout(now);
        if (Client.NextTimeout is { } clientDue && clientDue <= now) Client.HandleTimeout(now);
    }

    private void Deliver(VirtualEndpoint endpoint, PeerConnection peer, VirtualPath pathBack)
    {
        foreach (var datagram in Network.TakeInbox(endpoint))
        {
            BeforeDelivery?.Invoke(peer);
            var buffer = new byte[BufferSize];
            datagram.CopyTo(buffer, 0);
            peer.HandleDatagram(buffer, datagram.Length, pathBack, Now);
        }
    }

    /// <summary>Pumps (fake time +<paramref name="fakeStep"/> and a short real sleep per round) until
    /// <paramref name="condition"/> holds or <see cref="RealTimeLimit"/> passes. Returns the condition.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan? fakeStep = null, TimeSpan? realLimit = null)
    {
        var step = fakeStep ?? TimeSpan.FromMilliseconds(5);
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (realLimit ?? RealTimeLimit)) return false;
            Step(step);
            Thread.Sleep(1);
        }
        return true;
    }

    /// <summary>Advances fake time by <paramref name="duration"/> in steps of <paramref name="step"/>, pumping each
    /// round (no real sleeping: nothing in flight needs real threads).</summary>
    public void Advance(TimeSpan duration, TimeSpan step)
    {
        var end = Now + duration;
        while (Now < end) Step(step);
        RunDispatched();
    }

    /// <summary>Pumps without moving fake time until both inboxes are empty and nothing is dispatched (a few rounds).</summary>
    public void Settle(int rounds = 5)
    {
        for (var i = 0; i < rounds; i++) Step(TimeSpan.Zero);
    }

    public bool ConnectBoth() => RunUntil(() => BothConnected
        || Server.State is PeerConnectionState.Failed or PeerConnectionState.Closed
        || Client.State is PeerConnectionState.Failed or PeerConnectionState.Closed) && BothConnected;

    public void Dispose()
    {
        Server.Dispose();
        Client.Dispose();
        RunDispatched();
        _scheduler.Dispose();
    }
}
