using System.Buffers;
using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.WebRtc;

/// <summary>What a <see cref="WebRtcClient"/> sends: one audio and/or one video transceiver.</summary>
public sealed record WebRtcClientOptions
{
    public bool Audio { get; init; } = true;
    public bool Video { get; init; } = true;
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Mean interval of the client's consent checks (RFC 7675 §5.1: 5 s).</summary>
    public TimeSpan ConsentInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>A C# WebRTC endpoint for tests and the load generator: it offers (ICE controlling, DTLS active via
/// actpass), connects to a server's answer and sends and receives SRTP on its own UDP socket. Like server peers it is a
/// sans-I/O <see cref="PeerConnection"/> run by a shared <see cref="MediaWorker"/>: many clients, no thread each.</summary>
public sealed class WebRtcClient : IMediaPeer, IPeerConnectionHandler, IAsyncDisposable
{
    private const int ReceiveBufferSize = 2048;

    private readonly MediaWorker _worker;
    private readonly DtlsCertificate _certificate;
    private readonly WebRtcClientOptions _options;
    private readonly Socket _socket;
    private readonly IceCredentials _credentials = IceCredentials.Generate();
    private readonly SdpOfferer _offerer;
    private readonly SdpOffer _offer;
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

        var transceivers = new List<SdpTransceiver>();
        if (_options.Audio)
        {
            AudioSsrc = RandomSsrc();
            transceivers.Add(new SdpTransceiver("audio", "0", SdpDirection.SendRecv)
            {
                LocalStream = new SdpLocalStream(AudioSsrc, "telerehab-client", "client", "client-audio"),
            });
        }
        if (_options.Video)
        {
            VideoSsrc = RandomSsrc();
            transceivers.Add(new SdpTransceiver("video", transceivers.Count.ToString(), SdpDirection.SendRecv)
            {
                LocalStream = new SdpLocalStream(VideoSsrc, "telerehab-client", "client", "client-video", RandomSsrc()),
            });
        }
        _offerer = new SdpOfferer(new SdpLocalParameters
        {
            IceUfrag = _credentials.Ufrag,
            IcePwd = _credentials.Password,
            Fingerprint = certificate.SdpFingerprint,
            AcceptDataChannels = false,
        });
        _offer = _offerer.CreateOffer(transceivers);
        _ = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The SDP offer to send to the server.</summary>
    public string Offer => _offer.Sdp;

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

    /// <summary>Called on the worker with each decrypted RTCP compound packet received.</summary>
    public Action<ReadOnlySpan<byte>>? RtcpReceivedHandler { get; set; }

    string IMediaPeer.LocalUfrag => _credentials.Ufrag;

    /// <summary>Applies the server's answer and starts ICE. False (with a reason) for an unusable answer.</summary>
    public bool TryApplyAnswer(string answerSdp, out string? error)
    {
        if (_connection is not null)
        {
            error = "an answer was already applied";
            return false;
        }
        if (!_offerer.TryApplyAnswer(_offer, answerSdp, out var session, out error)) return false;
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

        Session = session;
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
    public bool SendRtp(ReadOnlySpan<byte> rtpPacket) => Post(rtpPacket, rtcp: false);

    /// <summary>Sends one RTCP compound packet; as <see cref="SendRtp"/>.</summary>
    public bool SendRtcp(ReadOnlySpan<byte> rtcpPacket) => Post(rtcpPacket, rtcp: true);

    private bool Post(ReadOnlySpan<byte> packet, bool rtcp)
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
                if (rtcp) connection.SendRtcp(buffer, length);
                else connection.SendRtp(buffer, length);
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

    /// <summary>Test hook: the client vanishes without a goodbye (no DTLS close_notify reaches the server) by
    /// closing its socket under the running connection, like a crashed browser or a lost network.</summary>
    internal void DropSocketWithoutGoodbye()
    {
        _stop.Cancel();
        _socket.Dispose();
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
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
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
            buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        }
        ArrayPool<byte>.Shared.Return(buffer);
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
