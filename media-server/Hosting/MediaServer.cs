using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.Stun;

namespace TeleRehab.Media.Hosting;

/// <summary>The media plane's edge: one UDP socket and one ICE-TCP listener shared by every peer, a fixed set of
/// worker loops, and the two-level demultiplexer (RFC 7983 first byte, then the remote address, then the STUN
/// USERNAME's ufrag for an address not seen before). Peers are sans-I/O state machines run by the workers.</summary>
public sealed class MediaServer : IAsyncDisposable
{
    private const int ReceiveBufferSize = 2048;
    private static readonly TimeSpan TcpFirstFrameTimeout = TimeSpan.FromSeconds(10);

    private readonly MediaServerOptions _options;
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly ConcurrentDictionary<string, IMediaPeer> _byUfrag = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IMediaPeer>.AlternateLookup<ReadOnlySpan<char>> _byUfragSpan;
    private readonly ConcurrentDictionary<SocketAddress, Route> _byAddress = new();
    private readonly ConcurrentDictionary<IMediaPeer, PeerEntry> _peers = new();
    private readonly CancellationTokenSource _stopping = new();
    private MediaWorker[] _workers = [];
    private Socket? _udp;
    private Socket? _tcp;
    private Task _udpLoop = Task.CompletedTask;
    private Task _tcpLoop = Task.CompletedTask;
    private long _droppedDatagrams;
    private int _disposed;

    public MediaServer(MediaServerOptions options, TimeProvider? time = null)
    {
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _origin = _time.GetTimestamp();
        _byUfragSpan = _byUfrag.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>True once the sockets are bound and the workers run.</summary>
    public bool IsReady { get; private set; }

    public int UdpPort { get; private set; }

    public int? TcpPort { get; private set; }

    public int PeerCount => _peers.Count;

    /// <summary>Datagrams that matched no peer (unknown address and no known ufrag) or were not demultiplexable.</summary>
    public long DroppedDatagrams => Interlocked.Read(ref _droppedDatagrams);

    public MediaServerOptions Options => _options;

    /// <summary>The sum of every worker's counters now.</summary>
    public MediaTotals Totals()
    {
        var totals = new MediaTotals();
        foreach (var worker in _workers) worker.Counters.AddTo(totals);
        return totals;
    }

    /// <summary>Receives a sample of forwarding delays (receive to send, one packet in 16), e.g. a metrics histogram.
    /// Called on worker threads: must be thread-safe and cheap.</summary>
    public Action<TimeSpan>? ForwardingDelayObserver { get; set; }

    /// <summary>The monotonic clock every core runs on.</summary>
    public TimeSpan Now => _time.GetElapsedTime(_origin);

    public TimeProvider Time => _time;

    public void Start()
    {
        if (IsReady) throw new InvalidOperationException("The media server is already started.");
        var listen = _options.ParseListenAddress();

        _udp = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _udp.ReceiveBufferSize = 4 * 1024 * 1024;
        _udp.SendBufferSize = 4 * 1024 * 1024;
        _udp.Bind(new IPEndPoint(listen, _options.UdpPort));
        UdpPort = ((IPEndPoint)_udp.LocalEndPoint!).Port;

        if (_options.TcpPort >= 0)
        {
            _tcp = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            _tcp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _tcp.Bind(new IPEndPoint(listen, _options.TcpPort));
            _tcp.Listen(512);
            TcpPort = ((IPEndPoint)_tcp.LocalEndPoint!).Port;
        }

        var count = _options.Workers > 0 ? _options.Workers : Environment.ProcessorCount;
        _workers = new MediaWorker[count];
        for (var i = 0; i < count; i++)
        {
            _workers[i] = new MediaWorker(i, _time, _origin, Unregister);
            _workers[i].Start();
        }

        _udpLoop = Task.Factory.StartNew(() => UdpReceiveLoop(_stopping.Token), TaskCreationOptions.LongRunning);
        if (_tcp is not null) _tcpLoop = Task.Run(() => TcpAcceptLoopAsync(_stopping.Token));
        IsReady = true;
    }

    /// <summary>The addresses announced in candidates: the configured one, or every up IPv4 interface address.</summary>
    public IReadOnlyList<IPAddress> AnnouncedAddresses()
    {
        if (!string.IsNullOrEmpty(_options.AnnouncedAddress)) return [IPAddress.Parse(_options.AnnouncedAddress)];
        var listen = _options.ParseListenAddress();
        if (!listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any)) return [listen];

        var addresses = new List<IPAddress>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up) continue;
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !addresses.Contains(unicast.Address))
                    addresses.Add(unicast.Address);
            }
        }
        // Real interfaces first, loopback last: a browser on the same machine still finds it.
        addresses.Sort((a, b) => IPAddress.IsLoopback(a).CompareTo(IPAddress.IsLoopback(b)));
        return addresses.Count > 0 ? addresses : [IPAddress.Loopback];
    }

    /// <summary>The server's ICE candidates (host UDP, then ICE-TCP passive) for SDP.</summary>
    public IReadOnlyList<IceCandidate> LocalCandidates(bool udp = true, bool tcp = true)
    {
        var list = new List<IceCandidate>();
        var foundation = 1;
        var addresses = AnnouncedAddresses();
        for (var i = 0; i < addresses.Count; i++)
        {
            var address = addresses[i].ToString();
            if (udp)
            {
                list.Add(new IceCandidate
                {
                    Foundation = (foundation++).ToString(), Transport = IceTransport.Udp, Address = address, Port = UdpPort,
                    Priority = IceCandidate.ComputePriority(IceCandidateType.Host, 65535 - i),
                });
            }
            if (tcp && TcpPort is { } tcpPort)
            {
                // RFC 6544 §4.2: passive TCP host candidates rank below UDP, so browsers use TCP only when UDP fails.
                list.Add(new IceCandidate
                {
                    Foundation = (foundation++).ToString(), Transport = IceTransport.Tcp, Address = address, Port = tcpPort,
                    TcpType = IceTcpType.Passive,
                    Priority = IceCandidate.ComputePriority(IceCandidateType.Host, IceCandidate.TcpLocalPreference(IceCandidateType.Host, IceTcpType.Passive, 8191 - i)),
                });
            }
        }
        return list;
    }

    /// <summary>The least loaded worker: where a new room (or a lone peer) goes.</summary>
    public MediaWorker PickWorker()
    {
        if (!IsReady) throw new InvalidOperationException("The media server is not started.");
        var worker = _workers[0];
        foreach (var candidate in _workers)
        {
            if (candidate.PeerCount < worker.PeerCount) worker = candidate;
        }
        return worker;
    }

    /// <summary>Adds a peer: it becomes reachable by its ufrag and is owned by <paramref name="worker"/> (the worker of
    /// its room), or by the least loaded worker.</summary>
    public MediaWorker Register(IMediaPeer peer, MediaWorker? worker = null)
    {
        worker ??= PickWorker();
        if (!_byUfrag.TryAdd(peer.LocalUfrag, peer)) throw new InvalidOperationException("ICE ufrag collision.");
        _peers[peer] = new PeerEntry(worker);
        worker.Attach(peer);
        return worker;
    }

    /// <summary>Called by a peer (on its worker) once ICE has validated <paramref name="path"/>: packets from that
    /// address then go straight to the peer without a STUN lookup.</summary>
    public void BindPath(IMediaPeer peer, IPacketPath path)
    {
        if (path is not UdpPacketPath udp || !_peers.TryGetValue(peer, out var entry)) return;
        var route = new Route(peer, entry.Worker, udp);
        _byAddress[udp.Address] = route;
        lock (entry.Addresses) entry.Addresses.Add(udp.Address);
    }

    /// <summary>Closes a peer from any thread; its worker retires it.</summary>
    public void Close(IMediaPeer peer, string reason)
    {
        if (_peers.TryGetValue(peer, out var entry)) entry.Worker.PostFor(peer, () => peer.Close(reason));
    }

    private void Unregister(IMediaPeer peer)
    {
        _byUfrag.TryRemove(new KeyValuePair<string, IMediaPeer>(peer.LocalUfrag, peer));
        if (_peers.TryRemove(peer, out var entry))
        {
            lock (entry.Addresses)
            {
                foreach (var address in entry.Addresses)
                {
                    if (_byAddress.TryGetValue(address, out var route) && ReferenceEquals(route.Peer, peer))
                        _byAddress.TryRemove(address, out _);
                }
            }
            foreach (var path in entry.TcpPaths) path.Dispose();
        }
    }

    /// <summary>
    /// The one UDP receive loop, on a thread of its own (blocking receives, not thread-pool continuations): each
    /// datagram is stamped the moment the kernel hands it over (<see cref="MediaWorker.PostDatagram"/>), before any
    /// queue, so transport-wide feedback reports arrival times without the scheduling jitter of a busy thread pool.
    /// </summary>
    private void UdpReceiveLoop(CancellationToken cancel)
    {
        var socket = _udp!;
        var from = new SocketAddress(socket.AddressFamily);
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        while (!cancel.IsCancellationRequested)
        {
            int length;
            try
            {
                length = socket.ReceiveFrom(buffer.AsSpan(0, ReceiveBufferSize), SocketFlags.None, from);
            }
            catch (ObjectDisposedException) { break; }
            catch (SocketException) when (!cancel.IsCancellationRequested) { continue; } // e.g. ICMP port unreachable from a peer that left
            catch (SocketException) { break; }

            if (_byAddress.TryGetValue(from, out var route))
            {
                // Zero copy: the worker takes this buffer; the loop rents the next one.
                route.Worker.PostDatagram(route.Peer, buffer, length, route.Path);
                buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                continue;
            }

            if (TryRouteNewAddress(buffer.AsSpan(0, length), out var peer, out var worker))
            {
                worker.PostDatagram(peer, buffer, length, new UdpPacketPath(socket, from));
                buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                continue;
            }
            Interlocked.Increment(ref _droppedDatagrams);
        }
        ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>An address not seen before is accepted only with a STUN request whose USERNAME names a known peer
    /// (RFC 8445 §7.3: the peer's ICE agent then checks MESSAGE-INTEGRITY before it binds the address).</summary>
    private bool TryRouteNewAddress(ReadOnlySpan<byte> datagram, out IMediaPeer peer, out MediaWorker worker)
    {
        peer = null!;
        worker = null!;
        if (PacketClassifier.Classify(datagram) != PacketKind.Stun) return false;
        if (!StunMessage.TryGetLocalUfrag(datagram, out var ufragBytes) || ufragBytes.Length > 256) return false;
        Span<char> ufrag = stackalloc char[ufragBytes.Length];
        for (var i = 0; i < ufragBytes.Length; i++)
        {
            if (ufragBytes[i] > 0x7f) return false; // ice-char is ASCII (RFC 8839 §5.4)
            ufrag[i] = (char)ufragBytes[i];
        }
        if (!_byUfragSpan.TryGetValue(ufrag, out var found) || !_peers.TryGetValue(found, out var entry)) return false;
        peer = found;
        worker = entry.Worker;
        return true;
    }

    private async Task TcpAcceptLoopAsync(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp!.AcceptAsync(cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { break; }
            catch (ObjectDisposedException) { break; }
            catch (SocketException) { continue; }
            client.NoDelay = true;
            _ = Task.Run(() => TcpConnectionLoopAsync(client, cancel));
        }
    }

    /// <summary>One ICE-TCP connection: RFC 4571 frames; the first must be a STUN request naming a known peer,
    /// every later frame belongs to that peer. Anything else closes the connection.</summary>
    private async Task TcpConnectionLoopAsync(Socket client, CancellationToken cancel)
    {
        var path = new TcpPacketPath(client);
        var deframer = new Rfc4571Deframer(ReceiveBufferSize);
        var readBuffer = new byte[8192];
        IMediaPeer? peer = null;
        MediaWorker? worker = null;
        // A connection must name its peer (first frame: a STUN request with a known ufrag) soon, or it is closed:
        // idle or half-open connections must not pile up.
        using var firstFrame = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        firstFrame.CancelAfter(TcpFirstFrameTimeout);
        try
        {
            while (!cancel.IsCancellationRequested && !path.IsClosed)
            {
                var read = await client.ReceiveAsync(readBuffer.AsMemory(), SocketFlags.None, peer is null ? firstFrame.Token : cancel).ConfigureAwait(false);
                if (read == 0) break;
                if (!DispatchFrames(readBuffer.AsSpan(0, read), deframer, path, ref peer, ref worker)) break;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            path.Dispose();
        }
    }

    /// <summary>Hands every complete frame in <paramref name="input"/> to the connection's peer. False closes the
    /// connection: a lost frame sync (oversize or unknown frame) or a first frame that names no known peer.</summary>
    private bool DispatchFrames(ReadOnlySpan<byte> input, Rfc4571Deframer deframer, TcpPacketPath path, ref IMediaPeer? peer, ref MediaWorker? worker)
    {
        while (deframer.TryReadFrame(ref input, out var frame))
        {
            if (peer is null)
            {
                if (!TryRouteNewAddress(frame, out var found, out var owner)) return false;
                if (!_peers.TryGetValue(found, out var entry)) return false;
                entry.TcpPaths.Add(path);
                peer = found;
                worker = owner;
            }
            var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
            frame.CopyTo(buffer);
            worker!.PostDatagram(peer, buffer, frame.Length, path);
        }
        return !deframer.IsFaulted;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        IsReady = false;
        _stopping.Cancel();
        _udp?.Dispose();
        _tcp?.Dispose();
        try { await Task.WhenAll(_udpLoop, _tcpLoop).ConfigureAwait(false); } catch (OperationCanceledException) { }
        foreach (var worker in _workers) worker.Dispose();
        _stopping.Dispose();
    }

    private sealed record Route(IMediaPeer Peer, MediaWorker Worker, UdpPacketPath Path);

    private sealed class PeerEntry(MediaWorker worker)
    {
        public MediaWorker Worker { get; } = worker;
        public List<SocketAddress> Addresses { get; } = [];
        public ConcurrentBag<TcpPacketPath> TcpPaths { get; } = [];
    }
}
