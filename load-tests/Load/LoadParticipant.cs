namespace TeleRehab.LoadTests.Load;

/// <summary>One simulated participant's measurements. <see cref="OnMedia"/> runs on the media worker for every packet
/// received and allocates nothing; the rest is read from the run's sampler.</summary>
public sealed class LoadParticipant(string name, int room, string role, string profile) : IMediaReceiveObserver
{
    /// <summary>A spell without any media longer than this counts as time without media (DTX sends every 400 ms).</summary>
    public const long GapMicroseconds = 500_000;

    private long _firstMediaAt = -1;
    private long _lastMediaAt = -1;
    private long _withoutMedia;
    private long _longestGap;
    private long _packets;
    private long _bytes;

    public string Name { get; } = name;

    public int Room { get; } = room;

    public string Role { get; } = role;

    public string Profile { get; } = profile;

    public SessionClient? Client { get; set; }

    /// <summary>When the participant started to connect (the link opened), in <see cref="MediaClock"/> microseconds.</summary>
    public long StartedAt { get; set; } = -1;

    public string? Error { get; set; }

    public LatencyHistogram Latency { get; } = new();

    /// <summary>The run's histogram of the current second, shared by all participants.</summary>
    public LatencyHistogram? IntervalLatency { get; init; }

    public long Packets => Interlocked.Read(ref _packets);

    public long Bytes => Interlocked.Read(ref _bytes);

    public bool Joined => Interlocked.Read(ref _firstMediaAt) >= 0;

    /// <summary>From the link opening to the first media received, in milliseconds (null before).</summary>
    public double? JoinMs => Interlocked.Read(ref _firstMediaAt) is >= 0 and var first && StartedAt >= 0 ? (first - StartedAt) / 1000.0 : null;

    public long LastMediaAt => Interlocked.Read(ref _lastMediaAt);

    public void OnMedia(ReceivedTrackStats track, long sentAt, long receivedAt, int length)
    {
        Interlocked.Increment(ref _packets);
        Interlocked.Add(ref _bytes, length);
        var last = _lastMediaAt;
        if (last < 0) Interlocked.Exchange(ref _firstMediaAt, receivedAt);
        else if (receivedAt - last > GapMicroseconds)
        {
            Interlocked.Add(ref _withoutMedia, receivedAt - last);
            if (receivedAt - last > _longestGap) Interlocked.Exchange(ref _longestGap, receivedAt - last);
        }
        Interlocked.Exchange(ref _lastMediaAt, receivedAt);
        if (sentAt < 0) return;
        var ms = (receivedAt - sentAt) / 1000.0;
        Latency.Record(ms);
        IntervalLatency?.Record(ms);
    }

    /// <summary>Milliseconds without media since the first media, counting a spell still going on at <paramref name="now"/>.</summary>
    public double WithoutMediaMs(long now)
    {
        var last = LastMediaAt;
        var ongoing = last >= 0 && now - last > GapMicroseconds ? now - last : 0;
        return (Interlocked.Read(ref _withoutMedia) + ongoing) / 1000.0;
    }

    public double LongestGapMs(long now)
    {
        var last = LastMediaAt;
        var ongoing = last >= 0 ? now - last : 0;
        return Math.Max(Interlocked.Read(ref _longestGap), ongoing > GapMicroseconds ? ongoing : 0) / 1000.0;
    }

    /// <summary>Expected and received packets over every remote track (for loss).</summary>
    public (long Expected, long Received) Delivery()
    {
        long expected = 0, received = 0;
        if (Client is null) return (0, 0);
        foreach (var track in Client.Received)
        {
            expected += track.Expected;
            received += Math.Min(track.Packets, track.Expected);
        }
        return (expected, received);
    }

    public ParticipantResult Result(long now)
    {
        var (expected, received) = Delivery();
        var client = Client;
        var events = client?.Events ?? [];
        var link = client?.LinkStats;
        return new ParticipantResult
        {
            Name = Name,
            Room = Room,
            Role = Role,
            Profile = Profile,
            Joined = Joined,
            JoinMs = JoinMs,
            Error = Error,
            PacketsReceived = Packets,
            BytesReceived = Bytes,
            PacketsExpected = expected,
            LossPercent = expected > 0 ? 100.0 * (expected - received) / expected : null,
            LatencyP50Ms = Latency.Quantile(0.5),
            LatencyP95Ms = Latency.Quantile(0.95),
            JitterMs = client?.Received.Select(t => t.JitterMs).DefaultIfEmpty(0).Max(),
            WithoutMediaMs = Joined ? WithoutMediaMs(now) : null,
            LongestGapMs = Joined ? LongestGapMs(now) : null,
            OutOfOrder = client?.Received.Sum(t => t.OutOfOrder) ?? 0,
            Retransmissions = link?.Subscriptions.Sum(s => s.Retransmissions) ?? 0,
            LayerSwitches = link?.Subscriptions.Sum(s => s.Switches) ?? 0,
            ModeChanges = events.Count(e => e.Name == HubNames.ModeChanged),
            LayerEvents = events.Count(e => e.Name == HubNames.PublishLayers),
            AudioRateChanges = events.Count(e => e.Name == HubNames.AudioRate),
            KeyframeRequests = client?.Sender?.KeyframeRequests ?? 0,
            AudioSent = client?.Sender?.AudioPacketsSent ?? 0,
            VideoSent = client?.Sender?.VideoPacketsSent ?? 0,
        };
    }
}

/// <summary>One participant's figures in the report.</summary>
public sealed record ParticipantResult
{
    public required string Name { get; init; }
    public int Room { get; init; }
    public required string Role { get; init; }
    public required string Profile { get; init; }
    public bool Joined { get; init; }
    public double? JoinMs { get; init; }
    public string? Error { get; init; }
    public long PacketsReceived { get; init; }
    public long BytesReceived { get; init; }
    public long PacketsExpected { get; init; }
    public double? LossPercent { get; init; }
    public double? LatencyP50Ms { get; init; }
    public double? LatencyP95Ms { get; init; }
    public double? JitterMs { get; init; }
    public double? WithoutMediaMs { get; init; }
    public double? LongestGapMs { get; init; }
    public long OutOfOrder { get; init; }
    public long Retransmissions { get; init; }
    public long LayerSwitches { get; init; }
    public int ModeChanges { get; init; }
    public int LayerEvents { get; init; }
    public int AudioRateChanges { get; init; }
    public long KeyframeRequests { get; init; }
    public long AudioSent { get; init; }
    public long VideoSent { get; init; }
}
