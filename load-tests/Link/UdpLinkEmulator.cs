using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace TeleRehab.LoadTests.Link;

/// <summary>Settings of a <see cref="UdpLinkEmulator"/>.</summary>
public sealed record UdpLinkEmulatorOptions
{
    /// <summary>Where clients send; 127.0.0.1 with an ephemeral port by default.</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>The one server endpoint every client's packets go to.</summary>
    public required IPEndPoint Target { get; init; }

    /// <summary>The link profile over time (a constant profile is a one-entry schedule).</summary>
    public LinkSchedule Schedule { get; init; } = LinkSchedule.Constant(LinkProfile.Clean);

    /// <summary>Seeds the loss and jitter of every client's link (client n uses seed + 2n up and seed + 2n + 1 down).</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>What the emulator has done so far, summed over its clients.</summary>
/// <param name="Elapsed">Time since the emulator started (the schedule's clock).</param>
/// <param name="Profile">The profile in force now.</param>
/// <param name="Up">Client to server counters.</param>
/// <param name="Down">Server to client counters.</param>
/// <param name="UpQueueDelay">The longest queueing delay a new packet would see now on any client's up direction.</param>
/// <param name="DownQueueDelay">The same for the down direction.</param>
/// <param name="SendErrors">Datagrams the operating system refused to send.</param>
/// <param name="LateDeliveries">Datagrams the emulator itself sent more than <see cref="UdpLinkEmulator.LateAfter"/>
/// after they were due (its thread did not run in time: the machine is too busy for the emulated link to be exact).</param>
/// <param name="LongestLateness">The latest such delivery.</param>
public sealed record LinkEmulatorStatus(
    TimeSpan Elapsed,
    LinkProfile Profile,
    int Clients,
    LinkCounters Up,
    LinkCounters Down,
    TimeSpan UpQueueDelay,
    TimeSpan DownQueueDelay,
    long SendErrors,
    long LateDeliveries = 0,
    TimeSpan LongestLateness = default);

/// <summary>
/// A UDP relay that puts an emulated link between clients and one server, like a symmetric NAT: clients send to
/// <see cref="LocalEndPoint"/>; each new client source address gets its own socket (ephemeral port) towards the target,
/// so the server sees a distinct address per client. A client's datagrams pass its <c>up</c> <see cref="LinkDirection"/>,
/// the server's replies (accepted only from the target address) its <c>down</c> one. One thread runs the whole
/// emulator: it waits on every socket at once until the next delivery is due (sleeping to within a millisecond, then
/// spinning), so delivery is precise to about a millisecond and never early.
/// <para>Payload ownership: a datagram the link accepts is copied into a buffer rented from
/// <see cref="ArrayPool{T}.Shared"/>, held in the client's FIFO for that direction, and returned after it is sent (or
/// when the emulator is disposed).</para>
/// </summary>
public sealed class UdpLinkEmulator : IDisposable, IAsyncDisposable
{
    private const int MaxDatagram = 65_536;
    private static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(50);

    private readonly UdpLinkEmulatorOptions _options;
    private readonly Socket _listen;
    private readonly SocketAddress _target;
    private readonly Dictionary<SocketAddress, Client> _clientsByAddress = new();
    private readonly Dictionary<Socket, Client> _clientsBySocket = new();
    private readonly List<Client> _clients = new();
    private readonly List<Socket> _readable = new();
    private readonly byte[] _receiveBuffer = new byte[MaxDatagram];
    private readonly SocketAddress _fromClient;  // receive address for the listen socket (the listen family)
    private readonly SocketAddress _fromServer;  // receive address for the per-client sockets (the target family)
    private readonly Lock _lock = new();
    private readonly long _startTimestamp;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LinkProfile _profile;
    private long _sendErrors;
    private long _lateDeliveries;
    private TimeSpan _longestLateness;
    private volatile bool _stopping;
    private volatile bool _cut;
    private volatile bool _rebind;
    private long _cutDrops;
    private bool _disposed;

    public UdpLinkEmulator(UdpLinkEmulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Target);
        ArgumentNullException.ThrowIfNull(options.Schedule);
        ArgumentNullException.ThrowIfNull(options.Listen);
        _options = options;
        _target = options.Target.Serialize();
        _profile = options.Schedule.ProfileAt(TimeSpan.Zero);

        _listen = new Socket(options.Listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _listen.Bind(options.Listen);
        }
        catch
        {
            _listen.Dispose();
            throw;
        }
        _listen.Blocking = false;
        LocalEndPoint = (IPEndPoint)_listen.LocalEndPoint!;
        _fromClient = new SocketAddress(options.Listen.AddressFamily);
        _fromServer = new SocketAddress(options.Target.AddressFamily);

        _startTimestamp = TimeProvider.System.GetTimestamp();
        _thread = new Thread(Run) { IsBackground = true, Name = "udp-link-emulator" };
        _thread.Start();
    }

    /// <summary>The address clients send to.</summary>
    public IPEndPoint LocalEndPoint { get; }

    public IPEndPoint Target => _options.Target;

    /// <summary>A delivery this much after its due time counts as late in <see cref="LinkEmulatorStatus.LateDeliveries"/>.</summary>
    public static readonly TimeSpan LateAfter = TimeSpan.FromMilliseconds(2);

    /// <summary>The profile in force now.</summary>
    public LinkProfile CurrentProfile
    {
        get { lock (_lock) return _profile; }
    }

    /// <summary>While true, the path is gone: every datagram from a client or from the server is dropped as it arrives (a
    /// patient's network that went away; outage tests). Packets already on the link still arrive. Not counted in the
    /// links' counters: see <see cref="CutDrops"/>.</summary>
    public bool Cut
    {
        get => _cut;
        set => _cut = value;
    }

    /// <summary>Datagrams dropped (both directions) while <see cref="Cut"/> was set.</summary>
    public long CutDrops => Interlocked.Read(ref _cutDrops);

    /// <summary>Gives every client a new socket towards the server (a new ephemeral source port), as a NAT that drops its
    /// mapping and makes a new one: the server sees the client's next datagrams come from another address. The relay's
    /// thread does it on its next turn (within 50 ms); the old sockets are closed, and what was queued for the client
    /// in either direction still goes out.</summary>
    public void RebindClients() => _rebind = true;

    private void Rebind()
    {
        _rebind = false;
        foreach (var client in _clients)
        {
            var socket = NewServerSocket();
            _clientsBySocket.Remove(client.Socket);
            client.Socket.Dispose();
            client.Socket = socket;
            _clientsBySocket.Add(socket, client);
        }
    }

    /// <summary>Set when the loop stopped on an unexpected error; the emulator then relays nothing more.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Completes when the relay loop has ended (after <see cref="Dispose"/>, or on a fault).</summary>
    public Task Completion => _stopped.Task;

    /// <summary>Live counters and queue delays, summed over clients.</summary>
    public LinkEmulatorStatus GetStatus()
    {
        lock (_lock)
        {
            var now = Elapsed();
            LinkCounters up = default, down = default;
            TimeSpan upQueue = TimeSpan.Zero, downQueue = TimeSpan.Zero;
            foreach (var client in _clients)
            {
                up += client.Up.Counters;
                down += client.Down.Counters;
                upQueue = Max(upQueue, client.Up.QueueDelay(now));
                downQueue = Max(downQueue, client.Down.QueueDelay(now));
            }
            return new LinkEmulatorStatus(now, _profile, _clients.Count, up, down, upQueue, downQueue, Interlocked.Read(ref _sendErrors),
                _lateDeliveries, _longestLateness);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stopping = true;
        if (Thread.CurrentThread != _thread) _thread.Join();
        lock (_lock)
        {
            _listen.Dispose();
            foreach (var client in _clients) client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        await _stopped.Task.ConfigureAwait(false);
        Dispose();
    }

    private TimeSpan Elapsed() => TimeProvider.System.GetElapsedTime(_startTimestamp);

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                TimeSpan wait;
                lock (_lock)
                {
                    var now = Elapsed();
                    ApplySchedule(now);
                    if (_rebind) Rebind();
                    DeliverDue(now);
                    wait = NextDeadline(now) - now;
                }
                Wait(wait);
                if (_stopping) break;
                lock (_lock)
                {
                    ReceiveReady(Elapsed());
                }
            }
        }
        catch (Exception e)
        {
            Fault = e;
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void ApplySchedule(TimeSpan now)
    {
        var profile = _options.Schedule.ProfileAt(now);
        if (ReferenceEquals(profile, _profile)) return;
        _profile = profile;
        foreach (var client in _clients)
        {
            client.Up.Profile = profile.Up;
            client.Down.Profile = profile.Down;
        }
    }

    private TimeSpan NextDeadline(TimeSpan now)
    {
        var next = now + MaxWait;
        if (_options.Schedule.NextChangeAfter(now) is { } change && change < next) next = change;
        foreach (var client in _clients)
        {
            if (client.Up.NextDelivery is { } up && up < next) next = up;
            if (client.Down.NextDelivery is { } down && down < next) next = down;
        }
        return next;
    }

    /// <summary>Waits until a socket is readable or <paramref name="wait"/> has passed: poll(2) for whole
    /// milliseconds, then a spin for the last fraction so a delivery is neither early nor a millisecond late.</summary>
    private void Wait(TimeSpan wait)
    {
        _readable.Clear();
        _readable.Add(_listen);
        foreach (var client in _clients) _readable.Add(client.Socket);

        if (wait >= TimeSpan.FromMilliseconds(1))
        {
            Socket.Select(_readable, null, null, (int)wait.TotalMicroseconds);
            return;
        }

        if (wait > TimeSpan.Zero)
        {
            var until = Elapsed() + wait;
            var spinner = new SpinWait();
            while (Elapsed() < until && !_stopping) spinner.SpinOnce(sleep1Threshold: -1);
        }
        Socket.Select(_readable, null, null, 0);
    }

    private void ReceiveReady(TimeSpan now)
    {
        foreach (var socket in _readable)
        {
            if (ReferenceEquals(socket, _listen)) ReceiveFromClients(now);
            else if (_clientsBySocket.TryGetValue(socket, out var client)) ReceiveFromServer(client, now);
        }
    }

    private void ReceiveFromClients(TimeSpan now)
    {
        var first = true;
        while (TryReceive(_listen, _fromClient, ref first, out var length))
        {
            if (_cut)
            {
                Interlocked.Increment(ref _cutDrops);
                continue;
            }
            if (!_clientsByAddress.TryGetValue(_fromClient, out var client))
                client = AddClient();
            if (client.Up.Enqueue(length, now))
                client.UpPayloads.Enqueue(Copy(length));
        }
    }

    private void ReceiveFromServer(Client client, TimeSpan now)
    {
        var first = true;
        while (TryReceive(client.Socket, _fromServer, ref first, out var length))
        {
            if (!_fromServer.Equals(_target)) continue; // a symmetric NAT only lets the target answer
            if (_cut)
            {
                Interlocked.Increment(ref _cutDrops);
                continue;
            }
            if (client.Down.Enqueue(length, now))
                client.DownPayloads.Enqueue(Copy(length));
        }
    }

    /// <summary>Reads one datagram; the first read trusts poll's "readable", later ones ask for pending data first so
    /// draining a socket does not end in an exception.</summary>
    private bool TryReceive(Socket socket, SocketAddress from, ref bool first, out int length)
    {
        while (true)
        {
            if (!first && socket.Available == 0)
            {
                length = 0;
                return false;
            }
            first = false;
            try
            {
                length = socket.ReceiveFrom(_receiveBuffer, SocketFlags.None, from);
                return true;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                length = 0;
                return false;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused
                                                or SocketError.MessageSize)
            {
                // An ICMP error for an earlier send, or a datagram too large: skip it and read on.
            }
        }
    }

    private Payload Copy(int length)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        _receiveBuffer.AsSpan(0, length).CopyTo(buffer);
        return new Payload(buffer, length);
    }

    private Client AddClient()
    {
        var address = new SocketAddress(_fromClient.Family, _fromClient.Size);
        _fromClient.Buffer.Span[.._fromClient.Size].CopyTo(address.Buffer.Span);

        var socket = NewServerSocket();
        var index = _clients.Count;
        var client = new Client(address, socket,
            new LinkDirection(_profile.Up, unchecked(_options.Seed + 2 * index)),
            new LinkDirection(_profile.Down, unchecked(_options.Seed + 2 * index + 1)));
        _clients.Add(client);
        _clientsByAddress.Add(address, client);
        _clientsBySocket.Add(socket, client);
        return client;
    }

    /// <summary>A socket towards the server on an ephemeral port (loopback for a loopback target).</summary>
    private Socket NewServerSocket()
    {
        var target = _options.Target;
        var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        var any = target.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        socket.Bind(new IPEndPoint(IPAddress.IsLoopback(target.Address) ? target.Address : any, 0));
        socket.Blocking = false;
        return socket;
    }

    private void DeliverDue(TimeSpan now)
    {
        foreach (var client in _clients)
        {
            while (client.Up.TryDequeue(now, out var up))
            {
                CountLateness(up.DeliverAt);
                Send(client.Socket, client.UpPayloads.Dequeue(), _target);
            }
            while (client.Down.TryDequeue(now, out var down))
            {
                CountLateness(down.DeliverAt);
                Send(_listen, client.DownPayloads.Dequeue(), client.Address);
            }
        }
    }

    private void CountLateness(TimeSpan due)
    {
        var late = Elapsed() - due;
        if (late <= LateAfter) return;
        _lateDeliveries++;
        if (late > _longestLateness) _longestLateness = late;
    }

    private void Send(Socket socket, Payload payload, SocketAddress to)
    {
        try
        {
            socket.SendTo(payload.Buffer.AsSpan(0, payload.Length), SocketFlags.None, to);
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref _sendErrors);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload.Buffer);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private readonly record struct Payload(byte[] Buffer, int Length);

    private sealed class Client(SocketAddress address, Socket socket, LinkDirection up, LinkDirection down) : IDisposable
    {
        public SocketAddress Address { get; } = address;
        public Socket Socket { get; set; } = socket;
        public LinkDirection Up { get; } = up;
        public LinkDirection Down { get; } = down;
        public Queue<Payload> UpPayloads { get; } = new();
        public Queue<Payload> DownPayloads { get; } = new();

        public void Dispose()
        {
            Socket.Dispose();
            foreach (var payload in UpPayloads) ArrayPool<byte>.Shared.Return(payload.Buffer);
            foreach (var payload in DownPayloads) ArrayPool<byte>.Shared.Return(payload.Buffer);
            UpPayloads.Clear();
            DownPayloads.Clear();
        }
    }
}
