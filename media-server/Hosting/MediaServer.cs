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
    private const int ReceiveBufferSize = DatagramBuffers.Size;
    /// <summary>How long the accept loop pauses when the process is out of file descriptors (EMFILE/ENFILE).</summary>
    private static readonly TimeSpan AcceptBackoff = TimeSpan.FromMilliseconds(100);

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

    // ICE-TCP: every open connection (for the timeout sweep), the caps and what they did.
    private readonly ConcurrentDictionary<TcpConnection, byte> _tcpConnections = new();
    private readonly PerAddressLimiter _tcpPerAddress;
    private readonly TimeSpan _tcpAuthTimeout;
    private readonly TimeSpan _tcpIdleTimeout;
    private ITimer? _tcpSweep;
    private int _tcpOpen;
    private long _tcpRefused;
    private long _tcpTimedOut;
    private long _tcpUnauthenticated;

    public MediaServer(MediaServerOptions options, TimeProvider? time = null)
    {
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _origin = _time.GetTimestamp();
        _byUfragSpan = _byUfrag.GetAlternateLookup<ReadOnlySpan<char>>();
        _tcpPerAddress = new PerAddressLimiter(options.IceTcpMaxConnectionsPerAddress);
        _tcpAuthTimeout = TimeSpan.FromSeconds(options.IceTcpAuthTimeoutSeconds);
        _tcpIdleTimeout = TimeSpan.FromSeconds(options.IceTcpIdleTimeoutSeconds);
    }

    /// <summary>The process-wide connection budget every accepted ICE-TCP connection takes a slot of (released when it
    /// closes), shared with the web host's connections; null (the default) means no process budget, only this
    /// server's own caps. Set before <see cref="Start"/>.</summary>
    public ConnectionBudget? ConnectionBudget { get; init; }

    /// <summary>ICE-TCP connections open now (authenticated or not).</summary>
    public int IceTcpConnections => Volatile.Read(ref _tcpOpen);

    /// <summary>ICE-TCP connections closed on accept: over <see cref="MediaServerOptions.IceTcpMaxConnections"/>,
    /// <see cref="MediaServerOptions.IceTcpMaxConnectionsPerAddress"/> or the <see cref="ConnectionBudget"/>.</summary>
    public long IceTcpRefused => Interlocked.Read(ref _tcpRefused);

    /// <summary>ICE-TCP connections closed for not authenticating in time or for staying silent too long.</summary>
    public long IceTcpTimedOut => Interlocked.Read(ref _tcpTimedOut);

    /// <summary>ICE-TCP connections closed before authenticating: a first frame that is not a STUN check with valid
    /// MESSAGE-INTEGRITY and FINGERPRINT for a live peer.</summary>
    public long IceTcpUnauthenticated => Interlocked.Read(ref _tcpUnauthenticated);

    /// <summary>True once the sockets are bound and the workers run.</summary>
    public bool IsReady { get; private set; }

    public int UdpPort { get; private set; }

    public int? TcpPort { get; private set; }

    public int PeerCount => _peers.Count;

    /// <summary>Datagrams that matched no peer (unknown address and no known ufrag) or were not demultiplexable.</summary>
    public long DroppedDatagrams => Interlocked.Read(ref _droppedDatagrams);

    /// <summary>UDP datagrams whose arrival time is the kernel's receive time (0 where the platform has none).</summary>
    public long KernelStampedDatagrams => Volatile.Read(ref _receiver)?.KernelStamped ?? 0;

    /// <summary>True once the UDP receive loop reads each datagram's destination address, so replies leave from the
    /// address the peer sent to (<see cref="UdpPacketPath"/>); false where the platform cannot (the kernel then picks
    /// the source, which is right only when the socket is bound to one address).</summary>
    public bool RepliesFromDestinationAddress => Volatile.Read(ref _receiver)?.PacketInfo ?? false;

    private UdpBatchReceiver? _receiver;

    /// <summary>Peer timers run by every worker (see <see cref="MediaWorker.TimerRuns"/>).</summary>
    public long TimerRuns => _workers.Sum(worker => worker.TimerRuns);

    /// <summary>Timer runs that left a peer's deadline in the past (see <see cref="MediaWorker.StaleDeadlines"/>).</summary>
    public long StaleDeadlines => _workers.Sum(worker => worker.StaleDeadlines);

    public MediaServerOptions Options => _options;

    /// <summary>Data channel counters of every peer on this server (messages, drops by reason, refused channels).</summary>
    public WebRtc.DataChannelStats DataChannels { get; } = new();

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
        if (_tcp is not null)
        {
            // One sweep for every connection's deadline: no timer per connection.
            var sweep = TimeSpan.FromTicks(Math.Clamp(Math.Min(_tcpAuthTimeout.Ticks, _tcpIdleTimeout.Ticks) / 4,
                TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
            _tcpSweep = _time.CreateTimer(_ => SweepTcpConnections(), null, sweep, sweep);
            _tcpLoop = Task.Run(() => TcpAcceptLoopAsync(_stopping.Token));
        }
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
        var ufrag = peer.LocalUfrag;
        if (!_byUfrag.TryAdd(ufrag, peer)) throw new InvalidOperationException("ICE ufrag collision.");
        var entry = new PeerEntry(worker);
        entry.Ufrags.Add(ufrag);
        _peers[peer] = entry;
        worker.Attach(peer);
        return worker;
    }

    /// <summary>Makes a registered peer reachable by one more ufrag: the new local credentials of an ICE restart (RFC
    /// 8445 §9), while its old ufrag stays until <see cref="RemoveUfrag"/> (the peer's checks come with either until it
    /// has the answer). False when the ufrag is taken or the peer is not registered (or was retired meanwhile); every
    /// ufrag added goes when the peer is unregistered.</summary>
    public bool AddUfrag(IMediaPeer peer, string ufrag)
    {
        ArgumentNullException.ThrowIfNull(ufrag);
        if (!_peers.TryGetValue(peer, out var entry)) return false;
        lock (entry.Ufrags)
        {
            if (entry.Unregistered || !_byUfrag.TryAdd(ufrag, peer)) return false;
            entry.Ufrags.Add(ufrag);
            return true;
        }
    }

    /// <summary>Forgets one of a peer's ufrags (the local credentials an ICE restart retired): a new address that checks
    /// with it is then dropped like any unknown ufrag. A ufrag of another peer is left alone.</summary>
    public void RemoveUfrag(IMediaPeer peer, string ufrag)
    {
        if (!_peers.TryGetValue(peer, out var entry)) return;
        lock (entry.Ufrags)
        {
            if (entry.Ufrags.Remove(ufrag)) _byUfrag.TryRemove(new KeyValuePair<string, IMediaPeer>(ufrag, peer));
        }
    }

    /// <summary>The ufrags the demultiplexer knows now, of every peer (tests: none is left when the peers are gone).</summary>
    internal int UfragCount => _byUfrag.Count;

    /// <summary>The live peer the server gave <paramref name="localUfrag"/> (its ICE ufrag in our SDP), or null
    /// (diagnostics and tests; the packet path never looks peers up this way).</summary>
    public IMediaPeer? FindPeer(string localUfrag) => _byUfrag.GetValueOrDefault(localUfrag);

    /// <summary>Called by a peer (on its worker) once ICE has validated <paramref name="path"/>: packets from that
    /// address then go straight to the peer without a STUN lookup.</summary>
    public void BindPath(IMediaPeer peer, IPacketPath path)
    {
        if (path is not UdpPacketPath udp || !_peers.TryGetValue(peer, out var entry)) return;
        var route = new Route(peer, entry.Worker, udp);
        _byAddress[udp.Address] = route;
        lock (entry.Addresses)
        {
            if (!entry.Addresses.Contains(udp.Address)) entry.Addresses.Add(udp.Address);
        }
    }

    /// <summary>Runs <paramref name="command"/> on <paramref name="peer"/>'s worker (from any thread); false when the peer
    /// is not registered.</summary>
    public bool PostTo(IMediaPeer peer, Action command)
    {
        if (!_peers.TryGetValue(peer, out var entry)) return false;
        entry.Worker.PostFor(peer, command);
        return true;
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
            lock (entry.Ufrags)
            {
                // Every ufrag the peer had (an ICE restart adds one), and none added after this.
                entry.Unregistered = true;
                foreach (var ufrag in entry.Ufrags) _byUfrag.TryRemove(new KeyValuePair<string, IMediaPeer>(ufrag, peer));
                entry.Ufrags.Clear();
            }
            lock (entry.Addresses)
            {
                foreach (var address in entry.Addresses)
                {
                    if (_byAddress.TryGetValue(address, out var route) && ReferenceEquals(route.Peer, peer))
                        _byAddress.TryRemove(address, out _);
                }
            }
            TcpPacketPath[] paths;
            lock (entry.TcpPaths)
            {
                paths = [.. entry.TcpPaths];
                entry.TcpPaths.Clear();
            }
            foreach (var path in paths) path.Dispose();
        }
    }

    /// <summary>The ICE-TCP connections attached to <paramref name="peer"/> now (tests, diagnostics).</summary>
    internal int TcpPathCount(IMediaPeer peer)
    {
        if (!_peers.TryGetValue(peer, out var entry)) return 0;
        lock (entry.TcpPaths) return entry.TcpPaths.Count;
    }

    /// <summary>
    /// The one UDP receive loop, on a thread of its own (blocking receives, not thread-pool continuations): each
    /// datagram is stamped the moment the kernel hands it over (<see cref="MediaWorker.PostDatagram"/>), before any
    /// queue, so transport-wide feedback reports arrival times without the scheduling jitter of a busy thread pool.
    /// Where the platform allows (64-bit Linux) it takes every datagram waiting in one recvmmsg(2)
    /// (<see cref="UdpBatchReceiver"/>); elsewhere one at a time with .NET's socket.
    /// </summary>
    private void UdpReceiveLoop(CancellationToken cancel)
    {
        var socket = _udp!;
        // Each datagram's destination address where the platform reports it, and kernel arrival times where it has
        // them and the server runs on the system clock (tests with a fake clock stamp on that clock, in user space).
        var systemClock = _time == TimeProvider.System;
        using var batch = UdpBatchReceiver.TryCreate(socket, kernelTimestamps: systemClock);
        if (batch is not null)
        {
            _receiver = batch;
            BatchReceiveLoop(socket, batch, systemClock, cancel);
            return;
        }

        var from = new SocketAddress(socket.AddressFamily);
        var buffer = DatagramBuffers.Rent();
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
            // Without the batching receiver every datagram wakes its worker at once.
            if (Dispatch(socket, from, default, buffer, length, _time.GetTimestamp(), wake: true, pending: null)) buffer = DatagramBuffers.Rent();
        }
        DatagramBuffers.Return(buffer);
    }

    /// <summary>
    /// The receive loop with recvmmsg: a burst of datagrams is one system call, and each worker that got some is woken
    /// once when the burst is read (a call that returns fewer than the batch holds means the socket is drained), not
    /// once per datagram. Each datagram is copied out of the batch into a pooled buffer the worker takes.
    /// </summary>
    private void BatchReceiveLoop(Socket socket, UdpBatchReceiver batch, bool systemClock, CancellationToken cancel)
    {
        var from = new SocketAddress(socket.AddressFamily);
        // The workers given datagrams since they were last woken.
        var pending = new bool[_workers.Length];
        var buffer = DatagramBuffers.Rent();
        while (!cancel.IsCancellationRequested)
        {
            int count;
            try
            {
                count = batch.ReceiveWaiting();
                if (count == 0)
                {
                    WakePending(pending);
                    batch.WaitReadable(StopPollInterval); // then look at cancel, and read what came
                    continue;
                }
            }
            catch (ObjectDisposedException) { break; }
            catch (SocketException) when (!cancel.IsCancellationRequested) { continue; } // e.g. ICMP port unreachable from a peer that left
            catch (SocketException) { break; }

            for (var i = 0; i < count; i++)
            {
                var datagram = batch.Datagram(i);
                if (datagram.Length == 0) continue; // an empty datagram
                if (batch.IsTruncated(i))
                {
                    // Longer than any datagram a peer sends (a cut-short one would fail authentication anyway).
                    Interlocked.Increment(ref _droppedDatagrams);
                    continue;
                }
                batch.CopySource(i, from);
                datagram.CopyTo(buffer);
                var receivedAt = systemClock ? batch.ReceivedAt(i) : _time.GetTimestamp();
                if (Dispatch(socket, from, batch.Local(i), buffer, datagram.Length, receivedAt, wake: false, pending))
                    buffer = DatagramBuffers.Rent();
            }

            // A full batch may have left more waiting: the workers are woken every batch all the same, so a flood never
            // starves them; a short one drained the socket, and the loop waits for the next datagram.
            WakePending(pending);
            if (count < batch.Capacity)
            {
                try { batch.WaitReadable(StopPollInterval); }
                catch (ObjectDisposedException) { break; }
                catch (SocketException) { }
            }
        }
        WakePending(pending);
        DatagramBuffers.Return(buffer);
    }

    /// <summary>Hands a received datagram (in <paramref name="buffer"/>, pooled) to the worker of its peer. True when a
    /// worker took the buffer (the caller rents the next one); false when the datagram was dropped.</summary>
    private bool Dispatch(Socket socket, SocketAddress from, UdpLocalAddress local, byte[] buffer, int length, long receivedAt, bool wake, bool[]? pending)
    {
        var known = _byAddress.TryGetValue(from, out var route);
        if (known && route!.Path.Local == local)
        {
            // Zero copy: the worker takes this buffer; the loop rents the next one.
            route.Worker.PostDatagram(route.Peer, buffer, length, route.Path, receivedAt, wake);
            if (pending is not null) pending[route.Worker.Index] = true;
            return true;
        }

        // A new remote address, or a known one sending to another of our addresses (another candidate pair): a
        // check gets a path of its own, so its response leaves from the address it was sent to (RFC 8445
        // §7.2.5.2.1).
        if (TryRouteNewAddress(buffer.AsSpan(0, length), out var peer, out var worker))
        {
            worker.PostDatagram(peer, buffer, length, new UdpPacketPath(socket, from, local), receivedAt, wake);
            if (pending is not null) pending[worker.Index] = true;
            return true;
        }
        if (known)
        {
            // Anything else from a known peer to another local address still belongs to that peer; what it sends
            // goes on its selected pair.
            route!.Worker.PostDatagram(route.Peer, buffer, length, route.Path, receivedAt, wake);
            if (pending is not null) pending[route.Worker.Index] = true;
            return true;
        }
        Interlocked.Increment(ref _droppedDatagrams);
        return false;
    }

    private void WakePending(bool[] pending)
    {
        for (var i = 0; i < pending.Length; i++)
        {
            if (!pending[i]) continue;
            pending[i] = false;
            _workers[i].Wake();
        }
    }

    /// <summary>How often the kernel-stamped receive loop looks at the stop signal while no datagram comes.</summary>
    private static readonly TimeSpan StopPollInterval = TimeSpan.FromMilliseconds(250);

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
            catch (SocketException ex) when (IsOutOfDescriptors(ex))
            {
                // Out of file descriptors: accepting again at once would fail again at once. Wait for some to free.
                try { await Task.Delay(AcceptBackoff, _time, cancel).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                continue;
            }
            catch (SocketException) { continue; } // e.g. a connection reset before it was accepted

            var connection = Admit(client);
            if (connection is not null) _ = Task.Run(() => TcpConnectionLoopAsync(connection, cancel));
        }
    }

    private static bool IsOutOfDescriptors(SocketException ex) =>
        ex.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable
        || (OperatingSystem.IsLinux() && ex.NativeErrorCode is 23 or 24); // ENFILE, EMFILE

    /// <summary>Counts an accepted socket against the caps (total, per remote address, the process budget) and makes
    /// its connection; over any cap the socket is closed at once (and counted) and the result is null.</summary>
    private TcpConnection? Admit(Socket client)
    {
        IPEndPoint remote;
        try
        {
            remote = (IPEndPoint)client.RemoteEndPoint!;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            client.Dispose(); // already reset by the remote
            return null;
        }

        var admitted = false;
        var holdsAddress = false;
        var holdsBudget = false;
        try
        {
            if (Interlocked.Increment(ref _tcpOpen) > _options.IceTcpMaxConnections) return null;
            if (!(holdsAddress = _tcpPerAddress.TryAcquire(remote.Address))) return null;
            if (ConnectionBudget is { } processBudget && !(holdsBudget = processBudget.TryAcquire())) return null;
            try { client.NoDelay = true; } catch (SocketException) { }
            var connection = new TcpConnection(client, remote, holdsBudget, _time.GetTimestamp());
            _tcpConnections[connection] = 0;
            admitted = true;
            return connection;
        }
        finally
        {
            if (!admitted)
            {
                if (holdsBudget) ConnectionBudget!.Release();
                if (holdsAddress) _tcpPerAddress.Release(remote.Address);
                Interlocked.Decrement(ref _tcpOpen);
                Interlocked.Increment(ref _tcpRefused);
                client.Dispose();
            }
        }
    }

    /// <summary>Gives back what <see cref="Admit"/> took, once, when the connection's loop ends.</summary>
    private void ReleaseConnection(TcpConnection connection)
    {
        connection.Path.Dispose();
        if (connection.Entry is { } entry)
        {
            lock (entry.TcpPaths) entry.TcpPaths.Remove(connection.Path);
        }
        _tcpConnections.TryRemove(connection, out _);
        if (connection.HoldsBudget) ConnectionBudget!.Release();
        _tcpPerAddress.Release(connection.Remote.Address);
        Interlocked.Decrement(ref _tcpOpen);
    }

    /// <summary>Closes connections past their deadline: not authenticated within the auth timeout of being accepted,
    /// or authenticated but silent for the idle timeout.</summary>
    private void SweepTcpConnections()
    {
        var now = _time.GetTimestamp();
        foreach (var connection in _tcpConnections.Keys)
        {
            var expired = connection.Entry is null
                ? _time.GetElapsedTime(connection.AcceptedAt, now) >= _tcpAuthTimeout
                : _time.GetElapsedTime(connection.LastActivity, now) >= _tcpIdleTimeout;
            if (!expired || connection.Path.IsClosed) continue;
            Interlocked.Increment(ref _tcpTimedOut);
            connection.Path.Dispose(); // the connection's receive fails and its loop releases it
        }
    }

    /// <summary>One ICE-TCP connection: RFC 4571 frames. Until it authenticates, every frame must be a STUN Binding
    /// request with valid FINGERPRINT and MESSAGE-INTEGRITY for a live peer (found by its USERNAME's ufrag); the first
    /// such check attaches the connection to that peer as one more path, and every later frame belongs to the peer.
    /// Anything else closes the connection. Deadlines are kept by <see cref="SweepTcpConnections"/>.</summary>
    private async Task TcpConnectionLoopAsync(TcpConnection connection, CancellationToken cancel)
    {
        var deframer = new Rfc4571Deframer(ReceiveBufferSize);
        var readBuffer = new byte[8192];
        try
        {
            while (!cancel.IsCancellationRequested && !connection.Path.IsClosed)
            {
                var read = await connection.Socket.ReceiveAsync(readBuffer.AsMemory(), SocketFlags.None, cancel).ConfigureAwait(false);
                if (read == 0) break;
                if (!DispatchFrames(readBuffer.AsSpan(0, read), deframer, connection)) break;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            ReleaseConnection(connection);
        }
    }

    /// <summary>Hands every complete frame in <paramref name="input"/> to the connection's peer, authenticating the
    /// connection first if it is not yet. False closes the connection: a lost frame sync (oversize frame) or, before
    /// authentication, a frame that is not an authentic check for a live peer.</summary>
    private bool DispatchFrames(ReadOnlySpan<byte> input, Rfc4571Deframer deframer, TcpConnection connection)
    {
        var any = false;
        while (deframer.TryReadFrame(ref input, out var frame))
        {
            if (connection.Entry is null && !TryAuthenticate(connection, frame))
            {
                Interlocked.Increment(ref _tcpUnauthenticated);
                return false;
            }
            if (connection.Path.IsClosed) return false; // e.g. closed as the peer's oldest path
            var buffer = DatagramBuffers.Rent();
            frame.CopyTo(buffer);
            connection.Entry!.Worker.PostDatagram(connection.Peer!, buffer, frame.Length, connection.Path);
            any = true;
        }
        if (any) connection.LastActivity = _time.GetTimestamp();
        return !deframer.IsFaulted;
    }

    /// <summary>RFC 8445 §7.2.2 / RFC 8489 §9.1.3: the connection becomes a path of a peer only with a Binding request
    /// that carries the peer's short-term credential (checked here, before anything reaches the peer). A peer keeps
    /// at most <see cref="MediaServerOptions.IceTcpMaxConnectionsPerPeer"/> paths: a new one closes its oldest.</summary>
    private bool TryAuthenticate(TcpConnection connection, ReadOnlySpan<byte> frame)
    {
        if (!TryRouteNewAddress(frame, out var peer, out _)) return false;
        if (!peer.IsAuthenticCheck(frame) || !_peers.TryGetValue(peer, out var entry)) return false;

        TcpPacketPath? evicted = null;
        lock (entry.TcpPaths)
        {
            entry.TcpPaths.Add(connection.Path);
            if (entry.TcpPaths.Count > _options.IceTcpMaxConnectionsPerPeer)
            {
                evicted = entry.TcpPaths[0];
                entry.TcpPaths.RemoveAt(0);
            }
        }
        evicted?.Dispose();
        connection.Peer = peer;
        connection.LastActivity = _time.GetTimestamp();
        connection.Entry = entry;
        // The peer may have been retired between the lookup and the attach: its paths were closed then, close this too.
        if (!_peers.ContainsKey(peer)) connection.Path.Dispose();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        IsReady = false;
        _stopping.Cancel();
        _udp?.Dispose();
        _tcp?.Dispose();
        _tcpSweep?.Dispose();
        foreach (var connection in _tcpConnections.Keys) connection.Path.Dispose();
        try { await Task.WhenAll(_udpLoop, _tcpLoop).ConfigureAwait(false); } catch (OperationCanceledException) { }
        foreach (var worker in _workers) worker.Dispose();
        _stopping.Dispose();
    }

    private sealed record Route(IMediaPeer Peer, MediaWorker Worker, UdpPacketPath Path);

    private sealed class PeerEntry(MediaWorker worker)
    {
        public MediaWorker Worker { get; } = worker;
        public List<SocketAddress> Addresses { get; } = [];
        /// <summary>The peer's ufrags in <see cref="_byUfrag"/> (lock the list): its first, and an ICE restart's.</summary>
        public List<string> Ufrags { get; } = [];
        /// <summary>Set under the lock of <see cref="Ufrags"/> once the peer is unregistered: nothing is added after.</summary>
        public bool Unregistered { get; set; }
        /// <summary>Authenticated ICE-TCP paths, oldest first (lock the list); a closed connection removes its own.</summary>
        public List<TcpPacketPath> TcpPaths { get; } = [];
    }

    /// <summary>One accepted ICE-TCP connection: its path, what it holds of the caps, and its deadlines' clocks.</summary>
    private sealed class TcpConnection(Socket socket, IPEndPoint remote, bool holdsBudget, long acceptedAt)
    {
        private long _lastActivity = acceptedAt;
        private volatile PeerEntry? _entry;

        public Socket Socket { get; } = socket;
        public TcpPacketPath Path { get; } = new(socket, remote);
        public IPEndPoint Remote { get; } = remote;
        public bool HoldsBudget { get; } = holdsBudget;
        public long AcceptedAt { get; } = acceptedAt;

        /// <summary>The peer, set (before <see cref="Entry"/>) once the connection authenticated.</summary>
        public IMediaPeer? Peer { get; set; }

        /// <summary>The peer's entry once authenticated; null before (the sweep reads it to pick the deadline).</summary>
        public PeerEntry? Entry { get => _entry; set => _entry = value; }

        /// <summary>Timestamp of the last frame received (after authentication).</summary>
        public long LastActivity { get => Volatile.Read(ref _lastActivity); set => Volatile.Write(ref _lastActivity, value); }
    }
}
