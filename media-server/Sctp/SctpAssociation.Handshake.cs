using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// Association set-up (RFC 9260 §5): INIT / INIT ACK with a signed State Cookie the responder keeps no
/// state for, COOKIE ECHO / COOKIE ACK, T1-init and T1-cookie, and the collision cases of §5.2.
/// </summary>
public sealed partial class SctpAssociation
{

    private void InitLocal(uint initialTsn)
    {
        _localInitialTsn = initialTsn;
        _nextTsn = initialTsn;
        _cumAck = (long)initialTsn - 1;
        _advancedPeerAckPoint = _cumAck;
        _nextReconfigRequestSeq = initialTsn; // RFC 6525 §5.1.1: starts at the initial TSN
    }

    private void SetupPeer(uint peerInitialTsn, uint peerRwnd, ushort peerOutbound, ushort peerInbound, bool forwardTsn, bool reConfig)
    {
        _peerCumTsn = (long)peerInitialTsn - 1;
        _receivedAbove.Clear();
        _peerRwnd = peerRwnd;
        _ssthresh = (int)Math.Min(peerRwnd, int.MaxValue);
        _cwnd = Math.Min(4 * _mtu, Math.Max(2 * _mtu, 4380)); // §7.2.1
        _outboundStreams = Math.Min(_options.OutboundStreams, peerInbound);
        _inboundStreams = Math.Min(_options.InboundStreams, peerOutbound);
        _peerForwardTsn = forwardTsn;
        _peerReConfig = reConfig;
        _peerReconfigExpectedSeq = peerInitialTsn; // RFC 6525 §5.2.1
    }

    private void QueueInit()
    {
        var init = new Initiation(_localTag, (uint)_options.ReceiveWindow, _options.OutboundStreams, _options.InboundStreams,
            _localInitialTsn, SupportedExtensionTypes, forwardTsnSupported: true);
        QueueRawPacket(0, init);
    }

    private void HandleInit(SctpChunk chunk, TimeSpan now)
    {
        // RFC 9260 §5.1: zero tag or stream counts are answered with ABORT by the RFC; we drop them.
        if (!Initiation.TryParse(chunk, out var init) || init.InitiateTag == 0 || init.OutboundStreams == 0 || init.InboundStreams == 0)
        {
            Counters.ChunksDropped++;
            return;
        }
        uint localTag, localTsn;
        switch (State)
        {
            case SctpAssociationState.CookieWait:
            case SctpAssociationState.CookieEchoed:
                // §5.2.1: INIT collision: answer with the tag and TSN of our own INIT, so both cookies agree.
                localTag = _localTag;
                localTsn = _localInitialTsn;
                break;
            case SctpAssociationState.Closed:
                // Stateless responder (§5.1.3): the tag and TSN live only in the signed cookie.
                localTag = NonZeroRandom();
                localTsn = _options.InitialTsn ?? (uint)_random.NextInt64(0, 1L << 32);
                break;
            default:
                // §5.2.2: an INIT in an established association asks for a restart. We answer, but restart is
                // not supported: a COOKIE ECHO whose tags do not match ours is discarded (see HandleCookieEcho).
                localTag = NonZeroRandom();
                localTsn = (uint)_random.NextInt64(0, 1L << 32);
                break;
        }
        var cookie = new SctpStateCookie
        {
            LocalTag = localTag,
            PeerTag = init.InitiateTag,
            LocalInitialTsn = localTsn,
            PeerInitialTsn = init.InitialTsn,
            PeerReceiverWindow = init.AdvertisedReceiverWindowCredit,
            PeerOutboundStreams = init.OutboundStreams,
            PeerInboundStreams = init.InboundStreams,
            PeerForwardTsn = init.ForwardTsnSupported,
            PeerReConfig = init.SupportsExtension(SctpChunkType.ReConfig),
            Created = now,
        };
        Span<byte> cookieBytes = stackalloc byte[SctpStateCookie.Size];
        cookie.WriteTo(cookieBytes, _cookieSecret);
        var ack = new InitiationAcknowledgement(localTag, (uint)_options.ReceiveWindow, _options.OutboundStreams, _options.InboundStreams,
            localTsn, SupportedExtensionTypes, forwardTsnSupported: true, stateCookie: cookieBytes);
        QueueRawPacket(init.InitiateTag, ack);
    }

    private void HandleInitAck(SctpChunk chunk, TimeSpan now)
    {
        if (State != SctpAssociationState.CookieWait) // §5.2.3: discard in other states
        {
            Counters.ChunksDropped++;
            return;
        }
        if (!InitiationAcknowledgement.TryParse(chunk, out var ack) || ack.InitiateTag == 0 || ack.OutboundStreams == 0
            || ack.InboundStreams == 0 || !ack.HasStateCookie || ack.StateCookie.IsEmpty)
        {
            Counters.ChunksDropped++;
            return;
        }
        _peerTag = ack.InitiateTag;
        SetupPeer(ack.InitialTsn, ack.AdvertisedReceiverWindowCredit, ack.OutboundStreams, ack.InboundStreams,
            ack.ForwardTsnSupported, ack.SupportsExtension(SctpChunkType.ReConfig));
        _cookieEcho = ack.StateCookie.ToArray();
        QueueControl(new CookieEcho(_cookieEcho));
        State = SctpAssociationState.CookieEchoed;
        _initRetransmits = 0;
        _rto = _options.RtoInitial;
        _t1 = now + _rto; // T1-cookie
    }

    /// <summary>§5.1.5 and §5.2.4. Returns false when the packet is to be discarded.</summary>
    private bool HandleCookieEcho(SctpChunk chunk, uint tag, TimeSpan now)
    {
        if (!CookieEcho.TryParse(chunk, out var echo) || !SctpStateCookie.TryVerify(echo.Cookie, _cookieSecret, out var cookie))
        {
            Counters.InvalidCookies++; // §5.1.5 step 2: a bad MAC is silently discarded
            return false;
        }
        if (tag != cookie.LocalTag)
        {
            Counters.InvalidCookies++; // §5.1.5 step 3 and §8.5.1: the packet's tag is the one in the cookie
            return false;
        }
        var age = now - cookie.Created;
        if (age > _options.CookieLifetime || age < TimeSpan.Zero)
        {
            // §5.1.5 step 3: answer a stale cookie with ERROR "Stale Cookie" carrying the staleness in µs.
            Counters.StaleCookies++;
            Span<byte> staleness = stackalloc byte[4];
            long micros = Math.Clamp((long)((age - _options.CookieLifetime).TotalMicroseconds), 0, uint.MaxValue);
            BinaryPrimitives.WriteUInt32BigEndian(staleness, (uint)micros);
            Span<byte> cause = stackalloc byte[SctpTlv.GetSerializedLength(4)];
            new SctpErrorCause(SctpErrorCauseCode.StaleCookie, staleness).WriteTo(cause);
            QueueRawPacket(cookie.PeerTag, new OperationError(cause));
            return true;
        }
        switch (State)
        {
            case SctpAssociationState.Closed:
                _localTag = cookie.LocalTag;
                _peerTag = cookie.PeerTag;
                InitLocal(cookie.LocalInitialTsn);
                SetupPeer(cookie.PeerInitialTsn, cookie.PeerReceiverWindow, cookie.PeerOutboundStreams, cookie.PeerInboundStreams,
                    cookie.PeerForwardTsn, cookie.PeerReConfig);
                break;
            case SctpAssociationState.CookieWait:
            case SctpAssociationState.CookieEchoed:
                // §5.2.4 actions B and D: our tag matches (the cookie answers our INIT's collision), take the peer's.
                if (cookie.LocalTag != _localTag)
                {
                    Counters.ChunksDropped++;
                    return true;
                }
                _peerTag = cookie.PeerTag;
                SetupPeer(cookie.PeerInitialTsn, cookie.PeerReceiverWindow, cookie.PeerOutboundStreams, cookie.PeerInboundStreams,
                    cookie.PeerForwardTsn, cookie.PeerReConfig);
                break;
            default:
                // §5.2.4 action D: both tags match, a duplicate: just acknowledge again. Restart (action A) is not supported.
                if (cookie.LocalTag == _localTag && cookie.PeerTag == _peerTag) QueueControl(new CookieAcknowledgement());
                else Counters.ChunksDropped++;
                return true;
        }
        QueueControl(new CookieAcknowledgement());
        EnterEstablished(now);
        return true;
    }

    private void HandleCookieAck(SctpChunk chunk, TimeSpan now)
    {
        if (State != SctpAssociationState.CookieEchoed || !CookieAcknowledgement.TryParse(chunk, out _))
        {
            Counters.ChunksDropped++;
            return;
        }
        EnterEstablished(now);
    }

    private void EnterEstablished(TimeSpan now)
    {
        State = SctpAssociationState.Established;
        _t1 = null;
        _cookieEcho = null;
        _initRetransmits = 0;
        _errorCount = 0;
        _heartbeatTimer = now + _options.HeartbeatInterval + _rto;
        _events.Enqueue(new SctpConnected());
    }

    private void OnT1(TimeSpan now)
    {
        _initRetransmits++;
        if (_initRetransmits > _options.MaxInitRetransmits)
        {
            Terminate(State == SctpAssociationState.CookieWait ? "INIT not answered" : "COOKIE ECHO not answered", graceful: false);
            return;
        }
        _rto = Min(_rto * 2, _options.RtoMax);
        if (State == SctpAssociationState.CookieWait) QueueInit();
        else if (State == SctpAssociationState.CookieEchoed && _cookieEcho is not null) QueueControl(new CookieEcho(_cookieEcho));
        else
        {
            _t1 = null;
            return;
        }
        _t1 = now + _rto;
    }
}
