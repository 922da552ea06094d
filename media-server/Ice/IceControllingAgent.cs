using System.Net;
using System.Net.Sockets;
using System.Text;
using TeleRehab.Media.Stun;

namespace TeleRehab.Media.Ice;

/// <summary>Tunables of <see cref="IceControllingAgent"/>; defaults follow the RFCs.</summary>
public sealed class IceControllingOptions
{
    /// <summary>Pacing of new checks (RFC 8445 §14.2: Ta, default 50 ms).</summary>
    public TimeSpan Ta { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>Lower bound of the initial RTO (RFC 8445 §14.3: RTO = MAX(500ms, Ta * (Num-Waiting + Num-In-Progress))).</summary>
    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Rc, the number of transmissions of a request (RFC 8489 §6.2.1, default 7).</summary>
    public int MaxTransmissions { get; init; } = 7;
    /// <summary>Rm: after the last transmission wait Rm * RTO for a response (RFC 8489 §6.2.1, default 16).</summary>
    public int FinalTimeoutMultiplier { get; init; } = 16;
    /// <summary>
    /// Aggressive nomination (USE-CANDIDATE on every check; fine against an ICE lite peer). When false, RFC 8445
    /// §8.1.1 regular nomination: the first valid pair is re-checked with USE-CANDIDATE.
    /// </summary>
    public bool AggressiveNomination { get; init; } = true;
    /// <summary>Mean interval of consent checks (RFC 7675 §5.1: 5 s, randomized by 0.8-1.2).</summary>
    public TimeSpan ConsentInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Consent is lost after this long without a response (RFC 7675 §5.1: 30 s).</summary>
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Which remote candidates are checked. For TCP, only passive/so candidates (we are the active side).</summary>
    public IceTransport Transport { get; init; } = IceTransport.Udp;
    /// <summary>PRIORITY sent in checks (RFC 8445 §7.1.1: as a peer-reflexive candidate of our local candidate).</summary>
    public uint LocalPriority { get; init; } = IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, 65535, 1);
    /// <summary>Randomness for consent jitter (injectable for tests).</summary>
    public Random Random { get; init; } = Random.Shared;
}

/// <summary>
/// Client-side, full ICE agent in the controlling role (RFC 8445) for one component and one local socket.
/// Sans-I/O: call <see cref="HandleTimeout"/> at <see cref="NextTimeout"/>, feed responses to
/// <see cref="HandleResponse(ReadOnlySpan{byte}, SocketAddress, TimeSpan)"/>, and after each call drain
/// <see cref="TryPollTransmit"/> and send each datagram to the returned address.
/// </summary>
public sealed class IceControllingAgent : IDisposable
{
    private enum PairState { Waiting, InProgress, Succeeded, Failed }

    private sealed class CandidatePair(IceCandidate remote, SocketAddress address, ulong priority)
    {
        public IceCandidate Remote { get; } = remote;
        public SocketAddress Address { get; } = address;
        public ulong Priority { get; } = priority;
        public PairState State { get; set; } = PairState.Waiting;
    }

    private sealed class Transaction
    {
        public StunTransactionId Id;
        public required CandidatePair Pair;
        public bool UseCandidate;
        public bool IsConsent;
        public int Transmissions;
        public TimeSpan Interval;
        public TimeSpan NextAt;
        public bool Done;
    }

    private const int MaxConsentTransactions = 8;

    private readonly IceControllingOptions _options;
    private readonly byte[] _username;
    private readonly StunIntegrityKey _remoteKey;
    private readonly List<CandidatePair> _pairs = [];
    private readonly List<Transaction> _transactions = [];
    private readonly Queue<Transaction> _outgoing = new();
    private CandidatePair? _selected;
    private bool _nominating;
    private TimeSpan _nextCheckAt;
    private TimeSpan _nextConsentAt;
    private TimeSpan _lastConsentResponse;

    public IceControllingAgent(IceCredentials localCredentials, IceCredentials remoteCredentials, IceControllingOptions? options = null, ulong? tieBreaker = null)
    {
        LocalCredentials = localCredentials ?? throw new ArgumentNullException(nameof(localCredentials));
        RemoteCredentials = remoteCredentials ?? throw new ArgumentNullException(nameof(remoteCredentials));
        _options = options ?? new IceControllingOptions();
        TieBreaker = tieBreaker ?? IceTieBreaker.NewRandom();
        _remoteKey = new StunIntegrityKey(remoteCredentials.PasswordBytes);
        // RFC 8445 §7.2.2: USERNAME = remote ufrag ":" local ufrag.
        _username = Encoding.ASCII.GetBytes(remoteCredentials.Ufrag + ":" + localCredentials.Ufrag);
    }

    public IceCredentials LocalCredentials { get; }
    public IceCredentials RemoteCredentials { get; }
    public ulong TieBreaker { get; }
    public IceConnectionState State { get; private set; } = IceConnectionState.New;

    /// <summary>The selected (nominated and valid) pair's remote address, usable with Socket.SendTo.</summary>
    public SocketAddress? SelectedRemote => _selected?.Address;
    public IPEndPoint? SelectedRemoteEndPoint => _selected?.Remote.EndPoint;
    public IceCandidate? SelectedCandidate => _selected?.Remote;

    /// <summary>Our address as seen by the peer (XOR-MAPPED-ADDRESS of the last successful check).</summary>
    public IPEndPoint? MappedAddress { get; private set; }

    /// <summary>Set when the peer answered 487 (role conflict); this agent only supports the controlling role.</summary>
    public bool RoleConflictDetected { get; private set; }

    /// <summary>True when the state became Failed because consent expired (RFC 7675), not because checks failed.</summary>
    public bool ConsentLost { get; private set; }

    public int RemoteCandidateCount => _pairs.Count;

    /// <summary>
    /// Adds a remote candidate (trickle is fine). Returns false when it cannot be checked: other transport,
    /// other component, an unresolved FQDN/mDNS address, a TCP active candidate, or a duplicate.
    /// </summary>
    public bool AddRemoteCandidate(IceCandidate candidate)
    {
        if (State is IceConnectionState.Closed || candidate.Component != 1 || candidate.Transport != _options.Transport) return false;
        if (candidate.Transport == IceTransport.Tcp && candidate.TcpType is not (IceTcpType.Passive or IceTcpType.SimultaneousOpen)) return false;
        if (candidate.EndPoint is not { } endPoint || endPoint.Port == 0) return false;
        SocketAddress address = endPoint.Serialize();
        foreach (var p in _pairs)
            if (SocketAddressHelper.AddressEquals(p.Address, address)) return false;

        // RFC 8445 §6.1.2.3: pair priority = 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0); G is ours (controlling).
        ulong g = _options.LocalPriority, d = candidate.Priority;
        ulong priority = (Math.Min(g, d) << 32) + 2 * Math.Max(g, d) + (g > d ? 1UL : 0UL);
        var pair = new CandidatePair(candidate, address, priority);
        int index = _pairs.FindIndex(p => p.Priority < priority);
        _pairs.Insert(index < 0 ? _pairs.Count : index, pair);
        if (State == IceConnectionState.Failed && !ConsentLost && _selected is null) State = IceConnectionState.Checking;
        return true;
    }

    public void Close()
    {
        State = IceConnectionState.Closed;
        _outgoing.Clear();
        _transactions.Clear();
        _remoteKey.Dispose();
    }

    public void Dispose() => Close();

    /// <summary>When <see cref="HandleTimeout"/> must next be called, or null if nothing is scheduled.</summary>
    public TimeSpan? NextTimeout
    {
        get
        {
            switch (State)
            {
                case IceConnectionState.New:
                    return _pairs.Count > 0 ? TimeSpan.Zero : null;
                case IceConnectionState.Checking:
                {
                    TimeSpan? next = null;
                    if (_pairs.Exists(p => p.State == PairState.Waiting)) next = _nextCheckAt;
                    foreach (var t in _transactions)
                        if (!t.Done && !t.IsConsent && (next is null || t.NextAt < next)) next = t.NextAt;
                    return next;
                }
                case IceConnectionState.Connected:
                {
                    TimeSpan expiry = _lastConsentResponse + _options.ConsentTimeout;
                    return _nextConsentAt < expiry ? _nextConsentAt : expiry;
                }
                default:
                    return null;
            }
        }
    }

    public void HandleTimeout(TimeSpan now)
    {
        switch (State)
        {
            case IceConnectionState.New:
                if (_pairs.Count == 0) return;
                State = IceConnectionState.Checking;
                _nextCheckAt = now;
                goto case IceConnectionState.Checking;
            case IceConnectionState.Checking:
                RunTransactionTimers(now);
                if (now >= _nextCheckAt && State == IceConnectionState.Checking)
                {
                    // RFC 8445 §6.1.4.2: one new check per Ta, highest-priority Waiting pair first.
                    var pair = _pairs.Find(p => p.State == PairState.Waiting);
                    if (pair is not null)
                    {
                        StartCheck(pair, _options.AggressiveNomination, now);
                        _nextCheckAt = now + _options.Ta;
                    }
                }
                UpdateFailure();
                break;
            case IceConnectionState.Connected:
                if (now - _lastConsentResponse >= _options.ConsentTimeout)
                {
                    // RFC 7675 §5.1: consent expired; stop sending on the pair.
                    ConsentLost = true;
                    State = IceConnectionState.Failed;
                    _outgoing.Clear();
                    _transactions.Clear();
                    return;
                }
                RunTransactionTimers(now); // retransmissions of a late nomination are not needed once connected
                if (now >= _nextConsentAt)
                {
                    StartConsentCheck();
                    _nextConsentAt = now + NextConsentInterval();
                }
                break;
        }
    }

    /// <inheritdoc cref="HandleResponse(ReadOnlySpan{byte}, SocketAddress, TimeSpan)"/>
    public bool HandleResponse(ReadOnlySpan<byte> datagram, IPEndPoint remote, TimeSpan now) =>
        HandleResponse(datagram, remote.Serialize(), now);

    /// <summary>
    /// Processes a datagram that may be a response to one of our checks. Returns true if it matched an outstanding
    /// transaction and was authenticated (RFC 8445 §7.2.5); anything else is ignored and returns false.
    /// </summary>
    public bool HandleResponse(ReadOnlySpan<byte> datagram, SocketAddress remote, TimeSpan now)
    {
        if (State == IceConnectionState.Closed || ConsentLost) return false;
        if (!StunMessage.TryParse(datagram, out var message)) return false;
        var type = message.MessageType;
        if (type.Method != StunMethod.Binding || type.Class is not (StunClass.SuccessResponse or StunClass.ErrorResponse)) return false;
        if (!StunMessage.VerifyFingerprint(message)) return false;
        var id = message.TransactionId;
        Transaction? tx = null;
        foreach (var t in _transactions)
            if (!t.Done && t.Id == id) { tx = t; break; }
        if (tx is null) return false;
        // RFC 8489 §9.1.5: over UDP a response without a valid MESSAGE-INTEGRITY is discarded as if never received.
        if (!StunMessage.VerifyMessageIntegrity(message, _remoteKey)) return false;

        tx.Done = true;
        _transactions.Remove(tx);
        var pair = tx.Pair;

        // RFC 8445 §7.2.5.2.1: the response must come from where the request was sent.
        bool symmetric = SocketAddressHelper.AddressEquals(pair.Address, remote);
        if (type.Class == StunClass.ErrorResponse || !symmetric)
        {
            if (message.TryGetErrorCode(out int code, out _) && code == StunErrorCodes.RoleConflict) RoleConflictDetected = true;
            if (!tx.IsConsent)
            {
                pair.State = PairState.Failed;
                if (tx.UseCandidate) _nominating = false;
                UpdateFailure();
            }
            return true;
        }

        if (tx.IsConsent)
        {
            if (pair == _selected) _lastConsentResponse = now;
            return true;
        }

        if (message.TryGetXorMappedAddress(out IPEndPoint? mapped)) MappedAddress = mapped;
        pair.State = PairState.Succeeded;
        if (State != IceConnectionState.Checking) return true;
        if (tx.UseCandidate)
        {
            // Nominated and valid: select it (RFC 8445 §8.1.1) and stop the remaining checks.
            _selected = pair;
            State = IceConnectionState.Connected;
            _nominating = false;
            foreach (var t in _transactions) t.Done = true;
            _transactions.Clear();
            _outgoing.Clear();
            _lastConsentResponse = now;
            _nextConsentAt = now + NextConsentInterval();
        }
        else if (!_nominating)
        {
            // Regular nomination: repeat the check on this valid pair with USE-CANDIDATE, as a triggered check.
            _nominating = true;
            StartCheck(pair, useCandidate: true, now);
        }
        return true;
    }

    /// <summary>
    /// Writes the next datagram to send, if any, and the address to send it to. The buffer should hold 1500 bytes
    /// (a check is under 150).
    /// </summary>
    public bool TryPollTransmit(Span<byte> buffer, out int length, out SocketAddress? remote)
    {
        while (_outgoing.TryDequeue(out var tx))
        {
            if (tx.Done) continue;
            var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, tx.Id);
            writer.AddUsername(_username);
            writer.AddPriority(_options.LocalPriority);
            writer.AddIceControlling(TieBreaker);
            if (tx.UseCandidate) writer.AddUseCandidate();
            length = writer.Complete(_remoteKey);
            remote = tx.Pair.Address;
            return true;
        }
        length = 0;
        remote = null;
        return false;
    }

    private void StartCheck(CandidatePair pair, bool useCandidate, TimeSpan now)
    {
        int active = 0;
        foreach (var p in _pairs)
            if (p.State is PairState.Waiting or PairState.InProgress) active++;
        TimeSpan rto = _options.Ta * active;
        if (rto < _options.MinRto) rto = _options.MinRto;
        pair.State = PairState.InProgress;
        var tx = new Transaction
        {
            Id = StunTransactionId.NewRandom(),
            Pair = pair,
            UseCandidate = useCandidate,
            Transmissions = 1,
            Interval = rto,
            NextAt = now + rto,
        };
        _transactions.Add(tx);
        _outgoing.Enqueue(tx);
    }

    private void StartConsentCheck()
    {
        // RFC 7675 §5.1: each consent check is a new Binding request; older ones stay matchable for a while
        // (a late response still proves consent), so no retransmission is needed between 5 s checks.
        int consent = 0;
        for (int i = _transactions.Count - 1; i >= 0; i--)
        {
            if (!_transactions[i].IsConsent) continue;
            if (++consent >= MaxConsentTransactions) _transactions.RemoveAt(i);
        }
        var tx = new Transaction
        {
            Id = StunTransactionId.NewRandom(),
            Pair = _selected!,
            IsConsent = true,
            Transmissions = 1,
            Interval = TimeSpan.MaxValue,
            NextAt = TimeSpan.MaxValue,
        };
        _transactions.Add(tx);
        _outgoing.Enqueue(tx);
    }

    private void RunTransactionTimers(TimeSpan now)
    {
        for (int i = _transactions.Count - 1; i >= 0; i--)
        {
            var t = _transactions[i];
            if (t.IsConsent || t.Done || now < t.NextAt) continue;
            if (t.Transmissions < _options.MaxTransmissions)
            {
                // RFC 8489 §6.2.1: retransmit after RTO, 2*RTO, 4*RTO, ...
                t.Transmissions++;
                _outgoing.Enqueue(t);
                if (t.Transmissions < _options.MaxTransmissions)
                {
                    t.Interval *= 2;
                    t.NextAt += t.Interval;
                }
                else
                {
                    // After the last transmission wait Rm * RTO (the initial RTO).
                    TimeSpan rto = t.Interval / (1 << Math.Max(0, t.Transmissions - 2));
                    t.NextAt += rto * _options.FinalTimeoutMultiplier;
                }
            }
            else
            {
                t.Done = true;
                _transactions.RemoveAt(i);
                t.Pair.State = PairState.Failed;
                if (t.UseCandidate) _nominating = false;
            }
        }
    }

    private void UpdateFailure()
    {
        if (State != IceConnectionState.Checking || _selected is not null || _nominating) return;
        foreach (var p in _pairs)
            if (p.State is not PairState.Failed) return;
        if (_pairs.Count > 0) State = IceConnectionState.Failed;
    }

    private TimeSpan NextConsentInterval() =>
        _options.ConsentInterval * (0.8 + 0.4 * _options.Random.NextDouble());
}
