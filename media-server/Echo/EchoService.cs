using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Echo;

/// <summary>Which candidates the echo answer offers: both, or one transport only (to test ICE-TCP on networks
/// that block UDP).</summary>
public enum EchoTransport { All, Udp, Tcp }

/// <summary>Limits of the connection check, so it cannot be abused.</summary>
public sealed class EchoOptions
{
    /// <summary>Echo peers alive at once; more get a clear refusal.</summary>
    public int MaxConcurrentPeers { get; set; } = 20;

    /// <summary>Each echo peer is closed after this long.</summary>
    public double MaxDurationSeconds { get; set; } = 60;
}

/// <summary>The outcome of <see cref="EchoService.TryStart"/>.</summary>
public enum EchoStartStatus { Started, BadOffer, Busy, Unavailable }

/// <summary>Starts connection-check peers: answers a browser's offer and echoes its media back (see <see cref="EchoSession"/>).</summary>
public sealed class EchoService
{
    private readonly MediaServer _server;
    private readonly EchoOptions _options;
    private readonly PeerConnectionOptions _peerOptions;
    private int _active;

    public EchoService(MediaServer server, DtlsCertificate certificate, EchoOptions options)
    {
        _server = server;
        _options = options;
        _peerOptions = new PeerConnectionOptions
        {
            Certificate = certificate,
            ConsentTimeout = TimeSpan.FromSeconds(server.Options.ConsentTimeoutSeconds),
            DataChannelStats = server.DataChannels,
        };
    }

    public int ActivePeers => Volatile.Read(ref _active);

    /// <summary>Answers <paramref name="offerSdp"/> and starts echoing. On failure <paramref name="error"/> says why in
    /// words a user can act on; nothing is started.</summary>
    public EchoStartStatus TryStart(string offerSdp, EchoTransport transport, out string? answerSdp, out string? error, out EchoSession? session)
    {
        answerSdp = null;
        session = null;
        if (!_server.IsReady)
        {
            error = "the media server is not running";
            return EchoStartStatus.Unavailable;
        }
        if (!SessionDescription.TryParse(offerSdp, out var offer, out error)) return EchoStartStatus.BadOffer;
        if (offer!.Media.Count == 0)
        {
            error = "the offer has no media sections";
            return EchoStartStatus.BadOffer;
        }
        if (transport == EchoTransport.Tcp && _server.TcpPort is null)
        {
            error = "ICE-TCP is turned off on this server";
            return EchoStartStatus.Unavailable;
        }

        if (Interlocked.Increment(ref _active) > _options.MaxConcurrentPeers)
        {
            Interlocked.Decrement(ref _active);
            error = $"too many connection checks at once (limit {_options.MaxConcurrentPeers}); try again in a minute";
            return EchoStartStatus.Busy;
        }

        var started = false;
        try
        {
            var credentials = IceCredentials.Generate();
            var streams = new Dictionary<string, SdpLocalStream>();
            foreach (var media in offer.Media)
            {
                if (media.Mid is not { } mid || media.Kind is not ("audio" or "video")) continue;
                streams[mid] = new SdpLocalStream(RandomSsrc(), "telerehab-echo", "echo", $"echo-{mid}",
                    media.Kind == "video" ? RandomSsrc() : null);
            }
            var candidates = _server.LocalCandidates(udp: transport != EchoTransport.Tcp, tcp: transport != EchoTransport.Udp);
            var local = new SdpLocalParameters
            {
                IceUfrag = credentials.Ufrag,
                IcePwd = credentials.Password,
                Fingerprint = _peerOptions.Certificate.SdpFingerprint,
                Candidates = candidates.Select(c => c.ToString()).ToList(),
                LocalStreams = streams,
                // A data channel section gets the peer's SCTP transport (PeerConnection.ApplyDataChannels below).
                AcceptDataChannels = true,
                MaxMessageSize = _server.Options.DataChannelMaxMessageSize,
            };
            if (!new SdpAnswerer(local).TryCreateAnswer(offer, out var answer, out error)) return EchoStartStatus.BadOffer;
            var negotiated = answer!.Session;
            if (!DtlsFingerprint.TryParse($"{negotiated.RemoteFingerprint.Algorithm} {negotiated.RemoteFingerprint.Value}", out var remoteFingerprint))
            {
                error = "the offer's a=fingerprint is not a usable certificate fingerprint";
                return EchoStartStatus.BadOffer;
            }
            // Our answer's setup decides the DTLS role: passive (the usual answer to actpass) makes us the server.
            var dtlsRole = negotiated.LocalSetup == SdpSetupRole.Active ? DtlsRole.Client : DtlsRole.Server;
            var deadline = _server.Now + TimeSpan.FromSeconds(_options.MaxDurationSeconds);
            var echo = new EchoSession(_server, credentials.Ufrag, negotiated, deadline, _ => Interlocked.Decrement(ref _active));
            var worker = default(MediaWorker);
            var connection = PeerConnection.CreateIceLite(credentials, new IceCredentials(negotiated.RemoteIceUfrag, negotiated.RemoteIcePwd),
                remoteFingerprint!, dtlsRole, _peerOptions, echo, action => worker!.PostFor(echo, action));
            echo.Attach(connection);
            if (connection.ApplyDataChannels(negotiated) is { } dataChannels) dataChannels.Handler = echo;
            connection.Start(_server.Now);
            worker = _server.Register(echo);
            answerSdp = answer.Sdp;
            session = echo;
            started = true;
            return EchoStartStatus.Started;
        }
        catch (SdpNegotiationException ex)
        {
            error = ex.Message;
            return EchoStartStatus.BadOffer;
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return EchoStartStatus.BadOffer;
        }
        finally
        {
            if (!started) Interlocked.Decrement(ref _active);
        }
    }

    private static uint RandomSsrc() => (uint)Random.Shared.NextInt64(1, uint.MaxValue);
}
