using System.Diagnostics;
using System.Net;
using TeleRehab.LoadTests.Link;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;

namespace TeleRehab.LoadTests.Load;

/// <summary>One load run: creates <see cref="LoadOptions.Rooms"/> sessions through the operator API over the ramp, joins
/// their participants through the hub (each behind its own emulated link when its profile is not clean), sends
/// synthetic media, samples everything once a second, then leaves and ends the sessions.
/// The whole generator shares one media worker (one thread for every participant's ICE, DTLS and SRTP), one 20 ms pacer
/// (every sender), and one link emulator thread per profile; sockets are read by the runtime's I/O completions, so no
/// participant has a thread of its own.</summary>
public sealed class LoadRun : IAsyncDisposable
{
    public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(30);

    private readonly LoadOptions _options;
    private readonly ILoadProgress _progress;
    private readonly HttpClient _http;
    private readonly OperatorApi _api;
    private readonly MediaWorker _worker;
    private readonly MediaPacer _pacer = new();
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly Dictionary<(string Profile, IPEndPoint Target), UdpLinkEmulator> _links = [];
    private readonly List<LoadParticipant> _participants = [];
    private readonly List<string> _sessions = [];
    private readonly List<string> _errors = [];
    private readonly LatencyHistogram _intervalLatency = new();
    private int _linkSeed;

    public LoadRun(LoadOptions options, ILoadProgress progress)
    {
        _options = options;
        _progress = progress;
        _http = new HttpClient { BaseAddress = options.Target, Timeout = TimeSpan.FromSeconds(30) };
        _api = new OperatorApi(_http, options.ApiKey);
        _worker = new MediaWorker(0, TimeProvider.System, TimeProvider.System.GetTimestamp(), _ => { });
        _worker.Start();
        _linkSeed = options.Seed;
        var perRoom = options.Kind == "group" ? 1 + options.Patients : 2;
        _linked = options.Profiles.Assign(options.Rooms * (options.LinksFor == LinkedRoles.All ? perRoom : perRoom - 1));
    }

    private readonly IReadOnlyList<ProfileShare> _linked;

    public static async Task<LoadResult> RunAsync(LoadOptions options, ILoadProgress progress, CancellationToken cancel)
    {
        await using var run = new LoadRun(options, progress);
        return await run.RunAsync(cancel).ConfigureAwait(false);
    }

    private async Task<LoadResult> RunAsync(CancellationToken cancel)
    {
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var pid = _options.ServerPid ?? (ProcStat.IsLocal(_options.Target) ? ProcStat.FindListener(_options.Target.Port) : null);
        var probe = new ServerProbe(_http, pid);
        var timeline = new List<TimelinePoint>();
        var total = _options.Ramp + _options.Duration;
        _progress.Message($"{_options.Rooms} {_options.Kind} rooms, {_options.Participants} participants, links {_options.Profiles} ({_options.LinksFor.ToString().ToLowerInvariant()}), " +
            $"ramp {_options.Ramp.TotalSeconds:0} s, then {_options.Duration.TotalSeconds:0} s measured; server process {(pid is { } p ? p.ToString(System.Globalization.CultureInfo.InvariantCulture) : "not on this machine (no CPU figures)")}");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var rooms = new List<Task>();
        var starter = Task.Run(async () =>
        {
            for (var r = 0; r < _options.Rooms && !stop.IsCancellationRequested; r++)
            {
                var due = _options.Rooms <= 1 ? TimeSpan.Zero : _options.Ramp * r / _options.Rooms;
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stop.Token).ConfigureAwait(false);
                var room = r;
                lock (rooms) rooms.Add(Task.Run(() => StartRoomAsync(room, stop.Token)));
            }
        }, stop.Token);

        var sampler = new Sampler(this, probe, clock);
        await sampler.InitAsync(stop.Token).ConfigureAwait(false);
        using (var ticks = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            try
            {
                while (clock.Elapsed < total && await ticks.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
                {
                    var point = await sampler.SampleAsync(stop.Token).ConfigureAwait(false);
                    timeline.Add(point);
                    _progress.Report(new ProgressSnapshot(point, _options.Participants, total));
                }
            }
            catch (OperationCanceledException)
            {
                _progress.Message("stopped early: the figures cover the run so far");
            }
        }
        var now = MediaClock.NowMicroseconds;
        var results = Participants.Select(p => p.Result(now)).ToList();
        var serverTotals = sampler.CounterTotals();
        var latency = new LatencyHistogram();
        foreach (var participant in Participants) latency.Add(participant.Latency);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await starter.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        Task[] pending;
        lock (rooms) pending = [.. rooms];
        await Task.WhenAll(pending).ConfigureAwait(false);
        await LeaveAllAsync().ConfigureAwait(false);

        var result = LoadResult.Create(_options, started, clock.Elapsed, pid, results, timeline, serverTotals, Errors, latency);
        return result;
    }

    private IReadOnlyList<LoadParticipant> Participants
    {
        get { lock (_participants) return _participants.ToList(); }
    }

    private IReadOnlyList<string> Errors
    {
        get { lock (_errors) return _errors.ToList(); }
    }

    private void Error(string message)
    {
        lock (_errors)
        {
            if (_errors.Count < 200) _errors.Add(message);
        }
        _progress.Message($"error: {message}");
    }

    private async Task StartRoomAsync(int room, CancellationToken cancel)
    {
        var group = _options.Kind == "group";
        var roles = new List<string> { "therapist" };
        roles.AddRange(Enumerable.Repeat("patient", group ? _options.Patients : 1));
        var all = _options.LinksFor == LinkedRoles.All;
        var members = roles.Select((role, i) =>
        {
            var share = all ? _linked[room * roles.Count + i] : role == "patient" ? _linked[room * (roles.Count - 1) + i - 1] : null;
            return (Participant: new LoadParticipant($"r{room + 1}-{(role == "therapist" ? "t" : $"p{i}")}", room + 1, role, share?.Name ?? "clean")
            {
                IntervalLatency = _intervalLatency,
            }, Share: share);
        }).ToList();
        lock (_participants) _participants.AddRange(members.Select(m => m.Participant));
        OperatorApi.Session session;
        try
        {
            session = await _api.CreateAsync(_options.Kind, $"load test room {room + 1}", cancel).ConfigureAwait(false);
            lock (_sessions) _sessions.Add(session.Id);
        }
        catch (Exception e) when (e is OperatorApiException or HttpRequestException or TaskCanceledException)
        {
            foreach (var (p, _) in members) p.Error = $"session not created: {e.Message}";
            if (!cancel.IsCancellationRequested) Error($"room {room + 1}: {e.Message}");
            return;
        }
        for (var i = 0; i < members.Count && !cancel.IsCancellationRequested; i++)
        {
            var (participant, share) = members[i];
            try
            {
                var link = i == 0 ? session.TherapistLink
                    : i - 1 < session.PatientLinks.Count ? session.PatientLinks[i - 1]
                    : await _api.InviteAsync(session.Id, "patient", participant.Name, cancel).ConfigureAwait(false);
                await JoinAsync(participant, share, SessionClient.TokenFromLink(link), members[0].Participant.Client, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancel.IsCancellationRequested || e is not OperationCanceledException)
            {
                participant.Error ??= e.Message;
                Error($"{participant.Name}: {e.Message}");
            }
            catch (OperationCanceledException)
            {
                participant.Error ??= "the run ended before it joined";
            }
        }
    }

    /// <summary>The media a participant behind <paramref name="share"/> sends: what a browser's congestion control settles
    /// on for its uplink (video at most 70 % of the up rate less the audio; no video below 50 kbit/s, as the server's
    /// audio + pose mode).</summary>
    internal static (SyntheticMediaShape Shape, bool Video) ShapeFor(LoadOptions options, ProfileShare? share)
    {
        var kbps = options.VideoKbps;
        if (share?.Schedule.Entries[0].Profile.Up is { IsRateLimited: true } up) kbps = Math.Min(kbps, (int)(up.RateKbps * 0.7) - 40);
        return (SyntheticMediaShape.Realistic(Math.Max(kbps, 50), options.Fps), kbps >= 50);
    }

    /// <summary>Joins; a participant put in the waiting room (a demo session) is admitted by its room's therapist.</summary>
    private async Task JoinAsync(LoadParticipant participant, ProfileShare? share, string token, SessionClient? therapist, CancellationToken cancel)
    {
        var (shape, video) = ShapeFor(_options, share);
        var via = share is { IsClean: false } ? (Func<IPEndPoint, IPEndPoint>)(target => LinkFor(share, target)) : null;
        var client = new SessionClient(_options.Target, _worker, _certificate, new SessionClientOptions
        {
            Name = participant.Name,
            SendVideo = video,
            MediaShape = shape,
            ReceiveObserver = participant,
            MediaVia = via,
            BindAddress = _options.BindAddress,
            DataChannel = _options.Pose,
        });
        participant.StartedAt = MediaClock.NowMicroseconds;
        participant.Client = client;
        var result = await client.JoinAsync(token, cancel).WaitAsync(JoinTimeout, cancel).ConfigureAwait(false);
        if (result.State == "waiting" && therapist is not null && !ReferenceEquals(therapist, client))
        {
            await therapist.AdmitAsync(result.ParticipantId).WaitAsync(JoinTimeout, cancel).ConfigureAwait(false);
            result = await client.Admitted.WaitAsync(JoinTimeout, cancel).ConfigureAwait(false);
        }
        if (result.State != "joined") throw new InvalidOperationException($"not admitted: {result.State}");
        await client.WaitMediaConnectedAsync(JoinTimeout).WaitAsync(cancel).ConfigureAwait(false);
        if (client.Media!.SendMids.Count > 0) client.StartSending(_pacer);
        if (_options.Pose && participant.Role == "patient") PoseSender.Start(client, _pacer);
    }

    private IPEndPoint LinkFor(ProfileShare share, IPEndPoint target)
    {
        lock (_links)
        {
            if (!_links.TryGetValue((share.Name, target), out var link))
            {
                link = new UdpLinkEmulator(new UdpLinkEmulatorOptions
                {
                    Listen = new IPEndPoint(_options.BindAddress.Equals(IPAddress.Any) ? IPAddress.Loopback : _options.BindAddress, 0),
                    Target = target,
                    Schedule = share.Schedule,
                    Seed = _linkSeed++,
                });
                _links[(share.Name, target)] = link;
            }
            return link.LocalEndPoint;
        }
    }

    private async Task LeaveAllAsync()
    {
        var clients = Participants.Select(p => p.Client).OfType<SessionClient>().ToList();
        foreach (var client in clients) client.StopSending();
        await Task.WhenAll(clients.Select(async c =>
        {
            try
            {
                await c.LeaveAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // leaving is best effort: the server times a silent client out
            }
        })).ConfigureAwait(false);
        string[] sessions;
        lock (_sessions) sessions = [.. _sessions];
        await Task.WhenAll(sessions.Select(_api.EndAsync)).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in Participants.Select(p => p.Client).OfType<SessionClient>())
        {
            try
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
            }
        }
        await _pacer.DisposeAsync().ConfigureAwait(false);
        List<UdpLinkEmulator> links;
        lock (_links) links = [.. _links.Values];
        foreach (var link in links) await link.DisposeAsync().ConfigureAwait(false);
        _worker.Dispose();
        _http.Dispose();
    }

    /// <summary>Turns the run's state into one <see cref="TimelinePoint"/> a second.</summary>
    private sealed class Sampler(LoadRun run, ServerProbe probe, Stopwatch clock)
    {
        private static readonly string[] Counters =
        [
            "telerehab_packets_in_total", "telerehab_packets_out_total", "telerehab_retransmissions_total",
            "telerehab_nacks_received_total", "telerehab_plis_received_total", "telerehab_media_dropped_datagrams_total",
            "telerehab_bytes_in_total", "telerehab_bytes_out_total", "telerehab_pose_frames_total", "telerehab_datachannel_messages_total",
        ];

        private readonly Process _self = Process.GetCurrentProcess();
        private IReadOnlyDictionary<string, double>? _firstMetrics;
        private IReadOnlyDictionary<string, double>? _lastMetrics;
        private double? _lastServerCpu;
        private TimeSpan _lastAt;
        private TimeSpan _lastCpu;
        private long _lastBytes;
        private long _lastExpected;
        private long _lastReceived;

        public async Task InitAsync(CancellationToken cancel)
        {
            var first = await probe.SampleAsync(cancel).ConfigureAwait(false);
            _firstMetrics = _lastMetrics = first.Metrics;
            _lastServerCpu = first.CpuSeconds;
            _self.Refresh();
            _lastCpu = _self.TotalProcessorTime;
            _lastAt = clock.Elapsed;
        }

        public async Task<TimelinePoint> SampleAsync(CancellationToken cancel)
        {
            var server = await probe.SampleAsync(cancel).ConfigureAwait(false);
            var at = clock.Elapsed;
            var seconds = Math.Max(0.001, (at - _lastAt).TotalSeconds);
            _self.Refresh();
            var cpu = _self.TotalProcessorTime;
            var now = MediaClock.NowMicroseconds;
            var participants = run.Participants;
            long bytes = 0, expected = 0, received = 0;
            int joined = 0, flowing = 0, failed = 0;
            foreach (var p in participants)
            {
                bytes += p.Bytes;
                var (e, r) = p.Delivery();
                expected += e;
                received += r;
                if (p.Joined) joined++;
                if (p.LastMediaAt >= 0 && now - p.LastMediaAt < 1_000_000) flowing++;
                if (p.Error is not null) failed++;
            }
            var interval = new LatencyHistogram();
            run._intervalLatency.DrainInto(interval);
            var lossBase = expected - _lastExpected;
            var point = new TimelinePoint
            {
                Seconds = at.TotalSeconds,
                Participants = participants.Count,
                Joined = joined,
                Flowing = flowing,
                Failed = failed,
                ReceivedKbps = (bytes - _lastBytes) * 8 / 1000.0 / seconds,
                LossPercent = lossBase > 0 ? Math.Max(0, 100.0 * (lossBase - (received - _lastReceived)) / lossBase) : null,
                LatencyP50Ms = interval.Quantile(0.5),
                LatencyP95Ms = interval.Quantile(0.95),
                GeneratorCpuPercent = 100 * (cpu - _lastCpu).TotalSeconds / seconds,
                ServerCpuPercent = server.CpuSeconds is { } c && _lastServerCpu is { } lc ? 100 * (c - lc) / seconds : null,
                ServerRssMb = server.RssBytes / 1048576.0,
                ServerPacketsInPerSecond = Rate(server, "telerehab_packets_in_total", seconds),
                ServerPacketsOutPerSecond = Rate(server, "telerehab_packets_out_total", seconds),
                ServerRooms = server.Metrics?.GetValueOrDefault("telerehab_rooms"),
                ServerError = server.Error,
            };
            (_lastAt, _lastCpu, _lastBytes, _lastExpected, _lastReceived) = (at, cpu, bytes, expected, received);
            _lastMetrics = server.Metrics ?? _lastMetrics;
            _lastServerCpu = server.CpuSeconds ?? _lastServerCpu;
            return point;
        }

        private double? Rate(ServerSample server, string name, double seconds) =>
            server.Metrics?.GetValueOrDefault(name) is { } now && _lastMetrics?.GetValueOrDefault(name) is { } before ? (now - before) / seconds : null;

        /// <summary>How much each of the server's main counters grew during the run.</summary>
        public Dictionary<string, double> CounterTotals() =>
            Counters.Where(c => _firstMetrics?.ContainsKey(c) == true && _lastMetrics?.ContainsKey(c) == true)
                .ToDictionary(c => c, c => _lastMetrics![c] - _firstMetrics![c]);
    }
}
