using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.WebRtc;

/// <summary>The peer-connection core: ICE, DTLS and SRTP composed as one state machine. Datagrams and time go in
/// (<see cref="HandleDatagram"/>, <see cref="HandleTimeout"/>); datagrams go out through the <see cref="IPacketPath"/>
/// that ICE selected; what happened goes to the <see cref="IPeerConnectionHandler"/>.
/// <para>Threading: every member is called on the owner's loop (a media worker). The one exception is the DTLS
/// handshake, which BouncyCastle runs on the bounded <see cref="DtlsHandshakeScheduler"/>: its flights are sent from
/// there (paths are thread-safe) and its result comes back to the owner's loop through the <c>dispatch</c> delegate.</para></summary>
public sealed class PeerConnection : IDisposable
{
    private const int StunResponseCapacity = 1500;

    private readonly PeerConnectionOptions _options;
    private readonly IPeerConnectionHandler _handler;
    private readonly Action<Action> _dispatch;
    private readonly IceLiteAgent? _lite;
    private readonly IceControllingAgent? _controlling;
    private readonly Func<SocketAddress, IPacketPath?>? _pathFactory;
    private readonly DtlsFingerprint _remoteFingerprint;
    private readonly DtlsRole _dtlsRole;
    private DtlsSession? _dtls;
    private SrtpSession? _srtp;
    private volatile IPacketPath? _selectedPath;
    private IPacketPath? _controllingPath;
    private TimeSpan? _connectDeadline;
    private DataChannelTransport? _dataChannels;
    /// <summary>The time of the latest input on the loop, for application data the handshake result releases.</summary>
    private TimeSpan _lastInput;
    private long _unroutedApplicationData;

    private PeerConnection(PeerConnectionOptions options, IPeerConnectionHandler handler, Action<Action> dispatch,
        DtlsFingerprint remoteFingerprint, DtlsRole dtlsRole, IceLiteAgent? lite, IceControllingAgent? controlling,
        Func<SocketAddress, IPacketPath?>? pathFactory)
    {
        _options = options;
        _handler = handler;
        _dispatch = dispatch;
        _remoteFingerprint = remoteFingerprint;
        _dtlsRole = dtlsRole;
        _lite = lite;
        _controlling = controlling;
        _pathFactory = pathFactory;
    }

    /// <summary>A server-side connection: ICE-lite (always controlled, RFC 8445 §2.5), answering checks on any path
    /// the host routes to it. <paramref name="dtlsRole"/> follows the SDP setup attribute of the answer.</summary>
    public static PeerConnection CreateIceLite(IceCredentials local, IceCredentials remote, DtlsFingerprint remoteFingerprint,
        DtlsRole dtlsRole, PeerConnectionOptions options, IPeerConnectionHandler handler, Action<Action> dispatch)
    {
        var lite = new IceLiteAgent(local, remote) { ConsentTimeout = options.ConsentTimeout };
        return new PeerConnection(options, handler, dispatch, remoteFingerprint, dtlsRole, lite, null, null);
    }

    /// <summary>A client-side connection: a full ICE controlling agent checking <paramref name="remoteCandidates"/>;
    /// <paramref name="pathFactory"/> gives the path for a remote address (e.g. the client's UDP socket to it).</summary>
    public static PeerConnection CreateControlling(IceCredentials local, IceCredentials remote, IEnumerable<IceCandidate> remoteCandidates,
        DtlsFingerprint remoteFingerprint, DtlsRole dtlsRole, PeerConnectionOptions options, IPeerConnectionHandler handler,
        Action<Action> dispatch, Func<SocketAddress, IPacketPath?> pathFactory, IceControllingOptions? iceOptions = null)
    {
        var agent = new IceControllingAgent(local, remote, iceOptions ?? new IceControllingOptions { ConsentTimeout = options.ConsentTimeout });
        foreach (var candidate in remoteCandidates) agent.AddRemoteCandidate(candidate);
        return new PeerConnection(options, handler, dispatch, remoteFingerprint, dtlsRole, null, agent, pathFactory);
    }

    public PeerConnectionState State { get; private set; } = PeerConnectionState.New;

    /// <summary>Which layer failed, when <see cref="State"/> is <see cref="PeerConnectionState.Failed"/>.</summary>
    public PeerFailure Failure { get; private set; }

    /// <summary>Why the connection closed or failed; null while it lives.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>The path ICE selected (the nominated pair); null before.</summary>
    public IPacketPath? SelectedPath => _selectedPath;

    /// <summary>The SRTP profile DTLS negotiated, once connected.</summary>
    public SrtpProfile? SrtpProfile => _srtp?.Profile;

    /// <summary>Bytes SRTP adds to a packet: keep this much room after a packet handed to <see cref="SendRtp"/>.</summary>
    public int MaxSrtpOverhead => _srtp?.MaxOverhead ?? 0;

    public DtlsRole DtlsRole => _dtlsRole;

    /// <summary>The SCTP side of this connection's data channels, once an accepted data channel section was applied
    /// (<see cref="ApplyDataChannels"/>); null otherwise.</summary>
    public DataChannelTransport? DataChannels => _dataChannels;

    /// <summary>DTLS application records received while no data channel section was negotiated (dropped).</summary>
    public long UnroutedApplicationData => Interlocked.Read(ref _unroutedApplicationData);

    /// <summary>The next time <see cref="HandleTimeout"/> must run (ICE retransmissions and consent freshness).</summary>
    public TimeSpan? NextTimeout => State is PeerConnectionState.Closed or PeerConnectionState.Failed
        // The controlling agent has checks due at once, but they start with Start(), not with the host's timer.
        || (State == PeerConnectionState.New && _controlling is not null)
        ? null
        : EarliestOf(_lite?.NextTimeout ?? _controlling?.NextTimeout,
            State == PeerConnectionState.Connected ? _dataChannels?.NextTimeout : _connectDeadline);

    /// <summary>True when <paramref name="request"/> is a connectivity check carrying this connection's short-term
    /// credential (see <see cref="IceLiteAgent.IsAuthenticCheck"/>). Callable from any thread. A controlling (client)
    /// connection answers no checks, so for it nothing is authentic.</summary>
    public bool IsAuthenticCheck(ReadOnlySpan<byte> request) => _lite is { } lite && lite.IsAuthenticCheck(request);

    /// <summary>
    /// The peer restarts ICE (RFC 8445 §9) on this connection with <paramref name="remote"/> credentials from its new
    /// offer, and this side takes <paramref name="local"/> (new, for the answer: RFC 8829 §5.3.1). Checks with the old
    /// pair are still answered until the first valid check with the new one, which the handler hears of
    /// (<see cref="IPeerConnectionHandler.OnIceCredentialsRetired"/>). DTLS and SRTP are kept (JSEP, RFC 8829 §5.3.1: a
    /// renegotiation that keeps the fingerprint and the setup role keeps the DTLS association), and media follows the
    /// path the new checks nominate. ICE-lite (server) side only; called on the owner's loop. False when the connection
    /// has closed or failed.
    /// </summary>
    public bool RestartIce(IceCredentials remote, IceCredentials local)
    {
        if (_lite is null) throw new InvalidOperationException("only the ICE-lite side takes an ICE restart from an offer");
        return State is not (PeerConnectionState.Closed or PeerConnectionState.Failed) && _lite.Restart(remote, local);
    }

    /// <summary>The local credentials an ICE restart replaced while checks with them are still answered (until the first
    /// valid check with the new ones); null otherwise, and on a client.</summary>
    public IceCredentials? RetiringIceCredentials => _lite?.PreviousLocalCredentials;

    /// <summary>The ICE-lite side's local credentials now (the answer's ice-ufrag and ice-pwd); null on a client.</summary>
    public IceCredentials? LocalIceCredentials => _lite?.LocalCredentials;

    /// <summary>ICE restarts this (ICE-lite) connection took.</summary>
    public int IceRestarts => _lite?.Restarts ?? 0;

    private static TimeSpan? EarliestOf(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a < b ? a : b);

    /// <summary>
    /// Gives this connection the SCTP transport of <paramref name="session"/>'s accepted data channel section (RFC 8841),
    /// if it has one and this connection has none yet: from then on the peer's DTLS application records go to it, and
    /// its timer is part of <see cref="NextTimeout"/>. One association lives as long as the DTLS connection, so a
    /// renegotiation keeps the transport it has. Returns the transport (null without a data channel section). Called on
    /// the owner's loop (or before the peer is registered).
    /// </summary>
    public DataChannelTransport? ApplyDataChannels(NegotiatedSession session)
    {
        if (_dataChannels is not null || DataChannelParameters.FromSession(session) is not { } parameters) return _dataChannels;
        _dataChannels = new DataChannelTransport(parameters, _dtlsRole == DtlsRole.Client, _options.DataChannelStats);
        if (State == PeerConnectionState.Connected && _dtls is { } dtls) StartDataChannels(dtls);
        return _dataChannels;
    }

    /// <summary>Sends <paramref name="data"/> as one DTLS application record. False when not connected or too large for
    /// one record. Data channels send through their <see cref="DataChannelTransport"/>; this is the raw way (tests).</summary>
    public bool SendApplicationData(ReadOnlySpan<byte> data)
        => State == PeerConnectionState.Connected && _dtls is { } dtls && dtls.Send(data);

    private void StartDataChannels(DtlsSession dtls)
        => _dataChannels?.Start(SendApplicationData, dtls.MaxApplicationDataSize, _lastInput);

    /// <summary>A decrypted DTLS application record. Raised on the owner's loop only: from <see cref="HandleDatagram"/>,
    /// or from <see cref="OnHandshakeDone"/> for records that arrived while the handshake finished
    /// (<see cref="DtlsSession.DeferEarlyApplicationData"/>).</summary>
    private void OnApplicationData(DtlsSession dtls, ReadOnlySpan<byte> data)
    {
        if (!ReferenceEquals(dtls, _dtls) || State is PeerConnectionState.Closed or PeerConnectionState.Failed) return;
        if (_dataChannels is { } transport) transport.HandlePacket(data, _lastInput);
        else Interlocked.Increment(ref _unroutedApplicationData);
    }

    /// <summary>Starts the client's connectivity checks (a server waits for the browser's checks).</summary>
    public void Start(TimeSpan now)
    {
        if (State != PeerConnectionState.New) return;
        State = PeerConnectionState.Checking;
        _connectDeadline = now + _options.ConnectTimeout;
        if (_controlling is not null) HandleTimeout(now);
    }

    /// <summary>One datagram from <paramref name="path"/>, in <paramref name="buffer"/>[..<paramref name="length"/>].
    /// RTP and RTCP are decrypted in place and handed to the handler with the same buffer. Malformed or unauthenticated
    /// input is dropped; nothing here throws for bad input.</summary>
    public void HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now)
    {
        if (State is PeerConnectionState.Closed or PeerConnectionState.Failed || length <= 0) return;
        var datagram = buffer[..length];
        switch (PacketClassifier.Classify(datagram))
        {
            case PacketKind.Stun:
                HandleStun(datagram, path, now);
                break;
            case PacketKind.Dtls:
                // DTLS only from a path ICE has validated (RFC 8445 §12: media flows on a valid pair).
                if (_selectedPath is not null && _dtls is { } dtls)
                {
                    _lastInput = now; // the time of the application data it may hold (OnApplicationData)
                    dtls.HandleDatagram(datagram);
                }
                break;
            case PacketKind.Rtp:
                if (_srtp is not null && _srtp.TryUnprotectRtp(buffer, length, out var rtpLength))
                    _handler.OnRtp(this, buffer, rtpLength, now);
                break;
            case PacketKind.Rtcp:
                if (_srtp is not null && _srtp.TryUnprotectRtcp(buffer, length, out var rtcpLength))
                    _handler.OnRtcp(this, buffer, rtcpLength, now);
                break;
        }
    }

    private void HandleStun(ReadOnlySpan<byte> datagram, IPacketPath path, TimeSpan now)
    {
        if (_lite is not null)
        {
            Span<byte> response = stackalloc byte[StunResponseCapacity];
            var result = path is IUdpPacketPath udp
                ? _lite.HandleBindingRequest(datagram, udp.Address, now, response)
                : _lite.HandleBindingRequest(datagram, path.Remote, now, response);
            if (result.HasResponse) path.Send(response[..result.ResponseLength]);
            if (result.RetiredLocalCredentials is { } retired) _handler.OnIceCredentialsRetired(this, retired);
            if (State is PeerConnectionState.Closed or PeerConnectionState.Failed) return;
            if (result.Outcome == IceRequestOutcome.SuccessResponse
                && (result.SelectedRemoteChanged || _selectedPath is null || (result.Nominated && IsOtherLocal(path, _selectedPath))))
            {
                SelectPath(path);
            }
            return;
        }

        if (_controlling is not null)
        {
            var handled = path is IUdpPacketPath udpPath
                ? _controlling.HandleResponse(datagram, udpPath.Address, now)
                : _controlling.HandleResponse(datagram, path.Remote, now);
            if (handled) AfterControllingProgress(now);
        }
    }

    public void HandleTimeout(TimeSpan now)
    {
        if (State is PeerConnectionState.Closed or PeerConnectionState.Failed) return;
        if (State == PeerConnectionState.New && _controlling is not null) return; // see NextTimeout
        _lastInput = now;
        if (State == PeerConnectionState.Connected && _dataChannels is { NextTimeout: { } due } transport && due <= now)
            transport.HandleTimeout(now);
        if (State != PeerConnectionState.Connected && _connectDeadline is { } deadline && now >= deadline)
        {
            Fail(State == PeerConnectionState.Connecting ? PeerFailure.Dtls : PeerFailure.Ice,
                $"not connected within {_options.ConnectTimeout.TotalSeconds:0} s ({(State == PeerConnectionState.Connecting ? "DTLS handshake" : "no ICE connectivity check succeeded")})");
            return;
        }
        if (_lite is not null)
        {
            _lite.HandleTimeout(now);
            if (_lite.IsConsentExpired(now)) Fail(PeerFailure.Ice, "ICE consent expired (RFC 7675): no checks from the peer");
            return;
        }
        if (_controlling is not null)
        {
            _controlling.HandleTimeout(now);
            AfterControllingProgress(now);
        }
    }

    private void AfterControllingProgress(TimeSpan now)
    {
        var agent = _controlling!;
        Span<byte> buffer = stackalloc byte[StunResponseCapacity];
        while (agent.TryPollTransmit(buffer, out var length, out var remote))
        {
            if (remote is not null && PathFor(remote) is { } path) path.Send(buffer[..length]);
        }
        if (agent.ConsentLost)
        {
            Fail(PeerFailure.Ice, "ICE consent lost (RFC 7675): no responses from the peer");
            return;
        }
        if (agent.State == IceConnectionState.Failed)
        {
            Fail(PeerFailure.Ice, "ICE failed: no candidate pair succeeded");
            return;
        }
        if (agent.SelectedRemote is { } selected && (_selectedPath is null || !IsPathTo(_selectedPath, selected)))
        {
            if (PathFor(selected) is { } path) SelectPath(path);
        }
    }

    private IPacketPath? PathFor(SocketAddress remote)
    {
        if (_controllingPath is IUdpPacketPath udp && udp.Address.Equals(remote)) return _controllingPath;
        _controllingPath = _pathFactory?.Invoke(remote);
        return _controllingPath;
    }

    /// <summary>A nomination from the selected remote to another of our addresses is another pair: media follows it.</summary>
    private static bool IsOtherLocal(IPacketPath path, IPacketPath selected) =>
        path is IUdpPacketPath udp && selected is IUdpPacketPath current && !ReferenceEquals(udp, current) && !udp.IsSamePair(current);

    private static bool IsPathTo(IPacketPath path, SocketAddress remote) => path is IUdpPacketPath udp && udp.Address.Equals(remote);

    private void SelectPath(IPacketPath path)
    {
        _selectedPath = path;
        _handler.OnPathSelected(this, path);
        if (State == PeerConnectionState.Checking || State == PeerConnectionState.New)
        {
            State = PeerConnectionState.Connecting;
            StartDtls();
        }
    }

    private void StartDtls()
    {
        // Application data is delivered on this loop only, never on the handshake pool (see OnApplicationData).
        var dtls = new DtlsSession(_dtlsRole, _options.Certificate, _remoteFingerprint, SendDtls, _options.HandshakeScheduler, _options.Dtls)
        {
            DeferEarlyApplicationData = true,
        };
        dtls.ApplicationDataReceived += OnApplicationData;
        _dtls = dtls;
        dtls.Closed += (_, reason) => _dispatch(() =>
        {
            if (reason != DtlsCloseReason.LocalClose) Close($"DTLS closed by the peer ({reason})");
        });
        dtls.Start().ContinueWith(task => _dispatch(() => OnHandshakeDone(dtls, task.Result)), TaskScheduler.Default);
    }

    private void SendDtls(ReadOnlySpan<byte> datagram) => _selectedPath?.Send(datagram);

    private void OnHandshakeDone(DtlsSession dtls, DtlsHandshakeResult result)
    {
        if (!ReferenceEquals(dtls, _dtls) || State is PeerConnectionState.Closed or PeerConnectionState.Failed) return;
        if (!result.Success)
        {
            Fail(PeerFailure.Dtls, $"DTLS handshake failed: {result.FailureReason}: {result.FailureMessage}");
            return;
        }
        if (!Srtp.SrtpProfiles.TryFromDtlsProfileId((ushort)result.SrtpProfile, out var profile))
        {
            Fail(PeerFailure.Dtls, $"DTLS negotiated an SRTP profile this stack cannot use (0x{result.SrtpProfile:x4})");
            return;
        }
        // RFC 5764 §4.2: the exporter output splits into client and server write keys and salts.
        _srtp = SrtpSession.FromDtlsExporter(profile, result.KeyingMaterial, result.Role == DtlsRole.Client);
        State = PeerConnectionState.Connected;
        _handler.OnConnected(this);
        if (State != PeerConnectionState.Connected) return; // the handler closed it
        StartDataChannels(dtls);
        // Records that arrived while the handshake finished (a browser's first SCTP INIT often does) are decrypted here.
        dtls.ReceivePending();
    }

    /// <summary>Encrypts RTP in place (<paramref name="buffer"/> needs <see cref="MaxSrtpOverhead"/> spare bytes after
    /// the packet) and sends it on the selected path. False when not connected or the packet is unusable.</summary>
    public bool SendRtp(Span<byte> buffer, int length)
    {
        var srtp = _srtp;
        var path = _selectedPath;
        // Nothing goes out once closed or failed (the keys outlive Close until Dispose).
        if (State != PeerConnectionState.Connected || srtp is null || path is null
            || !srtp.Protector.TryProtectRtp(buffer, length, out var protectedLength)) return false;
        return path.Send(buffer[..protectedLength]);
    }

    /// <summary>Encrypts an RTCP compound packet in place (SRTCP) and sends it; as <see cref="SendRtp"/>.</summary>
    public bool SendRtcp(Span<byte> buffer, int length)
    {
        var srtp = _srtp;
        var path = _selectedPath;
        // Nothing goes out once closed or failed (the keys outlive Close until Dispose).
        if (State != PeerConnectionState.Connected || srtp is null || path is null
            || !srtp.Protector.TryProtectRtcp(buffer, length, out var protectedLength)) return false;
        return path.Send(buffer[..protectedLength]);
    }

    /// <summary>Closes the connection (sends DTLS close_notify when connected) and tells the handler once.</summary>
    public void Close(string reason) => Finish(PeerConnectionState.Closed, reason);

    private void Fail(PeerFailure failure, string reason)
    {
        if (State is PeerConnectionState.Closed or PeerConnectionState.Failed) return;
        Failure = failure;
        Finish(PeerConnectionState.Failed, reason);
    }

    private void Finish(PeerConnectionState state, string reason)
    {
        if (State is PeerConnectionState.Closed or PeerConnectionState.Failed) return;
        // The association goes with the DTLS connection: abort it while DTLS can still carry the ABORT.
        _dataChannels?.Abort(reason, _lastInput);
        State = state;
        CloseReason = reason;
        _lite?.Close();
        _controlling?.Close();
        _dtls?.Close();
        _handler.OnClosed(this, reason);
    }

    public void Dispose()
    {
        if (State is not (PeerConnectionState.Closed or PeerConnectionState.Failed)) Close("disposed");
        _dtls?.Dispose();
        _srtp?.Dispose();
    }
}
