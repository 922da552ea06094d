using System.Buffers;
using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.WebRtc;

/// <summary>What a <see cref="WebRtcClient"/> sends: one audio and/or one video transceiver (neither: an observer that
/// only receives).</summary>
public sealed record WebRtcClientOptions
{
    public bool Audio { get; init; } = true;
    public bool Video { get; init; } = true;
    /// <summary>Offer a data channel section (<c>m=application .. UDP/DTLS/SCTP webrtc-datachannel</c>, RFC 8841) after
    /// the media sections; the answer's accepted section gives the connection its <see cref="DataChannelTransport"/>.</summary>
    public bool DataChannel { get; init; }
    /// <summary>Gets the data channel events (on the client's worker), set when the transport is made.</summary>
    public IDataChannelHandler? DataChannelHandler { get; init; }
    /// <summary>Codecs offered on every section; null offers the stack's defaults. Each section takes its own payload
    /// types from one dynamic range, so a client with many receive sections should offer one codec per kind.</summary>
    public IReadOnlyList<SdpCodecCapability>? Codecs { get; init; }
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Mean interval of the client's consent checks (RFC 7675 §5.1: 5 s).</summary>
    public TimeSpan ConsentInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>A receive-only section of a renegotiation offer: <paramref name="Active"/> false keeps the m-line
/// (m-lines are never removed or reordered, RFC 3264 §8) but offers it <c>inactive</c>.</summary>
public sealed record ReceiveSection(string Kind, string Mid, bool Active = true);

/// <summary>A decrypted RTP packet and the mid of the section its SSRC was negotiated on (null when the SSRC is not in
/// the latest answer, e.g. packets that overtook the answer).</summary>
public delegate void RtpWithMidHandler(ReadOnlySpan<byte> packet, string? mid);

/// <summary>A C# WebRTC endpoint for tests and the load generator: it offers (ICE controlling, DTLS active via
/// actpass), connects to a server's answer and sends and receives SRTP on its own UDP socket. Like server peers it is a
/// sans-I/O <see cref="PeerConnection"/> run by a shared <see cref="MediaWorker"/>: many clients, no thread each.</summary>
public sealed class WebRtcClient : IMediaPeer, IPeerConnectionHandler, IAsyncDisposable
{
    private const int ReceiveBufferSize = DatagramBuffers.Size;

    private readonly MediaWorker _worker;
    private readonly DtlsCertificate _certificate;
    private readonly WebRtcClientOptions _options;
    private readonly Socket _socket;
    private readonly IceCredentials _credentials = IceCredentials.Generate();
    private readonly SdpOffer _offer;
    private readonly List<SdpTransceiver> _sendTransceivers = [];
    private readonly List<ReceiveSection> _receiveSections = [];
    private readonly object _negotiationLock = new();
    private SdpOffer? _pendingOffer;
    private ulong _offerVersion = 2;
    private IReadOnlyDictionary<uint, string> _midBySsrc = new Dictionary<uint, string>();
    private readonly Dictionary<SocketAddress, UdpPacketPath> _paths = [];
    private readonly object _pathsLock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PeerConnection? _connection;
    private long _rtpReceived;
    private long _rtcpReceived;
    private bool _disposed;

    public WebRtcClient(MediaWorker worker, DtlsCertificate certificate, WebRtcClientOptions? options = null)
    {
        _worker = worker;
        _certificate = certificate;
        _options = options ?? new WebRtcClientOptions();
        _socket = new Socket(_options.BindAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(_options.BindAddress, 0));

        if (_options.Audio)
        {
            AudioSsrc = RandomSsrc();
            _sendTransceivers.Add(new SdpTransceiver("audio", "0", SdpDirection.SendRecv)
            {
                Codecs = _options.Codecs,
                LocalStream = new SdpLocalStream(AudioSsrc, "telerehab-client", "client", "client-audio"),
            });
        }
        if (_options.Video)
        {
            VideoSsrc = RandomSsrc();
            _sendTransceivers.Add(new SdpTransceiver("video", _sendTransceivers.Count.ToString(), SdpDirection.SendRecv)
            {
                Codecs = _options.Codecs,
                LocalStream = new SdpLocalStream(VideoSsrc, "telerehab-client", "client", "client-video", RandomSsrc()),
            });
        }
        if (_options.DataChannel)
            _sendTransceivers.Add(new SdpTransceiver("application", _sendTransceivers.Count.ToString(), SdpDirection.SendRecv));
        _offer = Offerer().CreateOffer(_sendTransceivers);
        _ = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The first SDP offer (the send sections, <c>sendrecv</c>), for a one-shot exchange such as the echo.</summary>
    public string Offer => _offer.Sdp;

    /// <summary>The mids of this client's own sections by kind ("audio" / "video", and "application" for the data channel).</summary>
    public IReadOnlyDictionary<string, string> SendMids => _sendTransceivers.ToDictionary(t => t.Kind, t => t.Mid);

    /// <summary>The receive sections offered so far, in m-line order after the send sections.</summary>
    public IReadOnlyList<ReceiveSection> ReceiveSections
    {
        get { lock (_negotiationLock) return _receiveSections.ToList(); }
    }

    /// <summary>An offer for (re)negotiation on the same ICE credentials, certificate and socket: this client's send
    /// sections (<c>sendonly</c>) then <paramref name="receivers"/> (<c>recvonly</c>, or <c>inactive</c>). Sections
    /// offered before must come first in the same order (m-lines are never removed or reordered, RFC 3264 §8); new
    /// ones follow. Apply the answer with <see cref="TryApplyAnswer"/>. One negotiation at a time.</summary>
    public string CreateOffer(IReadOnlyList<ReceiveSection> receivers)
    {
        ArgumentNullException.ThrowIfNull(receivers);
        lock (_negotiationLock)
        {
            var ownMids = _sendTransceivers.Select(t => t.Mid).ToHashSet(StringComparer.Ordinal);
            for (var i = 0; i < receivers.Count; i++)
            {
                var r = receivers[i];
                if (ownMids.Contains(r.Mid)) throw new ArgumentException($"mid '{r.Mid}' is one of this client's send sections", nameof(receivers));
                if (i < _receiveSections.Count && (_receiveSections[i].Mid != r.Mid || _receiveSections[i].Kind != r.Kind))
                    throw new ArgumentException($"receive section {i} was '{_receiveSections[i].Mid}' ({_receiveSections[i].Kind}): m-lines keep their order", nameof(receivers));
            }
            if (receivers.Count < _receiveSections.Count)
                throw new ArgumentException("receive sections are never removed: offer them inactive", nameof(receivers));

            var transceivers = new List<SdpTransceiver>();
            foreach (var own in _sendTransceivers) transceivers.Add(own with { Direction = SdpDirection.SendOnly });
            foreach (var r in receivers)
                transceivers.Add(new SdpTransceiver(r.Kind, r.Mid, r.Active ? SdpDirection.RecvOnly : SdpDirection.Inactive) { Codecs = _options.Codecs });
            var offer = Offerer().CreateOffer(transceivers); // throws for repeated or bad mids
            _pendingOffer = offer;
            _pendingReceivers = receivers.ToList();
            return offer.Sdp;
        }
    }

    private List<ReceiveSection>? _pendingReceivers;

    private SdpOfferer Offerer() => new(new SdpLocalParameters
    {
        IceUfrag = _credentials.Ufrag,
        IcePwd = _credentials.Password,
        Fingerprint = _certificate.SdpFingerprint,
        AcceptDataChannels = false,
        IceLite = false, // the client is a full (controlling) ICE agent
        Codecs = _options.Codecs ?? SdpCodecCapability.Defaults,
        SessionVersion = _offerVersion++,
    });

    /// <summary>The mid an SSRC of the peer was negotiated on (latest answer), or null.</summary>
    public string? MidOf(uint ssrc) => Volatile.Read(ref _midBySsrc).GetValueOrDefault(ssrc);

    public uint AudioSsrc { get; }

    public uint VideoSsrc { get; }

    /// <summary>What the answer negotiated, once applied.</summary>
    public NegotiatedSession? Session { get; private set; }

    public PeerConnection? Connection => _connection;

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Completes when DTLS is done and SRTP keyed.</summary>
    public Task Connected => _connected.Task;

    /// <summary>Completes with the reason when the connection closes or fails.</summary>
    public Task<string> Closed => _closed.Task;

    public long RtpReceived => Interlocked.Read(ref _rtpReceived);

    public long RtcpReceived => Interlocked.Read(ref _rtcpReceived);

    /// <summary>Called on the worker with each decrypted RTP packet received.</summary>
    public Action<ReadOnlySpan<byte>>? RtpReceivedHandler { get; set; }

    /// <summary>Called on the worker with each decrypted RTP packet and the mid its SSRC belongs to.</summary>
    public RtpWithMidHandler? RtpWithMidReceivedHandler { get; set; }

    /// <summary>Called on the worker with each decrypted RTCP compound packet received.</summary>
    public Action<ReadOnlySpan<byte>>? RtcpReceivedHandler { get; set; }

    string IMediaPeer.LocalUfrag => _credentials.Ufrag;

    bool IMediaPeer.IsAuthenticCheck(ReadOnlySpan<byte> request) => _connection is { } connection && connection.IsAuthenticCheck(request);

    /// <summary>Applies the server's answer: the first one starts ICE and DTLS; an answer to a
    /// <see cref="CreateOffer"/> renegotiation updates the negotiated session of the same connection (same ICE and
    /// DTLS, the peer's SSRCs mapped to their new sections). False (with a reason) for an unusable answer.</summary>
    public bool TryApplyAnswer(string answerSdp, out string? error)
    {
        lock (_negotiationLock)
        {
            var offer = _pendingOffer ?? (_connection is null ? _offer : null);
            if (offer is null)
            {
                error = "an answer was already applied and no new offer was made";
                return false;
            }
            if (!Offerer().TryApplyAnswer(offer, answerSdp, out var negotiated, out error)) return false;
            if (_connection is not null)
            {
                var previous = Session!;
                if (negotiated!.RemoteIceUfrag != previous.RemoteIceUfrag || negotiated.RemoteIcePwd != previous.RemoteIcePwd
                    || !string.Equals(negotiated.RemoteFingerprint.Value, previous.RemoteFingerprint.Value, StringComparison.OrdinalIgnoreCase))
                {
                    // This client never restarts ICE (docs/signalling.md, "ICE restart"): its offers keep its credentials,
                    // so an answer must keep the server's too (RFC 8829 §5.3.1: only a restart changes them).
                    error = "the answer changes the server's ICE credentials or certificate although this client's offer did not restart ICE";
                    return false;
                }
                Adopt(negotiated);
                return true;
            }
            if (!TryStart(answerSdp, negotiated!, out error)) return false;
            Adopt(negotiated!);
            return true;
        }
    }

    private void Adopt(NegotiatedSession negotiated)
    {
        Session = negotiated;
        if (_pendingReceivers is not null)
        {
            _receiveSections.Clear();
            _receiveSections.AddRange(_pendingReceivers);
        }
        _pendingOffer = null;
        _pendingReceivers = null;
        var map = new Dictionary<uint, string>();
        foreach (var media in negotiated.Media)
        {
            if (media.IsRejected) continue;
            foreach (var ssrc in media.RemoteSsrcIds) map[ssrc] = media.Mid;
            foreach (var group in media.RemoteSsrcGroups)
            {
                foreach (var ssrc in group.Ssrcs) map[ssrc] = media.Mid;
            }
        }
        Volatile.Write(ref _midBySsrc, map);
        // The data channel section (first accepted one) gives the connection its SCTP transport, on the worker.
        if (_connection is { } connection && negotiated.DataChannel is not null)
            _worker.PostFor(this, () =>
            {
                if (connection.ApplyDataChannels(negotiated) is { } transport && _options.DataChannelHandler is { } handler)
                    transport.Handler ??= handler;
            });
    }

    private bool TryStart(string answerSdp, NegotiatedSession session, out string? error)
    {
        if (!SessionDescription.TryParse(answerSdp, out var answer, out error)) return false;

        var candidates = new List<IceCandidate>();
        foreach (var line in answer!.Media.SelectMany(m => m.GetAttributes("candidate")).Concat(answer.GetAttributes("candidate")))
        {
            if (IceCandidate.TryParse(line.Value, out var candidate) && candidate.Transport == IceTransport.Udp
                && candidate.EndPoint is { } endPoint && endPoint.AddressFamily == _socket.AddressFamily)
            {
                if (!candidates.Any(c => c.Address == candidate.Address && c.Port == candidate.Port)) candidates.Add(candidate);
            }
        }
        if (candidates.Count == 0)
        {
            error = "the answer has no UDP candidate this client can reach";
            return false;
        }
        if (!DtlsFingerprint.TryParse($"{session!.RemoteFingerprint.Algorithm} {session.RemoteFingerprint.Value}", out var fingerprint))
        {
            error = "the answer's a=fingerprint is not usable";
            return false;
        }

        // We offered actpass; the answerer's passive makes us the DTLS client (RFC 5763 §5).
        var role = session.RemoteSetup == SdpSetupRole.Active ? DtlsRole.Server : DtlsRole.Client;
        var options = new PeerConnectionOptions { Certificate = _certificate, ConsentTimeout = _options.ConsentTimeout };
        _connection = PeerConnection.CreateControlling(_credentials, new IceCredentials(session.RemoteIceUfrag, session.RemoteIcePwd),
            candidates, fingerprint!, role, options, this, action => _worker.PostFor(this, action), PathFor,
            new IceControllingOptions { ConsentTimeout = _options.ConsentTimeout, ConsentInterval = _options.ConsentInterval });
        _worker.Attach(this);
        _worker.PostFor(this, () => _connection.Start(_worker.Now));
        return true;
    }

    /// <summary>Sends one RTP packet (copied, then encrypted on the worker). False before the connection is up.</summary>
    public bool SendRtp(ReadOnlySpan<byte> rtpPacket) => Post(rtpPacket, OutboundKind.Rtp);

    /// <summary>Sends one RTCP compound packet; as <see cref="SendRtp"/>.</summary>
    public bool SendRtcp(ReadOnlySpan<byte> rtcpPacket) => Post(rtcpPacket, OutboundKind.Rtcp);

    /// <summary>Sends <paramref name="data"/> as one DTLS application record, whatever it holds (an SCTP packet, or
    /// garbage to test the server); as <see cref="SendRtp"/>.</summary>
    public bool SendApplicationData(ReadOnlySpan<byte> data) => Post(data, OutboundKind.ApplicationData);

    /// <summary>Runs <paramref name="action"/> on the client's worker (where its data channel transport lives).</summary>
    public void Invoke(Action action) => _worker.PostFor(this, action);

    private enum OutboundKind { Rtp, Rtcp, ApplicationData }

    private bool Post(ReadOnlySpan<byte> packet, OutboundKind kind)
    {
        var connection = _connection;
        if (connection is null || connection.State != PeerConnectionState.Connected || packet.Length > ReceiveBufferSize - 64) return false;
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        packet.CopyTo(buffer);
        var length = packet.Length;
        _worker.PostFor(this, () =>
        {
            try
            {
                switch (kind)
                {
                    case OutboundKind.Rtp: connection.SendRtp(buffer, length); break;
                    case OutboundKind.Rtcp: connection.SendRtcp(buffer, length); break;
                    default: connection.SendApplicationData(buffer.AsSpan(0, length)); break;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        });
        return true;
    }

    /// <summary>Closes the connection (DTLS close_notify) from any thread.</summary>
    public void Close(string reason)
    {
        if (_connection is { } connection) _worker.PostFor(this, () => connection.Close(reason));
        else _closed.TrySetResult(reason);
    }

    /// <summary>Test and load hook: the client vanishes without a goodbye (no DTLS close_notify reaches the server) by
    /// closing its socket under the running connection, like a crashed browser or a lost network.</summary>
    public void DropSocketWithoutGoodbye()
    {
        _stop.Cancel();
        _socket.Dispose();
    }

    /// <summary>Every remote address a datagram came from so far (tests check that the server answers and sends from
    /// the address it was sent to).</summary>
    public IReadOnlyList<IPEndPoint> DatagramSources
    {
        get { lock (_pathsLock) return _paths.Values.Select(path => path.Remote).ToList(); }
    }

    private IPacketPath? PathFor(SocketAddress remote)
    {
        lock (_pathsLock)
        {
            if (!_paths.TryGetValue(remote, out var path))
            {
                path = new UdpPacketPath(_socket, remote);
                _paths[path.Address] = path;
            }
            return path;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var from = new SocketAddress(_socket.AddressFamily);
        var buffer = DatagramBuffers.Rent();
        while (!_stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await _socket.ReceiveFromAsync(buffer.AsMemory(0, ReceiveBufferSize), SocketFlags.None, from, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { break; }
            catch (ObjectDisposedException) { break; }
            catch (SocketException) { continue; }
            if (_connection is null) continue;
            var path = PathFor(from);
            _worker.PostDatagram(this, buffer, length, path!);
            buffer = DatagramBuffers.Rent();
        }
        DatagramBuffers.Return(buffer);
    }

    bool IMediaPeer.IsClosed => _connection is { State: PeerConnectionState.Closed or PeerConnectionState.Failed };

    TimeSpan? IMediaPeer.NextTimeout => _connection?.NextTimeout;

    void IMediaPeer.HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now) =>
        _connection?.HandleDatagram(buffer, length, path, now);

    void IMediaPeer.HandleTimeout(TimeSpan now) => _connection?.HandleTimeout(now);

    void IMediaPeer.Dispose() => _connection?.Dispose();

    void IPeerConnectionHandler.OnPathSelected(PeerConnection connection, IPacketPath path)
    {
    }

    void IPeerConnectionHandler.OnConnected(PeerConnection connection) => _connected.TrySetResult();

    void IPeerConnectionHandler.OnRtp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now)
    {
        Interlocked.Increment(ref _rtpReceived);
        RtpReceivedHandler?.Invoke(buffer[..length]);
        if (RtpWithMidReceivedHandler is { } withMid)
        {
            var ssrc = length >= 12 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer[8..]) : 0;
            withMid(buffer[..length], MidOf(ssrc));
        }
    }

    void IPeerConnectionHandler.OnRtcp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now)
    {
        Interlocked.Increment(ref _rtcpReceived);
        RtcpReceivedHandler?.Invoke(buffer[..length]);
    }

    void IPeerConnectionHandler.OnClosed(PeerConnection connection, string reason)
    {
        _connected.TrySetException(new InvalidOperationException($"connection closed before it was up: {reason}"));
        _closed.TrySetResult(reason);
    }

    private static uint RandomSsrc() => (uint)Random.Shared.NextInt64(1, uint.MaxValue);

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        Close("client disposed");
        if (_connection is not null) await Task.WhenAny(_closed.Task, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
    }
}
