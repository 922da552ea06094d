using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Stun;

namespace TeleRehab.Media.Ice;

/// <summary>What <see cref="IceLiteAgent.HandleBindingRequest"/> did with a datagram.</summary>
public enum IceRequestOutcome
{
    /// <summary>Silently discarded (not a STUN Binding request, malformed, or bad FINGERPRINT): send nothing.</summary>
    Discarded,
    /// <summary>A Binding error response (400, 401, 420 or 487) was written: send it back to the source.</summary>
    ErrorResponse,
    /// <summary>A Binding success response was written: send it back to the source.</summary>
    SuccessResponse,
}

/// <summary>Result of handling one incoming request.</summary>
public readonly record struct IceRequestResult(IceRequestOutcome Outcome, int ResponseLength, int ErrorCode, bool SelectedRemoteChanged)
{
    public bool HasResponse => Outcome != IceRequestOutcome.Discarded;

    /// <summary>The request carried USE-CANDIDATE and nominated the pair it came on (RFC 8445 §7.3.1.5). The agent
    /// knows remote addresses only: a host with several local addresses compares the pair's local side itself.</summary>
    public bool Nominated { get; init; }

    /// <summary>The local credentials an ICE restart replaced, which this request retired: it was the first valid check
    /// with the new ones, so checks with the old ones are refused from now on (the host forgets their ufrag). Null
    /// otherwise.</summary>
    public IceCredentials? RetiredLocalCredentials { get; init; }
}

/// <summary>
/// Server-side ICE lite agent (RFC 8445 §2.5): always controlled, answers connectivity checks, records the
/// nominated pair (USE-CANDIDATE) and tracks consent freshness (RFC 7675). Sans-I/O and single-threaded: the host
/// feeds datagrams and time; nothing here allocates on the per-check path except a copy of a newly nominated address.
/// </summary>
public sealed class IceLiteAgent : IDisposable
{
    private StunIntegrityKey _localKey;
    /// <summary>The key of the credentials an ICE restart replaced, while they are still accepted; null otherwise.</summary>
    private StunIntegrityKey? _previousKey;
    /// <summary>What checks are accepted with, swapped whole so that <see cref="IsAuthenticCheck"/> (any thread) never
    /// sees half a restart.</summary>
    private volatile CredentialSet _credentials;
    private SocketAddress? _selected;
    private IPEndPoint? _selectedEndPoint;
    private TimeSpan? _lastConsent;

    public IceLiteAgent(IceCredentials localCredentials, IceCredentials? remoteCredentials = null, ulong? tieBreaker = null)
    {
        ArgumentNullException.ThrowIfNull(localCredentials);
        _credentials = new CredentialSet(localCredentials, remoteCredentials, null, null);
        _localKey = new StunIntegrityKey(localCredentials.PasswordBytes);
        TieBreaker = tieBreaker ?? IceTieBreaker.NewRandom();
    }

    /// <summary>The credentials this agent gives now (in its SDP answer); they change with an ICE restart.</summary>
    public IceCredentials LocalCredentials => _credentials.Local;

    /// <summary>
    /// The peer's credentials from its SDP. When known, USERNAME must be exactly "localUfrag:remoteUfrag";
    /// when null, any remote part is accepted (the check is still authenticated by the local password).
    /// </summary>
    public IceCredentials? RemoteCredentials
    {
        get => _credentials.Remote;
        set => _credentials = _credentials with { Remote = value };
    }

    /// <summary>The local credentials an ICE restart replaced while checks with them (and the peer's credentials of
    /// then) are still accepted: until the first valid check with the new ones. Null otherwise.</summary>
    public IceCredentials? PreviousLocalCredentials => _credentials.PreviousLocal;

    /// <summary>
    /// An ICE restart (RFC 8445 §9; in SDP, a new ice-ufrag and ice-pwd, RFC 8839 §4.4.1.1.1): the peer's checks will
    /// carry <paramref name="remote"/>, and the agent's own credentials become <paramref name="local"/>, which go in the
    /// answer (JSEP, RFC 8829 §5.3.1: an answer to an offer that restarts ICE has a new ice-ufrag and ice-pwd; RFC 8445
    /// §9: both agents change them). The peer goes on checking with the old pair until it has applied that answer, so
    /// checks with the old local and remote credentials are still answered (and keep consent) until the first valid
    /// check with the new ones; from then on they are refused (401, RFC 8489 §9.1.3). The selected address and consent
    /// stay until a check with the new credentials nominates a pair (which may be on a new address). A second restart
    /// before any check with the first one's credentials keeps the pair that was in use before the first. No-op once
    /// closed or failed (a connection whose consent expired is gone).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="local"/>'s ufrag is one this agent accepts checks for now.</exception>
    public bool Restart(IceCredentials remote, IceCredentials local)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(local);
        if (State is IceConnectionState.Closed or IceConnectionState.Failed) return false;
        var current = _credentials;
        if (local.Ufrag == current.Local.Ufrag || local.Ufrag == current.PreviousLocal?.Ufrag)
            throw new ArgumentException("an ICE restart needs a new local ufrag (RFC 8445 §9)", nameof(local));
        var key = new StunIntegrityKey(local.PasswordBytes);
        if (current.PreviousLocal is null)
        {
            // The pair in use now stays valid until the new one proves itself.
            _previousKey = _localKey;
            _credentials = new CredentialSet(local, remote, current.Local, current.Remote);
        }
        else
        {
            // The last restart's credentials were never used: the pair before it is still the one in use.
            _localKey.Dispose();
            _credentials = current with { Local = local, Remote = remote };
        }
        _localKey = key;
        Restarts++;
        return true;
    }

    /// <summary>ICE restarts applied (<see cref="Restart"/>).</summary>
    public int Restarts { get; private set; }

    /// <summary>64-bit tie breaker (RFC 8445 §16.1), used for role-conflict resolution.</summary>
    public ulong TieBreaker { get; }

    /// <summary>Consent lifetime without a valid check (RFC 7675 §5.1: 30 seconds).</summary>
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public IceConnectionState State { get; private set; } = IceConnectionState.New;

    /// <summary>The nominated remote address (usable with Socket.SendTo); an agent-owned copy, never the caller's buffer.</summary>
    public SocketAddress? SelectedRemote => _selected;

    /// <summary>The nominated remote as an endpoint (cached; allocated once per nomination).</summary>
    public IPEndPoint? SelectedRemoteEndPoint => _selected is null ? null : _selectedEndPoint ??= SocketAddressHelper.ToEndPoint(_selected);

    /// <summary>Time of the last valid check from the selected remote (or from any remote before nomination).</summary>
    public TimeSpan? LastConsentTime => _lastConsent;

    /// <summary>When consent will expire, if it is being tracked and still fresh.</summary>
    public TimeSpan? NextTimeout => State is IceConnectionState.Failed or IceConnectionState.Closed || _lastConsent is null
        ? null
        : _lastConsent.Value + ConsentTimeout;

    /// <summary>RFC 7675 §5.1: consent expires when no valid check arrived for <see cref="ConsentTimeout"/>.</summary>
    public bool IsConsentExpired(TimeSpan now) =>
        State == IceConnectionState.Failed || (_lastConsent is { } last && now - last >= ConsentTimeout);

    /// <summary>Updates <see cref="State"/> (Failed once consent expired). Returns true if the state changed.</summary>
    public bool HandleTimeout(TimeSpan now)
    {
        if (State is IceConnectionState.Checking or IceConnectionState.Connected && IsConsentExpired(now))
        {
            State = IceConnectionState.Failed;
            return true;
        }
        return false;
    }

    public void Close()
    {
        State = IceConnectionState.Closed;
        _localKey.Dispose();
        _previousKey?.Dispose();
        _previousKey = null;
    }

    public void Dispose() => Close();

    /// <inheritdoc cref="HandleBindingRequest(ReadOnlySpan{byte}, SocketAddress, TimeSpan, Span{byte})"/>
    public IceRequestResult HandleBindingRequest(ReadOnlySpan<byte> request, IPEndPoint remote, TimeSpan now, Span<byte> response) =>
        HandleBindingRequest(request, remote.Serialize(), now, response);

    /// <summary>
    /// Processes a datagram that may be a Binding request from <paramref name="remote"/> and writes the response, if
    /// any, into <paramref name="response"/> (1500 bytes is always enough). The remote may be the host's reused receive
    /// buffer: the agent copies it when it becomes the selected address.
    /// </summary>
    public IceRequestResult HandleBindingRequest(ReadOnlySpan<byte> request, SocketAddress remote, TimeSpan now, Span<byte> response)
    {
        if (State == IceConnectionState.Closed) return default;
        if (!StunMessage.TryParse(request, out var message)) return default;
        if (message.MessageType != StunMessageType.BindingRequest) return default;
        // RFC 8445 §7.3 / RFC 8489 §14.7: checks carry FINGERPRINT; a wrong one means "not STUN", so discard.
        if (!StunMessage.VerifyFingerprint(message)) return default;

        // RFC 8489 §9.1.3: no USERNAME or no MESSAGE-INTEGRITY -> 400 (sent without MESSAGE-INTEGRITY).
        if (!message.TryGetUsername(out var username) || !message.HasMessageIntegrity)
            return WriteError(message, response, StunErrorCodes.BadRequest, authenticated: false);

        // RFC 8445 §7.3 / RFC 8839 §5.4: USERNAME = "<our ufrag>:<their ufrag>"; unknown -> 401 (RFC 8489 §9.1.3).
        // After an ICE restart the pair before it is valid too, until the first valid check with the new one.
        var credentials = _credentials;
        StunIntegrityKey key;
        bool current;
        if (IsValidUsername(username, credentials.Local, credentials.Remote))
        {
            key = _localKey;
            current = true;
        }
        else if (credentials.PreviousLocal is { } previous && IsValidUsername(username, previous, credentials.PreviousRemote))
        {
            key = _previousKey!;
            current = false;
        }
        else
        {
            return WriteError(message, response, StunErrorCodes.Unauthorized, authenticated: false);
        }
        if (!StunMessage.VerifyMessageIntegrity(message, key))
            return WriteError(message, response, StunErrorCodes.Unauthorized, authenticated: false);

        // RFC 8489 §6.3.1: unknown comprehension-required attributes -> 420 listing them (authenticated response).
        Span<byte> unknown = stackalloc byte[2 * MaxUnknownListed];
        int unknownCount = 0;
        foreach (var attribute in message)
        {
            if (attribute.Type == StunAttributeType.MessageIntegrity) break; // later ones are ignored (§14.5)
            if (attribute.IsComprehensionRequired && !IsKnown(attribute.Type) && unknownCount < MaxUnknownListed)
            {
                unknown[2 * unknownCount] = (byte)((ushort)attribute.Type >> 8);
                unknown[2 * unknownCount + 1] = (byte)attribute.Type;
                unknownCount++;
            }
        }
        if (unknownCount > 0)
        {
            var errorWriter = new StunMessageWriter(response, StunMessageType.BindingError, message.TransactionIdBytes);
            errorWriter.AddErrorCode(StunErrorCodes.UnknownAttribute);
            errorWriter.AddAttribute(StunAttributeType.UnknownAttributes, unknown[..(2 * unknownCount)]);
            return new IceRequestResult(IceRequestOutcome.ErrorResponse, errorWriter.Complete(key), StunErrorCodes.UnknownAttribute, false);
        }

        // RFC 8445 §7.3.1.1: we are controlled. A peer that also claims controlled is in conflict; an ICE lite agent
        // cannot take the controlling role (§6.1.1), so it always answers 487 and the full peer switches to controlling.
        if (message.TryGetIceControlled(out _))
            return WriteError(message, response, StunErrorCodes.RoleConflict, authenticated: true, key);

        bool changed = false;
        bool nominated = false;
        if (message.HasUseCandidate && State != IceConnectionState.Failed)
        {
            nominated = true;
            // RFC 8445 §7.3.1.5: the controlled agent selects the nominated pair; a newer nomination replaces it.
            if (_selected is null || !SocketAddressHelper.AddressEquals(_selected, remote))
            {
                _selected = SocketAddressHelper.Clone(remote);
                _selectedEndPoint = null;
                changed = true;
            }
            State = IceConnectionState.Connected;
        }
        else if (State == IceConnectionState.New)
        {
            State = IceConnectionState.Checking;
        }

        // RFC 7675: a valid check from the selected pair's remote refreshes consent.
        if (State != IceConnectionState.Failed && (_selected is null || SocketAddressHelper.AddressEquals(_selected, remote)))
            _lastConsent = now;

        var writer = new StunMessageWriter(response, StunMessageType.BindingSuccess, message.TransactionIdBytes);
        writer.AddXorMappedAddress(remote);
        int length = writer.Complete(key);
        // The first check that succeeds with a restart's credentials ends the old ones (the peer has the answer).
        var retired = current ? RetirePrevious(credentials) : null;
        return new IceRequestResult(IceRequestOutcome.SuccessResponse, length, 0, changed) { Nominated = nominated, RetiredLocalCredentials = retired };
    }

    /// <summary>
    /// True when <paramref name="request"/> is a Binding request this agent would accept as authentic: a valid
    /// FINGERPRINT, USERNAME "localUfrag:remoteUfrag" and MESSAGE-INTEGRITY keyed with the local password (short-term
    /// credential, RFC 8445 §7.2.2, RFC 8489 §9.1.3). Changes nothing and sends nothing. Unlike the rest of the agent
    /// it may be called from any thread (a host authenticates a new connection before it hands it to the agent's
    /// loop): it reads only the immutable credentials and uses a one-shot HMAC, not the agent's reusable key.
    /// </summary>
    public bool IsAuthenticCheck(ReadOnlySpan<byte> request)
    {
        if (State == IceConnectionState.Closed) return false;
        if (!StunMessage.TryParse(request, out var message)) return false;
        if (message.MessageType != StunMessageType.BindingRequest) return false;
        if (!StunMessage.VerifyFingerprint(message)) return false;
        if (!message.TryGetUsername(out var username)) return false;
        var credentials = _credentials;
        if (IsValidUsername(username, credentials.Local, credentials.Remote))
            return StunMessage.VerifyMessageIntegrity(message, credentials.Local.PasswordBytes);
        return credentials.PreviousLocal is { } previous && IsValidUsername(username, previous, credentials.PreviousRemote)
            && StunMessage.VerifyMessageIntegrity(message, previous.PasswordBytes);
    }

    /// <summary>Stops accepting the credentials a restart replaced; returns them (null when there were none).</summary>
    private IceCredentials? RetirePrevious(CredentialSet credentials)
    {
        if (credentials.PreviousLocal is not { } previous) return null;
        _credentials = credentials with { PreviousLocal = null, PreviousRemote = null };
        _previousKey?.Dispose();
        _previousKey = null;
        return previous;
    }

    private const int MaxUnknownListed = 16;

    private static bool IsKnown(StunAttributeType type) => type is StunAttributeType.MappedAddress
        or StunAttributeType.Username or StunAttributeType.MessageIntegrity or StunAttributeType.ErrorCode
        or StunAttributeType.UnknownAttributes or StunAttributeType.Realm or StunAttributeType.Nonce
        or StunAttributeType.XorMappedAddress or StunAttributeType.Priority or StunAttributeType.UseCandidate;

    private static bool IsValidUsername(ReadOnlySpan<byte> username, IceCredentials localCredentials, IceCredentials? remoteCredentials)
    {
        ReadOnlySpan<byte> local = localCredentials.UfragBytes;
        if (username.Length <= local.Length || !username.StartsWith(local) || username[local.Length] != (byte)':') return false;
        ReadOnlySpan<byte> remotePart = username[(local.Length + 1)..];
        return remoteCredentials is { } rc ? remotePart.SequenceEqual(rc.UfragBytes) : !remotePart.IsEmpty;
    }

    private static IceRequestResult WriteError(in StunMessageReader request, Span<byte> response, int code, bool authenticated,
        StunIntegrityKey? key = null)
    {
        var writer = new StunMessageWriter(response, StunMessageType.BindingError, request.TransactionIdBytes);
        writer.AddErrorCode(code);
        // RFC 8489 §9.1.4: responses to authenticated requests carry MESSAGE-INTEGRITY; 400/401 cannot (§9.1.3).
        int length = authenticated ? writer.Complete(key!) : writer.CompleteWithoutIntegrity();
        return new IceRequestResult(IceRequestOutcome.ErrorResponse, length, code, false);
    }

    /// <summary>The credentials checks are accepted with: the current local and remote pair, and while a restart waits
    /// for its first valid check, the pair before it.</summary>
    private sealed record CredentialSet(IceCredentials Local, IceCredentials? Remote, IceCredentials? PreviousLocal, IceCredentials? PreviousRemote);
}
