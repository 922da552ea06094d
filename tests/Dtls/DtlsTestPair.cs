using System.Threading.Channels;
using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.Tests.Dtls;

/// <summary>In-memory wiring of a client and a server session, optionally through a lossy shim.</summary>
internal sealed class DtlsTestPair : IDisposable
{
    private static readonly Lazy<DtlsCertificate> s_clientCert = new(() => DtlsCertificate.Generate("client"));
    private static readonly Lazy<DtlsCertificate> s_serverCert = new(() => DtlsCertificate.Generate("server"));

    public static DtlsCertificate ClientCertificate => s_clientCert.Value;
    public static DtlsCertificate ServerCertificate => s_serverCert.Value;

    private int _clientToServerCount;
    private int _serverToClientCount;
    private int _maxDatagram;
    private int _fragments;
    private int _maxRecords;

    /// <summary>Return true to drop the n-th (0-based) datagram of a direction.</summary>
    public Func<int, ReadOnlyMemory<byte>, bool> DropClientToServer { get; set; } = (_, _) => false;
    public Func<int, ReadOnlyMemory<byte>, bool> DropServerToClient { get; set; } = (_, _) => false;

    /// <summary>
    /// Rewrites what a direction carries: given one datagram, returns the datagrams to deliver now (none, the same,
    /// its records split or reordered, or ones held earlier). Called on the sending thread; must be thread-safe.
    /// </summary>
    public Func<byte[], IReadOnlyList<byte[]>>? ClientToServerLink { get; set; }
    public Func<byte[], IReadOnlyList<byte[]>>? ServerToClientLink { get; set; }

    // With a link set, datagrams are delivered by one task per direction, in order, as a network would: a sender
    // never calls into the other session while holding its own locks (which could deadlock two connected sessions).
    private readonly Channel<byte[]> _toServer = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<byte[]> _toClient = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });

    public DtlsSession Client { get; }
    public DtlsSession Server { get; }

    public int MaxDatagramSize => Volatile.Read(ref _maxDatagram);
    /// <summary>Plaintext (epoch 0) handshake records carrying a partial message (RFC 6347 §4.2.3).</summary>
    public int HandshakeFragmentCount => Volatile.Read(ref _fragments);
    /// <summary>Most DTLS records seen in one datagram sent by either side.</summary>
    public int MaxRecordsPerDatagram => Volatile.Read(ref _maxRecords);
    public int ClientToServerCount => Volatile.Read(ref _clientToServerCount);
    public int ServerToClientCount => Volatile.Read(ref _serverToClientCount);

    public DtlsTestPair(
        DtlsSessionOptions? clientOptions = null,
        DtlsSessionOptions? serverOptions = null,
        DtlsHandshakeScheduler? clientScheduler = null,
        DtlsHandshakeScheduler? serverScheduler = null,
        DtlsFingerprint? clientExpects = null,
        DtlsFingerprint? serverExpects = null,
        bool clientDefersEarlyData = false)
    {
        Client = new DtlsSession(DtlsRole.Client, ClientCertificate, clientExpects ?? ServerCertificate.Fingerprint,
            d => Forward(d, ref _clientToServerCount, DropClientToServer, ClientToServerLink, _toServer, () => Server!),
            clientScheduler, clientOptions)
        {
            DeferEarlyApplicationData = clientDefersEarlyData,
        };
        Server = new DtlsSession(DtlsRole.Server, ServerCertificate, serverExpects ?? ClientCertificate.Fingerprint,
            d => Forward(d, ref _serverToClientCount, DropServerToClient, ServerToClientLink, _toClient, () => Client),
            serverScheduler, serverOptions);
        _ = DeliverAsync(_toServer.Reader, Server);
        _ = DeliverAsync(_toClient.Reader, Client);
    }

    private static async Task DeliverAsync(ChannelReader<byte[]> reader, DtlsSession target)
    {
        await foreach (var datagram in reader.ReadAllAsync())
            target.HandleDatagram(datagram);
    }

    private void Forward(ReadOnlySpan<byte> datagram, ref int counter, Func<int, ReadOnlyMemory<byte>, bool> drop,
        Func<byte[], IReadOnlyList<byte[]>>? link, Channel<byte[]> channel, Func<DtlsSession> target)
    {
        int n = Interlocked.Increment(ref counter) - 1;
        int size = datagram.Length;
        int current;
        while (size > (current = Volatile.Read(ref _maxDatagram)))
            Interlocked.CompareExchange(ref _maxDatagram, size, current);
        Assert.True(DtlsSession.IsDtlsPacket(datagram));
        // record header (13) + handshake header: type(1) length(3) seq(2) fragment_offset(3) fragment_length(3)
        if (datagram.Length >= 25 && datagram[0] == 22 && datagram[3] == 0 && datagram[4] == 0)
        {
            int length = (datagram[14] << 16) | (datagram[15] << 8) | datagram[16];
            int fragmentLength = (datagram[22] << 16) | (datagram[23] << 8) | datagram[24];
            if (fragmentLength < length)
                Interlocked.Increment(ref _fragments);
        }
        var records = DtlsRecordView.Split(datagram.ToArray()).Count;
        int most;
        while (records > (most = Volatile.Read(ref _maxRecords)))
            Interlocked.CompareExchange(ref _maxRecords, records, most);
        if (drop(n, datagram.ToArray()))
            return;
        if (link is null)
        {
            target().HandleDatagram(datagram);
            return;
        }
        foreach (var delivered in link(datagram.ToArray()))
            channel.Writer.TryWrite(delivered);
    }

    public async Task<(DtlsHandshakeResult Client, DtlsHandshakeResult Server)> RunAsync(int timeoutSeconds = 60)
    {
        var server = Server.Start();
        var client = Client.Start();
        var results = await Task.WhenAll(client, server).WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));
        return (results[0], results[1]);
    }

    public void Dispose()
    {
        _toServer.Writer.TryComplete();
        _toClient.Writer.TryComplete();
        Client.Dispose();
        Server.Dispose();
    }
}
