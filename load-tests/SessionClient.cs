using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.LoadTests;

/// <summary>How a <see cref="SessionClient"/> behaves.</summary>
public sealed record SessionClientOptions
{
    /// <summary>Publish a synthetic microphone (ignored for observers, who never publish).</summary>
    public bool SendAudio { get; init; } = true;

    /// <summary>Publish a synthetic camera (ignored for observers).</summary>
    public bool SendVideo { get; init; } = true;

    /// <summary>Negotiate on joining, on being admitted and on every TracksChanged (subscribing to every track), as the
    /// browser client does. Off: the caller calls <see cref="SessionClient.NegotiateAsync"/>.</summary>
    public bool AutoNegotiate { get; init; } = true;

    /// <summary>Mean interval of the client's ICE consent checks (RFC 7675: 5 s); below the server's consent timeout.</summary>
    public TimeSpan ConsentInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Offer a data channel section (RFC 8841) beside the media, as the browser client's pose overlay will.</summary>
    public bool DataChannel { get; init; }

    /// <summary>Sent with the first Negotiate (<c>startMode</c>): "audio+pose" as a patient whose pre-session check found
    /// a weak link; null sends none.</summary>
    public string? StartMode { get; init; }

    /// <summary>A name for logs.</summary>
    public string Name { get; init; } = "client";

    /// <summary>When the hub connection drops without a goodbye, connect again and take the place back (<c>Resume</c>,
    /// docs/signalling.md "Reconnecting") while the media connection carries on; a place the server no longer keeps is
    /// joined afresh with the link, as the web page does. Off: a dropped hub connection ends the client (a crashed client).</summary>
    public bool Reconnect { get; init; } = true;

    /// <summary>The waits between automatic reconnection attempts, as the web page's (the last repeats until the
    /// server's grace period has passed, then the client gives up).</summary>
    public IReadOnlyList<TimeSpan> ReconnectDelays { get; init; } =
        [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    /// <summary>The media route: given the server's UDP candidate from an answer, the address to send to instead (a link
    /// emulator in front of it). The answer's UDP candidates are rewritten to it and its TCP candidates dropped. Null: direct.</summary>
    public Func<IPEndPoint, IPEndPoint>? MediaVia { get; init; }

    /// <summary>The address the media socket binds to (loopback by default; any address for a server on another host).</summary>
    public IPAddress? BindAddress { get; init; }

    /// <summary>Told of every synthetic media packet received, on the media worker (must not block or allocate).</summary>
    public IMediaReceiveObserver? ReceiveObserver { get; init; }

    /// <summary>What <see cref="SessionClient.StartSending"/> sends (null: <see cref="SyntheticMediaShape.Test"/>).</summary>
    public SyntheticMediaShape? MediaShape { get; init; }
}

/// <summary>Sees each synthetic media packet a <see cref="SessionClient"/> receives (the load generator's measurements).</summary>
public interface IMediaReceiveObserver
{
    /// <summary>On the media worker, after <paramref name="track"/> counted it: a packet of <paramref name="length"/> bytes
    /// sent at <paramref name="sentAt"/> (-1 when the payload has no send time) and received at <paramref name="receivedAt"/>
    /// (microseconds of <see cref="MediaClock"/>).</summary>
    void OnMedia(ReceivedTrackStats track, long sentAt, long receivedAt, int length);
}

/// <summary>A C# participant of a therapy session, speaking the session hub's protocol (docs/signalling.md) like the
/// browser client: it joins with a link's token, negotiates one <see cref="WebRtcClient"/> peer connection (its own send
/// sections plus one recvonly section per remote track, renegotiated on TracksChanged, receive sections reused once
/// their track goes), publishes synthetic audio and video tagged with its id, and counts what it receives per remote
/// participant and kind, checking every payload. Media runs on a shared <see cref="MediaWorker"/> and a shared
/// <see cref="MediaPacer"/>: no thread per client.</summary>
public sealed class SessionClient : IAsyncDisposable
{
    private static readonly SdpCodecCapability[] OneCodecPerKind = [SdpCodecCapability.Opus, SdpCodecCapability.Vp8];

    private readonly MediaWorker _worker;
    private readonly DtlsCertificate _certificate;
    private readonly SessionClientOptions _options;
    private readonly HubConnection _hub;
    private readonly ConcurrentQueue<HubEvent> _events = new();
    private readonly ConcurrentDictionary<string, ReceivedTrackStats> _received = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ReceivedTrackStats>.AlternateLookup<ReadOnlySpan<char>> _receivedBySpan;
    private readonly ConcurrentDictionary<uint, TrackInfoDto> _trackBySsrc = new();
    private readonly SemaphoreSlim _negotiation = new(1, 1);
    private readonly List<Slot> _slots = [];
    private readonly TaskCompletionSource<JoinResultDto> _admitted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentDictionary<string, ParticipantInfo> _participants = new(StringComparer.Ordinal);
    private volatile IReadOnlyList<TrackInfoDto> _tracks = [];
    private volatile LinkStatsInfo? _linkStats;
    private int _linkStatsReceived;
    private long _tracksVersion;
    private long _negotiatedVersion = -1;
    private WebSocket? _webSocket;
    private WebRtcClient? _media;
    private SyntheticSender? _sender;
    private MediaPacer? _pacer;
    private long _unknownPackets;
    private long _ownPackets;
    private int _negotiations;
    private int _disposed;
    private string? _token;
    private volatile string _connection = "disconnected";
    private int _stopping;
    private int _resumes;

    public SessionClient(Uri baseAddress, MediaWorker worker, DtlsCertificate certificate, SessionClientOptions? options = null)
    {
        _worker = worker;
        _certificate = certificate;
        _options = options ?? new SessionClientOptions();
        _receivedBySpan = _received.GetAlternateLookup<ReadOnlySpan<char>>();
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, HubNames.Path), HttpTransportType.WebSockets, http =>
            {
                // Our own socket, so a test can cut the connection without a close frame (a lost network).
                http.WebSocketFactory = async (context, cancel) =>
                {
                    var socket = new ClientWebSocket();
                    await socket.ConnectAsync(context.Uri, cancel).ConfigureAwait(false);
                    _webSocket = socket;
                    return socket;
                };
            })
            .AddJsonProtocol(json =>
            {
                json.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
                json.PayloadSerializerOptions.PropertyNameCaseInsensitive = true;
            });
        if (_options.Reconnect) builder.WithAutomaticReconnect(new ReconnectSchedule(this));
        _hub = builder.Build();
        _hub.ServerTimeout = TimeSpan.FromSeconds(60);
        _hub.Closed += error =>
        {
            Record("Closed", error?.Message);
            SetConnection("disconnected");
            End(error is null ? "hub connection closed" : $"hub connection lost: {error.Message}");
            _admitted.TrySetCanceled();
            return Task.CompletedTask;
        };
        _hub.Reconnecting += error =>
        {
            Record(ClientEvents.Reconnecting, error?.Message ?? "");
            SetConnection("reconnecting");
            return Task.CompletedTask;
        };
        _hub.Reconnected += connectionId =>
        {
            _ = Task.Run(ResumeAsync);
            return Task.CompletedTask;
        };
        Subscribe();
    }

    /// <summary>The automatic reconnection's waits: <see cref="SessionClientOptions.ReconnectDelays"/>, the last one
    /// repeated until the server's grace period (from the join result; 60 s before one) and a margin have passed.</summary>
    private sealed class ReconnectSchedule(SessionClient client) : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext context)
        {
            if (Volatile.Read(ref client._stopping) != 0 || client._ended.Task.IsCompleted) return null;
            var grace = TimeSpan.FromSeconds(client.JoinResult?.ReconnectGraceSeconds is > 0 and var g ? g : 60);
            if (context.ElapsedTime > grace + TimeSpan.FromSeconds(10)) return null;
            var delays = client._options.ReconnectDelays;
            return delays.Count == 0 ? TimeSpan.FromSeconds(1) : delays[(int)Math.Min(context.PreviousRetryCount, delays.Count - 1)];
        }
    }

    public string Name => _options.Name;

    public HubConnection Hub => _hub;

    /// <summary>The hub connection as the client shows it: "disconnected", "connected", "reconnecting" (the connection
    /// dropped; media carries on) and "connected" again once the place is resumed.</summary>
    public string Connection => _connection;

    /// <summary>Places taken back after the hub connection dropped (Resume, or a fresh Join when the place was gone).</summary>
    public int Resumes => Volatile.Read(ref _resumes);

    /// <summary>The ladder's thresholds from the latest Negotiate answer (patients only; null otherwise).</summary>
    public UplinkLadderInfo? Ladder { get; private set; }

    /// <summary>The peer connection (after the first negotiation).</summary>
    public WebRtcClient? Media => _media;

    /// <summary>The synthetic microphone and camera (after <see cref="StartSending"/>).</summary>
    public SyntheticSender? Sender => _sender;

    public JoinResultDto? JoinResult { get; private set; }

    public string ParticipantId => JoinResult?.ParticipantId ?? throw new InvalidOperationException("not joined");

    public string? Role => JoinResult?.Role;

    /// <summary>Completes with the join result once in the room (at once, or when the therapist admits).</summary>
    public Task<JoinResultDto> Admitted => _admitted.Task;

    /// <summary>Completes with a reason when the session ended, the client was removed or the hub connection closed.</summary>
    public Task<string> Ended => _ended.Task;

    /// <summary>The people in the room as the events last described them (left ones removed).</summary>
    public IReadOnlyDictionary<string, ParticipantInfo> Participants => _participants;

    /// <summary>The tracks the server last said this client may subscribe to.</summary>
    public IReadOnlyList<TrackInfoDto> Tracks => _tracks;

    public IReadOnlyCollection<HubEvent> Events => _events.ToArray();

    /// <summary>The latest LinkStats (periodic, so kept apart from <see cref="Events"/>), or null before the first.</summary>
    public LinkStatsInfo? LinkStats => _linkStats;

    public int LinkStatsReceived => Volatile.Read(ref _linkStatsReceived);

    /// <summary>Errors of automatic negotiations (a test asserts there were none).</summary>
    public IReadOnlyCollection<string> Errors => _errors.ToArray();

    public int Negotiations => Volatile.Read(ref _negotiations);

    /// <summary>True when the latest track list the server sent has been negotiated.</summary>
    public bool IsNegotiationCurrent => Interlocked.Read(ref _negotiatedVersion) >= Interlocked.Read(ref _tracksVersion);

    /// <summary>Received packets whose payload names this client itself (an SFU must never echo).</summary>
    public long OwnPacketsReceived => Interlocked.Read(ref _ownPackets);

    /// <summary>Received packets with no synthetic tag.</summary>
    public long UnknownPacketsReceived => Interlocked.Read(ref _unknownPackets);

    /// <summary>What this client received from <paramref name="participantId"/>'s <paramref name="kind"/> track.</summary>
    public ReceivedTrackStats ReceivedFrom(string participantId, string kind) =>
        _received.GetOrAdd($"{participantId}/{kind}", _ => new ReceivedTrackStats(participantId, kind));

    public IReadOnlyCollection<ReceivedTrackStats> Received => _received.Values.ToList();

    /// <summary>The track an SFU SSRC was negotiated for (from this client's answers), or null.</summary>
    public TrackInfoDto? TrackOfSsrc(uint ssrc) => _trackBySsrc.GetValueOrDefault(ssrc);

    /// <summary>The token of a join link: the part after '#'.</summary>
    public static string TokenFromLink(string link)
    {
        var hash = link.IndexOf('#');
        var token = hash < 0 ? link : link[(hash + 1)..];
        return Uri.UnescapeDataString(token.StartsWith("t=", StringComparison.Ordinal) ? token[2..] : token);
    }

    // ------------------------------------------------------------------ joining

    public async Task ConnectAsync(CancellationToken cancel = default)
    {
        if (_hub.State == HubConnectionState.Disconnected) await _hub.StartAsync(cancel).ConfigureAwait(false);
    }

    /// <summary>Connects (when not yet) and joins with <paramref name="token"/>. When admitted at once and
    /// <see cref="SessionClientOptions.AutoNegotiate"/> is on, also negotiates media before returning.</summary>
    public async Task<JoinResultDto> JoinAsync(string token, CancellationToken cancel = default)
    {
        await ConnectAsync(cancel).ConfigureAwait(false);
        _token = token;
        var result = await _hub.InvokeAsync<JoinResultDto>(HubNames.Join, token, cancel).ConfigureAwait(false);
        JoinResult = result;
        SetConnection("connected");
        if (result.State == "joined") await EnterAsync(result).ConfigureAwait(false);
        return result;
    }

    /// <summary>On the new hub connection after a drop: takes the place back with the link's token and the resume id
    /// of the last join. Media kept: the same peer connection renegotiates to catch up with the tracks; media lost, or
    /// the place no longer kept (joined afresh): a new peer connection. Refused otherwise (another window took the
    /// place, removed, ended): the client ends with the server's reason.</summary>
    private async Task ResumeAsync()
    {
        if (_ended.Task.IsCompleted || _token is null || JoinResult is not { } last)
        {
            if (_token is null) SetConnection("connected");
            return;
        }
        try
        {
            JoinResultDto result;
            bool keepMedia;
            try
            {
                result = await _hub.InvokeAsync<JoinResultDto>(HubNames.Resume, new ResumeRequestDto(_token, last.ResumeId)).ConfigureAwait(false);
                keepMedia = result.KeepMedia;
            }
            catch (HubException ex) when (ex.Message.Contains("not-found:", StringComparison.Ordinal))
            {
                Record(ClientEvents.ResumeRefused, ex.Message);
                result = await _hub.InvokeAsync<JoinResultDto>(HubNames.Join, _token).ConfigureAwait(false);
                keepMedia = false;
            }
            JoinResult = result;
            Interlocked.Increment(ref _resumes);
            Record(ClientEvents.Resumed, result);
            SetConnection("connected");
            _participants.Clear();
            foreach (var participant in result.Participants) _participants[participant.Id] = participant;
            if (result.State != "joined") return;
            if (!keepMedia) await DropMediaAsync().ConfigureAwait(false);
            SetTracks(result.Tracks);
            if (_options.AutoNegotiate)
            {
                await NegotiateAsync().ConfigureAwait(false);
                if (!keepMedia && _pacer is { } pacer && _media is not null)
                {
                    await _media.Connected.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                    StartSending(pacer);
                }
            }
        }
        catch (HubException ex)
        {
            Record(ClientEvents.ResumeRefused, ex.Message);
            End($"resume refused: {ex.Message}");
        }
        catch (Exception ex) when (Volatile.Read(ref _disposed) == 0 && !_ended.Task.IsCompleted)
        {
            _errors.Enqueue($"resuming failed: {ex.Message}");
        }
        catch (Exception)
        {
            // closing meanwhile
        }
    }

    /// <summary>The server no longer has this client's media connection: the next negotiation starts a new one.</summary>
    private async Task DropMediaAsync()
    {
        await _negotiation.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_sender is not null) _pacer?.Remove(_sender);
            _sender = null;
            var old = _media;
            _media = null;
            _slots.Clear();
            _trackBySsrc.Clear();
            Interlocked.Exchange(ref _negotiatedVersion, -1);
            old?.Close("the server dropped this media connection");
        }
        finally
        {
            _negotiation.Release();
        }
    }

    private void SetConnection(string state)
    {
        if (_connection == state) return;
        _connection = state;
        Record(ClientEvents.Connection, state);
    }

    private async Task EnterAsync(JoinResultDto result)
    {
        JoinResult = result;
        foreach (var participant in result.Participants) _participants[participant.Id] = participant;
        SetTracks(result.Tracks);
        _admitted.TrySetResult(result);
        if (_options.AutoNegotiate) await NegotiateAsync().ConfigureAwait(false);
    }

    private bool Publishes => Role != "observer" && (_options.SendAudio || _options.SendVideo);

    // ------------------------------------------------------------------ negotiation

    private sealed class Slot(string mid, string kind)
    {
        public string Mid { get; } = mid;
        public string Kind { get; } = kind;
        public TrackInfoDto? Track { get; set; }
    }

    /// <summary>Offers this client's send sections plus a receive section per track it may subscribe to (reusing the
    /// sections of tracks that went away), sends <c>Negotiate</c> and applies the answer to the same peer connection.
    /// One negotiation at a time; a call that finds the current track list already negotiated does nothing.</summary>
    public async Task NegotiateAsync(CancellationToken cancel = default)
    {
        var version = Interlocked.Read(ref _tracksVersion);
        await _negotiation.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            if (Interlocked.Read(ref _negotiatedVersion) >= version && _media is not null) return;
            version = Interlocked.Read(ref _tracksVersion);
            var tracks = _tracks;
            var first = _media is null;
            _media ??= CreateMedia();
            var wanted = tracks.Where(t => t.ParticipantId != JoinResult?.ParticipantId).ToDictionary(t => t.TrackId, StringComparer.Ordinal);
            foreach (var slot in _slots)
            {
                if (slot.Track is { } current && !wanted.ContainsKey(current.TrackId)) slot.Track = null;
            }
            foreach (var track in wanted.Values)
            {
                if (_slots.Any(s => s.Track?.TrackId == track.TrackId)) continue;
                var free = _slots.FirstOrDefault(s => s.Track is null && s.Kind == track.Kind);
                if (free is null)
                {
                    free = new Slot($"r{_slots.Count}", track.Kind);
                    _slots.Add(free);
                }
                free.Track = track;
            }
            if (_slots.Count == 0 && _media.SendMids.Count == 0)
            {
                Interlocked.Exchange(ref _negotiatedVersion, version); // an observer with nothing to receive yet
                return;
            }
            var offer = _media.CreateOffer(_slots.Select(s => new ReceiveSection(s.Kind, s.Mid, s.Track is not null)).ToList());
            var subscriptions = _slots.Where(s => s.Track is not null).Select(s => new SubscriptionRequestDto(s.Mid, s.Track!.TrackId)).ToList();
            var answer = await _hub.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(offer, subscriptions, first ? _options.StartMode : null), cancel).ConfigureAwait(false);
            Ladder = answer.Ladder;
            var answerSdp = _options.MediaVia is { } via ? RouteCandidates(answer.Sdp, via) : answer.Sdp;
            if (!_media.TryApplyAnswer(answerSdp, out var error)) throw new InvalidOperationException($"{Name}: the server's answer is unusable: {error}");
            foreach (var media in _media.Session!.Media)
            {
                var slot = _slots.FirstOrDefault(s => s.Mid == media.Mid);
                if (slot?.Track is not { } track || media.IsRejected) continue;
                foreach (var ssrc in media.RemoteSsrcIds) _trackBySsrc[ssrc] = track;
            }
            Interlocked.Exchange(ref _negotiatedVersion, version);
            Interlocked.Increment(ref _negotiations);
        }
        finally
        {
            _negotiation.Release();
        }
    }

    /// <summary>The answer with each media section's first UDP candidate pointed at <paramref name="via"/>'s address for
    /// it, other candidates left out (the emulated link is UDP).</summary>
    internal static string RouteCandidates(string sdp, Func<IPEndPoint, IPEndPoint> via)
    {
        var lines = sdp.Split("\r\n");
        var output = new List<string>(lines.Length);
        var routed = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("m=", StringComparison.Ordinal)) routed = false;
            if (!line.StartsWith("a=candidate:", StringComparison.Ordinal))
            {
                output.Add(line);
                continue;
            }
            var parts = line.Split(' ');
            if (routed || parts.Length < 8 || !parts[2].Equals("udp", StringComparison.OrdinalIgnoreCase) ||
                !IPAddress.TryParse(parts[4], out var address) || !int.TryParse(parts[5], out var port)) continue;
            var to = via(new IPEndPoint(address, port));
            parts[4] = to.Address.ToString();
            parts[5] = to.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            output.Add(string.Join(' ', parts));
            routed = true;
        }
        return string.Join("\r\n", output);
    }

    private WebRtcClient CreateMedia()
    {
        var publishes = Publishes;
        var media = new WebRtcClient(_worker, _certificate, new WebRtcClientOptions
        {
            Audio = publishes && _options.SendAudio,
            Video = publishes && _options.SendVideo,
            Codecs = OneCodecPerKind,
            ConsentInterval = _options.ConsentInterval,
            ConsentTimeout = _options.ConsentTimeout,
            DataChannel = _options.DataChannel,
            BindAddress = _options.BindAddress ?? IPAddress.Loopback,
        });
        media.RtpReceivedHandler = OnRtp;
        media.RtcpReceivedHandler = rtcp => _sender?.OnRtcp(rtcp);
        return media;
    }

    private void NegotiateInBackground()
    {
        if (!_options.AutoNegotiate || JoinResult?.State != "joined" && !_admitted.Task.IsCompletedSuccessfully) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await NegotiateAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (Volatile.Read(ref _disposed) == 0 && !_ended.Task.IsCompleted && _hub.State == HubConnectionState.Connected)
            {
                _errors.Enqueue($"renegotiation failed: {ex.Message}");
            }
            catch (Exception)
            {
                // the client is closing: the hub call or the answer failed for that reason
            }
        });
    }

    private void SetTracks(IReadOnlyList<TrackInfoDto> tracks)
    {
        _tracks = tracks;
        Interlocked.Increment(ref _tracksVersion);
    }

    // ------------------------------------------------------------------ media

    /// <summary>Waits until DTLS is up (after the first negotiation).</summary>
    public Task WaitMediaConnectedAsync(TimeSpan timeout) =>
        (_media ?? throw new InvalidOperationException($"{Name} has not negotiated")).Connected.WaitAsync(timeout);

    /// <summary>Starts the synthetic microphone and camera on <paramref name="pacer"/> (after the first negotiation).</summary>
    public SyntheticSender StartSending(MediaPacer pacer)
    {
        if (_media?.Session is null) throw new InvalidOperationException($"{Name} has not negotiated");
        if (_sender is not null) return _sender;
        _sender = new SyntheticSender(_media, ParticipantId, _options.MediaShape);
        _pacer = pacer;
        pacer.Add(_sender);
        return _sender;
    }

    public void StopSending()
    {
        if (_sender is not null) _pacer?.Remove(_sender);
    }

    /// <summary>RTP packets received with <paramref name="payloadType"/> (any sender), e.g. to tell plain Opus from RED.</summary>
    public long PacketsOfPayloadType(int payloadType) => Interlocked.Read(ref _packetsByPayloadType[payloadType & 0x7F]);

    private readonly long[] _packetsByPayloadType = new long[128];

    private void OnRtp(ReadOnlySpan<byte> packet)
    {
        if (!RtpPacketReader.TryParse(packet, out var rtp))
        {
            Interlocked.Increment(ref _unknownPackets);
            return;
        }
        Interlocked.Increment(ref _packetsByPayloadType[rtp.PayloadType]);
        Span<char> id = stackalloc char[SyntheticPayload.MaxParticipantIdLength + 2];
        if (!SyntheticPayload.TryRead(rtp.Payload, id, out var idLength, out var video, out var sequence, out var intact, out var sentAt))
        {
            Interlocked.Increment(ref _unknownPackets);
            return;
        }
        var own = JoinResult?.ParticipantId;
        if (own is not null && id[..idLength].SequenceEqual(own)) Interlocked.Increment(ref _ownPackets);
        var kind = video ? "video" : "audio";
        id[idLength] = '/';
        var key = id[..(idLength + 1)];
        Span<char> full = stackalloc char[idLength + 1 + kind.Length];
        key.CopyTo(full);
        kind.AsSpan().CopyTo(full[(idLength + 1)..]);
        if (!_receivedBySpan.TryGetValue(full, out var stats))
        {
            var participantId = new string(id[..idLength]);
            stats = _received.GetOrAdd($"{participantId}/{kind}", _ => new ReceivedTrackStats(participantId, kind));
        }
        var now = MediaClock.NowMicroseconds;
        stats.Count(rtp.Ssrc, sequence, intact, sentAt, now);
        _options.ReceiveObserver?.OnMedia(stats, sentAt, now, packet.Length);
    }

    // ------------------------------------------------------------------ events

    private void Subscribe()
    {
        _hub.On<ParticipantInfo>(HubNames.ParticipantJoined, p =>
        {
            Record(HubNames.ParticipantJoined, p);
            _participants[p.Id] = p;
        });
        _hub.On<ParticipantInfo>(HubNames.ParticipantUpdated, p =>
        {
            Record(HubNames.ParticipantUpdated, p);
            _participants[p.Id] = p;
        });
        _hub.On<ParticipantLeftInfo>(HubNames.ParticipantLeft, p =>
        {
            Record(HubNames.ParticipantLeft, p);
            _participants.TryRemove(p.ParticipantId, out _);
        });
        _hub.On<List<ParticipantInfo>>(HubNames.WaitingRoomChanged, p => Record(HubNames.WaitingRoomChanged, p));
        _hub.On<KindInfo>(HubNames.MutedByTherapist, p =>
        {
            Record(HubNames.MutedByTherapist, p);
            if (_sender is { } sender)
            {
                if (p.Kind == "audio") sender.AudioEnabled = false;
                else sender.VideoEnabled = false;
            }
        });
        _hub.On<LockedInfo>(HubNames.RoomLocked, p => Record(HubNames.RoomLocked, p));
        _hub.On<FocusInfo>(HubNames.FocusChanged, p => Record(HubNames.FocusChanged, p));
        _hub.On<ModeInfo>(HubNames.ModeChanged, p => Record(HubNames.ModeChanged, p));
        _hub.On<AudioRateInfo>(HubNames.AudioRate, p => Record(HubNames.AudioRate, p));
        _hub.On<LinkStatsInfo>(HubNames.LinkStats, p =>
        {
            _linkStats = p;
            Interlocked.Increment(ref _linkStatsReceived);
        });
        _hub.On<List<TrackInfoDto>>(HubNames.TracksChanged, tracks =>
        {
            Record(HubNames.TracksChanged, tracks);
            SetTracks(tracks);
            NegotiateInBackground();
        });
        _hub.On<JoinResultDto>(HubNames.Admitted, result =>
        {
            Record(HubNames.Admitted, result);
            _ = Task.Run(async () =>
            {
                try
                {
                    await EnterAsync(result).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    _errors.Enqueue($"negotiation after admission failed: {ex.Message}");
                }
            });
        });
        _hub.On<ReasonInfo>(HubNames.Removed, p =>
        {
            Record(HubNames.Removed, p);
            End($"removed: {p.Reason}");
        });
        _hub.On<ReasonInfo>(HubNames.SessionEnded, p =>
        {
            Record(HubNames.SessionEnded, p);
            End($"ended: {p.Reason}");
        });
        _hub.On<ReasonInfo>(HubNames.Replaced, p =>
        {
            Record(HubNames.Replaced, p);
            End($"replaced: {p.Reason}");
        });
        _hub.On<PublishLayersInfo>(HubNames.PublishLayers, p => Record(HubNames.PublishLayers, p));
    }

    /// <summary>Removed, ended or disconnected: stop sending and close the media connection (the server closes its side too).</summary>
    private void End(string reason)
    {
        if (!_ended.TrySetResult(reason)) return;
        StopSending();
        _media?.Close(reason);
        // No reconnection after the end (the server closes the connection after Removed and SessionEnded).
        if (_options.Reconnect && _hub.State != HubConnectionState.Disconnected) _ = _hub.StopAsync();
    }

    // An event as a timeout names it: the payload of the kind waited for is what tells why nothing matched.
    private static string Describe(HubEvent e) => e.Payload switch
    {
        ModeInfo or AudioRateInfo => $"{e.Name} {e.Payload}",
        _ => e.Name,
    };

    private void Record(string name, object? payload) => _events.Enqueue(new HubEvent(name, payload, DateTimeOffset.UtcNow));

    /// <summary>Waits for an event named <paramref name="name"/> (already received or to come) whose payload matches.</summary>
    public async Task<T> WaitForEventAsync<T>(string name, Func<T, bool>? match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            foreach (var e in _events)
            {
                if (e.Name == name && e.Payload is T payload && (match is null || match(payload))) return payload;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{Name}: no {name} event matched within {timeout.TotalSeconds:0} s; got: {string.Join(", ", _events.Select(Describe))}");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ controls

    public Task InvokeAsync(string method, params object?[] args) => _hub.InvokeCoreAsync(method, args);

    public Task<T> InvokeAsync<T>(string method, params object?[] args) => _hub.InvokeCoreAsync<T>(method, args);

    public Task SetMutedAsync(string kind, bool muted) => _hub.InvokeAsync(HubNames.SetMuted, new { kind, muted });

    public Task AddIceCandidateAsync(string candidate) => _hub.InvokeAsync(HubNames.AddIceCandidate, candidate);

    public Task AdmitAsync(string participantId) => _hub.InvokeAsync(HubNames.Admit, participantId);

    public Task MuteParticipantAsync(string participantId, string kind) =>
        _hub.InvokeAsync(HubNames.MuteParticipant, new { participantId, kind });

    public Task RemoveParticipantAsync(string participantId) => _hub.InvokeAsync(HubNames.RemoveParticipant, participantId);

    /// <summary>Therapist: hold a patient in "audio+pose", or "auto" to let it go.</summary>
    public Task HoldModeAsync(string participantId, string mode) => _hub.InvokeAsync(HubNames.HoldMode, new { participantId, mode });

    /// <summary>Patient: its page's own evidence of an uplink too weak for video (ReportWeakUplink).</summary>
    public Task ReportWeakUplinkAsync(int estimateKbps, int videoKbps, int rttMs) =>
        _hub.InvokeAsync(HubNames.ReportWeakUplink, new WeakUplinkReportDto(estimateKbps, videoKbps, rttMs));

    /// <summary>Therapist: put a participant in focus (null: nobody).</summary>
    public Task SetFocusAsync(string? participantId) => _hub.InvokeAsync(HubNames.SetFocus, participantId);

    public Task LockRoomAsync(bool locked) => _hub.InvokeAsync(HubNames.LockRoom, locked);

    public Task EndSessionAsync() => _hub.InvokeAsync(HubNames.EndSession);

    // ------------------------------------------------------------------ leaving

    /// <summary>Leaves properly: <c>Leave</c> on the hub, the media connection closed with a DTLS close_notify, the
    /// hub connection stopped.</summary>
    public async Task LeaveAsync()
    {
        Interlocked.Exchange(ref _stopping, 1);
        StopSending();
        if (_hub.State == HubConnectionState.Connected)
        {
            try
            {
                await _hub.InvokeAsync(HubNames.Leave).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException or OperationCanceledException)
            {
            }
        }
        if (_media is not null) await _media.DisposeAsync().ConfigureAwait(false);
        await _hub.StopAsync().ConfigureAwait(false);
    }

    /// <summary>The client vanishes from the media plane: its UDP socket closes with no DTLS close_notify and no more
    /// consent checks (a crashed browser or a lost network).</summary>
    public void VanishMedia()
    {
        StopSending();
        _media?.DropSocketWithoutGoodbye();
    }

    /// <summary>Cuts the hub connection without a close frame and without <c>Leave</c> (the TCP connection is aborted).</summary>
    public void AbortHub() => _webSocket?.Abort();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        StopSending();
        if (_media is not null) await _media.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _hub.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
        _webSocket?.Dispose();
        _negotiation.Dispose();
    }
}
