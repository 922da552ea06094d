using Org.BouncyCastle.Tls;

namespace TeleRehab.Media.Dtls;

/// <summary>Sends one datagram to the peer. Called from several threads; must be thread-safe.</summary>
public delegate void DtlsDatagramSender(ReadOnlySpan<byte> datagram);

/// <summary>Receives decrypted application data (valid only during the call).</summary>
public delegate void DtlsApplicationDataHandler(DtlsSession session, ReadOnlySpan<byte> data);

/// <summary>Lifecycle of a <see cref="DtlsSession"/>.</summary>
public enum DtlsSessionState
{
    New,
    /// <summary>Queued on the scheduler or handshaking.</summary>
    Handshaking,
    Connected,
    /// <summary>Closed by either side after a successful handshake.</summary>
    Closed,
    /// <summary>Handshake failed or the connection failed (fatal alert).</summary>
    Failed,
}

/// <summary>Why an established connection ended.</summary>
public enum DtlsCloseReason
{
    /// <summary><see cref="DtlsSession.Close"/> was called.</summary>
    LocalClose,
    /// <summary>The peer sent close_notify.</summary>
    RemoteCloseNotify,
    /// <summary>The peer sent a fatal alert.</summary>
    RemoteFatalAlert,
    /// <summary>A local error failed the connection.</summary>
    Error,
}

/// <summary>
/// One DTLS 1.2 (RFC 6347) association with use_srtp (RFC 5764) to one peer, on BouncyCastle.
/// <para>Threading rules:</para>
/// <list type="bullet">
/// <item>The host calls <see cref="HandleDatagram"/> for each DTLS datagram from this peer (first byte 20..63,
/// RFC 7983), from any thread. The datagram is copied into a bounded per-peer queue (extra datagrams are
/// dropped, as the network would). It never throws.</item>
/// <item>The handshake is BouncyCastle's blocking code; <see cref="Start"/> queues it on a
/// <see cref="DtlsHandshakeScheduler"/> (a small bounded pool shared by all sessions), never on a thread of its own.
/// While it runs, its reads block only on this peer's queue, for the time BouncyCastle asks (which drives its
/// flight retransmission timers); <see cref="DtlsSessionOptions.HandshakeTimeout"/> bounds the whole handshake.</item>
/// <item>During the handshake the records of each outbound flight are packed into as few datagrams as the MTU
/// allows, and inbound records are re-ordered where BouncyCastle could not recover from their order (an early
/// ChangeCipherSpec or epoch-1 record is held until the messages it follows arrive; see
/// <see cref="DtlsHandshakeRecordGate"/>).</item>
/// <item>After the handshake no thread is held. Each <see cref="HandleDatagram"/> call decrypts on the caller's
/// thread (BouncyCastle polled without waiting) and raises <see cref="ApplicationDataReceived"/> there; the
/// receive path is serialized by a per-session lock.</item>
/// <item>The output delegate is invoked from the scheduler thread (handshake flights), from
/// <see cref="HandleDatagram"/> callers (retransmissions, alerts), and from <see cref="Send"/>/<see cref="Close"/>
/// callers; it must be thread-safe. <see cref="Send"/> may be called from any thread (serialized by a lock).</item>
/// <item><see cref="HandshakeCompletion"/> completes asynchronously (continuations never run on the handshake thread);
/// <see cref="Closed"/> fires once, on the thread that observed the close.</item>
/// </list>
/// </summary>
public sealed class DtlsSession : IDisposable
{
    private readonly DtlsHandshakeContext _context;
    private readonly DtlsDatagramQueue _transport;
    private readonly DtlsHandshakeScheduler _scheduler;
    private readonly TaskCompletionSource<DtlsHandshakeResult> _completion =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _receiveLock = new();
    private readonly object _sendLock = new();
    private DtlsTransport? _dtls;
    private byte[]? _receiveBuffer;
    private volatile DtlsSessionState _state;
    private volatile bool _localCloseRequested;
    private volatile bool _transportClosed;
    private int _closedRaised;
    private int _started;
    private long _startedAtMillis;

    /// <param name="role">Client (active, sends ClientHello) or Server (passive).</param>
    /// <param name="localCertificate">Our certificate (its fingerprint went into our SDP).</param>
    /// <param name="remoteFingerprint">The fingerprint from the peer's SDP; its certificate must match it.</param>
    /// <param name="output">Sends one datagram to the peer; thread-safe.</param>
    /// <param name="scheduler">Pool running the blocking handshake (default <see cref="DtlsHandshakeScheduler.Shared"/>).</param>
    public DtlsSession(DtlsRole role, DtlsCertificate localCertificate, DtlsFingerprint remoteFingerprint,
        DtlsDatagramSender output, DtlsHandshakeScheduler? scheduler = null, DtlsSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(localCertificate);
        ArgumentNullException.ThrowIfNull(remoteFingerprint);
        ArgumentNullException.ThrowIfNull(output);
        Role = role;
        Options = options ?? DtlsSessionOptions.Default;
        _scheduler = scheduler ?? DtlsHandshakeScheduler.Shared;
        _context = new DtlsHandshakeContext
        {
            LocalCertificate = localCertificate,
            ExpectedRemoteFingerprint = remoteFingerprint,
            Options = Options,
        };
        _transport = new DtlsDatagramQueue(Options, role, output, OnTransportClosed);
    }

    public DtlsRole Role { get; }

    public DtlsSessionOptions Options { get; }

    public DtlsSessionState State => _state;

    /// <summary>Completes once with the handshake outcome (never faults).</summary>
    public Task<DtlsHandshakeResult> HandshakeCompletion => _completion.Task;

    /// <summary>Decrypted application data, raised on the <see cref="HandleDatagram"/> caller's thread (and, for records
    /// that arrived while the handshake finished, on the handshake thread or, with
    /// <see cref="DeferEarlyApplicationData"/>, on the <see cref="ReceivePending"/> caller's thread).</summary>
    public event DtlsApplicationDataHandler? ApplicationDataReceived;

    /// <summary>
    /// When true, records that arrived while the handshake finished are not decrypted on the handshake thread: they
    /// stay queued until the owner calls <see cref="ReceivePending"/> (or the next <see cref="HandleDatagram"/>), so
    /// <see cref="ApplicationDataReceived"/> is raised only on the owner's threads. A peer run by one loop sets it and
    /// calls <see cref="ReceivePending"/> when the handshake result reaches that loop. Set before <see cref="Start"/>.
    /// </summary>
    public bool DeferEarlyApplicationData { get; init; }

    /// <summary>The established connection ended (local or remote close, or fatal alert). Raised once.</summary>
    public event Action<DtlsSession, DtlsCloseReason>? Closed;

    /// <summary>Largest application payload <see cref="Send"/> accepts (0 before the handshake).</summary>
    public int MaxApplicationDataSize => _dtls?.GetSendLimit() ?? 0;

    /// <summary>RFC 7983 demultiplexing: a first byte in 20..63 means DTLS.</summary>
    public static bool IsDtlsPacket(ReadOnlySpan<byte> datagram) => datagram.Length > 0 && datagram[0] is >= 20 and <= 63;

    /// <summary>Queues the handshake on the scheduler; returns <see cref="HandshakeCompletion"/>. Idempotent.</summary>
    public Task<DtlsHandshakeResult> Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0 && !_localCloseRequested)
        {
            _state = DtlsSessionState.Handshaking;
            _startedAtMillis = Environment.TickCount64;
            try
            {
                _scheduler.Enqueue(RunHandshake);
            }
            catch (ObjectDisposedException)
            {
                FailHandshake(DtlsFailureReason.Closed, "The handshake scheduler is disposed.");
            }
        }
        return _completion.Task;
    }

    /// <summary>
    /// Feeds one DTLS datagram from the peer. During the handshake it is queued for the handshake; afterwards it
    /// is decrypted on this thread. Malformed or unexpected datagrams are dropped; never throws.
    /// </summary>
    public void HandleDatagram(ReadOnlySpan<byte> dtlsRecord)
    {
        var state = _state;
        if (state is DtlsSessionState.Closed or DtlsSessionState.Failed || _localCloseRequested)
            return;
        if (!_transport.Enqueue(dtlsRecord))
            return;
        // Read the state after queueing: the handshake thread publishes Connected before it drains the queue,
        // so a datagram is either seen by that drain or by this one.
        if (_state == DtlsSessionState.Connected)
            Pump();
    }

    /// <summary>
    /// Encrypts and sends application data as one record. Returns false when not connected, when the payload
    /// exceeds <see cref="MaxApplicationDataSize"/>, or when sending failed.
    /// </summary>
    public bool Send(ReadOnlySpan<byte> data)
    {
        var dtls = _dtls;
        if (dtls is null || _state != DtlsSessionState.Connected)
            return false;
        try
        {
            lock (_sendLock)
            {
                if (data.Length > dtls.GetSendLimit())
                    return false;
                dtls.Send(data);
            }
            return true;
        }
        catch (Exception)
        {
            if (_transportClosed)
                SetFailed(DtlsCloseReason.Error);
            return false;
        }
    }

    /// <summary>
    /// Closes the session: sends close_notify if connected (RFC 5246 §7.2.1), or aborts a pending handshake
    /// (which then completes with <see cref="DtlsFailureReason.Closed"/>).
    /// </summary>
    public void Close()
    {
        _localCloseRequested = true;
        var state = _state;
        if (state == DtlsSessionState.Connected)
        {
            try
            {
                // Serialize with the receive path too: BouncyCastle's record layer is not thread-safe.
                lock (_receiveLock)
                lock (_sendLock)
                    _dtls?.Close();
            }
            catch (Exception)
            {
                // Best effort.
            }
            SetClosed(DtlsCloseReason.LocalClose);
        }
        else if (state is DtlsSessionState.New or DtlsSessionState.Handshaking)
        {
            _transport.Abort();
            FailHandshake(DtlsFailureReason.Closed, "The session was closed before the handshake completed.");
        }
    }

    public void Dispose() => Close();

    private void RunHandshake()
    {
        if (_localCloseRequested)
        {
            FailHandshake(DtlsFailureReason.Closed, "The session was closed before the handshake started.");
            return;
        }

        // The overall timeout runs from Start(): time spent waiting for a scheduler slot counts.
        long remaining = (long)Options.HandshakeTimeout.TotalMilliseconds - (Environment.TickCount64 - _startedAtMillis);
        if (remaining < 1)
        {
            _transport.Abort();
            FailHandshake(DtlsFailureReason.Timeout,
                $"The DTLS handshake did not start within {Options.HandshakeTimeout.TotalSeconds:0.###} s (scheduler busy).");
            return;
        }
        _context.HandshakeTimeoutMillis = (int)Math.Min(remaining, int.MaxValue);

        DtlsTransport dtls;
        try
        {
            dtls = Role == DtlsRole.Client
                ? new DtlsClientProtocol().Connect(new DtlsSrtpClient(_context), _transport)
                : new DtlsServerProtocol().Accept(new DtlsSrtpServer(_context), _transport);
        }
        catch (Exception ex)
        {
            var (reason, message) = Classify(ex);
            _transport.Abort();
            FailHandshake(reason, message);
            return;
        }

        if (_context.KeyingMaterial is null || _context.RemoteFingerprint is null || _localCloseRequested)
        {
            try { dtls.Close(); } catch (Exception) { }
            FailHandshake(_localCloseRequested ? DtlsFailureReason.Closed : DtlsFailureReason.Error,
                _localCloseRequested ? "The session was closed during the handshake." : "Handshake finished without keying material.");
            return;
        }

        _receiveBuffer = new byte[Math.Max(dtls.GetReceiveLimit(), 1)];
        _dtls = dtls;
        _transport.EndHandshake();
        _state = DtlsSessionState.Connected;
        _completion.TrySetResult(DtlsHandshakeResult.Succeeded(Role, _context.SelectedProfile, _context.KeyingMaterial,
            _context.RemoteFingerprint));
        // Datagrams that arrived while BouncyCastle finished (e.g. early application data) are still queued.
        if (!DeferEarlyApplicationData) Pump();
    }

    /// <summary>
    /// Decrypts the datagrams still queued (those that arrived while the handshake finished) on the calling thread and
    /// raises <see cref="ApplicationDataReceived"/> for their records. Does nothing before the handshake completed.
    /// </summary>
    public void ReceivePending()
    {
        if (_state == DtlsSessionState.Connected && !_localCloseRequested) Pump();
    }

    private (DtlsFailureReason, string) Classify(Exception ex)
    {
        if (_context.Failure != DtlsFailureReason.None)
            return (_context.Failure, _context.FailureMessage ?? _context.Failure.ToString());
        if (_localCloseRequested)
            return (DtlsFailureReason.Closed, "The session was closed during the handshake.");
        return ex switch
        {
            TlsTimeoutException => (DtlsFailureReason.Timeout,
                $"The DTLS handshake did not complete within {Options.HandshakeTimeout.TotalSeconds:0.###} s."),
            TlsFatalAlertReceived received => (DtlsFailureReason.AlertReceived,
                "The peer sent fatal alert " + AlertDescription.GetText(received.AlertDescription) + "."),
            TlsFatalAlert raised => (DtlsFailureReason.AlertRaised,
                "Handshake aborted with alert " + (_context.LastAlertRaised ?? AlertDescription.GetText(raised.AlertDescription))
                + (raised.InnerException is null ? "" : " (" + raised.InnerException.Message + ")") + "."),
            _ => (DtlsFailureReason.Error, "DTLS handshake error: " + ex.Message),
        };
    }

    private void FailHandshake(DtlsFailureReason reason, string message)
    {
        if (_completion.TrySetResult(DtlsHandshakeResult.Failed(Role, reason, message)))
        {
            _state = DtlsSessionState.Failed;
            _transport.Drain();
        }
    }

    /// <summary>Decrypts every queued datagram on the calling thread, without waiting for more.</summary>
    private void Pump()
    {
        lock (_receiveLock)
        {
            var dtls = _dtls;
            byte[]? buffer = _receiveBuffer;
            if (dtls is null || buffer is null)
                return;
            try
            {
                while (_state == DtlsSessionState.Connected && !_transportClosed && !_localCloseRequested
                    && _transport.Count > 0)
                {
                    // waitMillis must be > 0 (0 means "forever" to BouncyCastle); the polling transport
                    // ends the read as soon as the queue is empty, so this never waits.
                    int n = dtls.Receive(buffer, 0, buffer.Length, 1);
                    while (n >= 0)
                    {
                        Deliver(buffer.AsSpan(0, n));
                        // Further records packed in the same datagram.
                        n = dtls.ReceivePending(buffer, 0, buffer.Length);
                    }
                }
            }
            catch (TlsFatalAlertReceived)
            {
                SetFailed(DtlsCloseReason.RemoteFatalAlert);
            }
            catch (Exception)
            {
                SetFailed(DtlsCloseReason.Error);
            }
            if (_transportClosed && _state == DtlsSessionState.Connected && !_localCloseRequested)
                SetClosed(DtlsCloseReason.RemoteCloseNotify);
        }
    }

    private void Deliver(ReadOnlySpan<byte> data)
    {
        try
        {
            ApplicationDataReceived?.Invoke(this, data);
        }
        catch (Exception)
        {
            // A faulty handler must not break the session or the host's receive loop.
        }
    }

    /// <summary>
    /// BouncyCastle closed the transport: close_notify sent or received, or a failure. Only noted here; the
    /// thread that called into BouncyCastle (Pump, Send) reports the right reason.
    /// </summary>
    private void OnTransportClosed() => _transportClosed = true;

    private void SetClosed(DtlsCloseReason reason)
    {
        _state = DtlsSessionState.Closed;
        _transport.Drain();
        RaiseClosed(reason);
    }

    private void SetFailed(DtlsCloseReason reason)
    {
        _state = DtlsSessionState.Failed;
        _transport.Drain();
        RaiseClosed(reason);
    }

    private void RaiseClosed(DtlsCloseReason reason)
    {
        if (Interlocked.Exchange(ref _closedRaised, 1) != 0)
            return;
        try
        {
            Closed?.Invoke(this, reason);
        }
        catch (Exception)
        {
            // Same as Deliver.
        }
    }
}
