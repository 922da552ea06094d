namespace TeleRehab.Media.Sfu;

/// <summary>What a participant's page sends, the last rungs of the weak-link ladder on its uplink.</summary>
public enum UplinkMode
{
    /// <summary>Audio and video (the SFU picks layers per receiver; the page's own estimate picks what it sends).</summary>
    Video,

    /// <summary>Audio and pose keypoints, no video: the uplink cannot carry the lowest video layer beside the audio.</summary>
    AudioPose,
}

/// <summary>What the SFU saw of one participant's uplink over one interval (<see cref="UplinkModeDecider"/>).</summary>
/// <param name="ReceivedBps">Everything the uplink delivered (audio, video, retransmissions, padding), bits/s.</param>
/// <param name="VideoBps">Of which video, bits/s.</param>
/// <param name="VideoFps">Frames per second of the best video encoding received.</param>
/// <param name="VideoWanted">The participant publishes video that is not muted (so missing frames mean the link).</param>
/// <param name="StandingDelay">The queue every audio packet of the interval waited in (<see cref="QueueDelayMeter"/>).</param>
/// <param name="AudioExpected">Audio packets expected in the interval (from sequence numbers).</param>
/// <param name="AudioLost">Of which never received.</param>
/// <param name="DownlinkBps">The SFU's estimate of the same participant's downlink (0: none yet): described with the
/// decision, but no witness of a new path (see the decider).</param>
/// <param name="RoundTrip">The participant's latest round trip as the SFU measured it (zero: not known yet).</param>
public readonly record struct UplinkSample(
    long ReceivedBps, long VideoBps, double VideoFps, bool VideoWanted, TimeSpan StandingDelay, int AudioExpected, int AudioLost,
    long DownlinkBps = 0, TimeSpan RoundTrip = default);

public sealed class UplinkModeOptions
{
    /// <summary>The lowest video layer at the least rate worth sending (a 320x180 picture at a few frames/s).</summary>
    public long LowestVideoBps { get; init; } = 50_000;

    /// <summary>Video below this frame rate shows no movement a therapist can follow: the skeleton does it better.</summary>
    public double MinUsefulFps { get; init; } = 5;

    /// <summary>A standing queue this long on the audio means the uplink is congested.</summary>
    public TimeSpan CongestedDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A standing queue this long drops video whatever the rates: the talk itself is failing.</summary>
    public TimeSpan SevereDelay { get; init; } = TimeSpan.FromMilliseconds(1000);

    /// <summary>Audio loss over the last <see cref="LossWindow"/> samples at or above this means congestion.</summary>
    public double CongestedLoss { get; init; } = 0.10;

    public int LossWindow { get; init; } = 4;

    /// <summary>How long the uplink must be weak without a break before video stops (noise does not switch).</summary>
    public TimeSpan DownAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The dwell when the video is only thin and slow, without congestion (the browser's own estimate starves
    /// it, the voice loses nothing): after its start overshoots a 3G uplink the browser's estimate falls and needs some
    /// seconds to climb again (3g-poor: 1 frame/s at 10-25 kbit/s for about 5 s, then 29 frames/s at 90).</summary>
    public TimeSpan SlowDownAfter { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>The first trial of video after a step down; each failed trial doubles the wait, up to
    /// <see cref="MaxTrialWait"/>.</summary>
    public TimeSpan FirstTrialAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>After a step down the queue it left drains for some seconds: until then the floors of the downlink
    /// estimate and the round trip follow every sample, and no new path is recognised.</summary>
    public TimeSpan FloorSettling { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxTrialWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>At most one trial on a new path (see <see cref="UplinkModeDecider"/>) per this long.</summary>
    public TimeSpan MinTrialGap { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>The rate the page sends its lowest video layer at during a trial (not shown to anyone): above
    /// <see cref="LowestVideoBps"/>, so that a link with room for video shows it within the trial.</summary>
    public long TrialBps { get; init; } = 80_000;

    /// <summary>A trial by the clock succeeds when its video has arrived this long at <see cref="LowestVideoBps"/> or
    /// more on average without congestion, and fails otherwise: what video mode needs is the lowest layer beside the
    /// voice at its usual rate, and an EDGE uplink carries the layer only at what the voice and the movement leave (up
    /// to 50 kbit/s of 60 without a queue, so nothing less than the layer's rate can tell it from a faster link). A
    /// trial on a new path needs only two fifths of the layer's rate: there the browser's estimate, still that of the
    /// weak link, starts the layer slowly, and the path itself showed it has room. (Not by frame rate: the browser
    /// raises it with its estimate.)</summary>
    public TimeSpan TrialDuration { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>A trial by the clock whose video has arrived this long at under seven tenths of
    /// <see cref="LowestVideoBps"/> on average fails then, before <see cref="TrialDuration"/>.</summary>
    public TimeSpan TrialEarlyVerdict { get; init; } = TimeSpan.FromSeconds(2.5);

    /// <summary>Thin, still video without congestion steps down only on a path with a round trip this long or longer
    /// (a 2G or poor 3G radio); on a shorter one a slow picture is the device's, not the link's.</summary>
    public TimeSpan SlowPathRoundTrip { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>After a recovery, and after the participant's video starts, only congestion steps down for this long: the browser's estimate, low from the weak
    /// spell, needs some seconds to give the video its rate and frame rate back.</summary>
    public TimeSpan RecoveryGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>For this long after the participant's video starts, congestion is only a standing queue of
    /// <see cref="StartCongestedDelay"/> or more (and <see cref="SevereDelay"/> as ever): the browser's start overshoots
    /// a 3G uplink for some seconds and its own estimate ends it, while an EDGE or GPRS radio's queue (800 ms, 1 s)
    /// shows within two.</summary>
    public TimeSpan StartGrace { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan StartCongestedDelay { get; init; } = TimeSpan.FromMilliseconds(600);

    /// <summary>A trial whose video does not arrive within this long fails (the link or the page could not send it).</summary>
    public TimeSpan TrialTimeout { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>During a trial a standing queue this much longer than the one before it ends it at once: the audio must
    /// not pay for the test.</summary>
    public TimeSpan TrialAbortDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>In audio + pose, after the floors settled and away from trials: a standing queue of
    /// <see cref="CongestedDelay"/> or more for this long, or audio loss of <see cref="StarvedLoss"/> or more over
    /// <see cref="StarvedLossWindow"/> samples, means the link cannot carry even the voice and the movement at their
    /// weak-link rates (GPRS: 25 kbit/s up): <see cref="UplinkModeDecider.Starved"/>.</summary>
    public TimeSpan StarvedAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Twice the congested loss: EDGE's bursts (3 % over time) reach 10 % over ten seconds now and then.</summary>
    public double StarvedLoss { get; init; } = 0.20;

    public int StarvedLossWindow { get; init; } = 20;

    /// <summary>A step down within this long of a recovery keeps the trial wait growing (no flapping on a link that
    /// carries video only briefly); after it the wait starts again at <see cref="FirstTrialAfter"/>.</summary>
    public TimeSpan FlapWindow { get; init; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (LowestVideoBps <= 0 || TrialBps <= 0 || MinUsefulFps <= 0 || LossWindow < 1 || StarvedLossWindow < 1 || CongestedLoss is <= 0 or > 1 || StarvedLoss is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(LowestVideoBps), "uplink ladder rates, frame rate and loss must be positive");
        if (DownAfter < TimeSpan.Zero || SlowDownAfter < DownAfter || StarvedAfter < TimeSpan.Zero || FirstTrialAfter <= TimeSpan.Zero || MaxTrialWait < FirstTrialAfter
            || TrialDuration <= TimeSpan.Zero || TrialTimeout < TrialDuration || TrialEarlyVerdict > TrialDuration)
            throw new ArgumentOutOfRangeException(nameof(DownAfter), "uplink ladder times are out of order");
    }
}

/// <summary>
/// The server's decision, per participant, between sending video and sending audio + pose (issue: the weak-link
/// ladder). Sans-I/O: the caller feeds an <see cref="UplinkSample"/> every interval and carries out
/// <see cref="Mode"/> and <see cref="TrialBps"/> (tells the page) when <see cref="Update"/> says they changed.
/// <list type="bullet">
/// <item>Down: the uplink is weak when the video it delivers is below the lowest layer's rate or too slow to show
/// movement while the link is congested (a standing queue on the audio, or audio loss), or both without congestion
/// (the browser's own estimate starves it); or when the queue alone is severe. Weak for <see cref="UplinkModeOptions.DownAfter"/> without a break: audio + pose.</item>
/// <item>Up only after a trial succeeds: in audio + pose the uplink carries no video, so nothing shows whether it
/// could. After a wait the page sends its lowest layer at <see cref="UplinkModeOptions.TrialBps"/> (the SFU shows it to
/// nobody); congestion ends the trial at once and doubles the wait; video arriving without congestion for
/// <see cref="UplinkModeOptions.TrialDuration"/> brings video back. A round trip that halves (a new path: the phone
/// moved from EDGE to 4G coverage) starts a trial at once, unless the last step down came soon after a recovery (the
/// link flaps).</item>
/// <item>Below audio + pose: a link still congested with the voice and the movement alone is <see cref="Starved"/>
/// (they go at their least rates) until video comes back or a new path shows.</item>
/// <item>From outside: <see cref="StepDown"/> puts it in audio + pose for evidence the SFU cannot see itself, the
/// pre-session check's (<see cref="Check"/>, at the start) or the page's own (<see cref="Device"/>, its sender
/// starved while its hub was slow); trials bring video back as after its own step down.</item>
/// </list>
/// </summary>
public sealed class UplinkModeDecider
{
    public const string WeakUplink = "weak-uplink";
    public const string Recovered = "recovered";

    /// <summary>Audio + pose from the start: the patient's pre-session check (/check) found the link too weak for video.</summary>
    public const string Check = "check";

    /// <summary>Audio + pose on the page's own evidence: its video sender was starved for longer than the SFU takes to
    /// decide, and no decision reached it (a slow hub connection).</summary>
    public const string Device = "device";

    private readonly UplinkModeOptions _options;
    private readonly (int Expected, int Lost)[] _loss;
    private int _lossAt;
    private TimeSpan? _weakSince;
    private TimeSpan _trialWait;
    private TimeSpan _nextTrialAt;
    private TimeSpan _trialStart;
    private TimeSpan? _trialVideoSince;
    private long _trialVideoSum;
    private int _trialVideoSamples;
    private TimeSpan? _recoveredAt;
    private TimeSpan? _lastTrialEnd;
    private bool _flapping;
    private TimeSpan _roundTripFloor;
    private TimeSpan _steppedDownAt;
    private TimeSpan _preTrialDelay;
    private bool _trialOnNewPath;
    private TimeSpan? _videoSince;
    private TimeSpan _floorsSince;
    private TimeSpan? _congestedSince;
    private readonly (int Expected, int Lost)[] _starvedLoss;
    private int _starvedLossAt, _starvedLossSamples;

    public UplinkModeDecider(UplinkModeOptions? options = null)
    {
        _options = options ?? new UplinkModeOptions();
        _options.Validate();
        _loss = new (int, int)[_options.LossWindow];
        _starvedLoss = new (int, int)[_options.StarvedLossWindow];
        _trialWait = _options.FirstTrialAfter;
    }

    public UplinkMode Mode { get; private set; } = UplinkMode.Video;

    /// <summary>Why: "" at first, <see cref="WeakUplink"/>, <see cref="Check"/> or <see cref="Device"/> (in audio +
    /// pose), <see cref="Recovered"/>.</summary>
    public string Reason { get; private set; } = "";

    /// <summary>While a trial runs (in <see cref="UplinkMode.AudioPose"/>), the rate the page sends its lowest video
    /// layer at; otherwise 0.</summary>
    public long TrialBps { get; private set; }

    /// <summary>
    /// In <see cref="UplinkMode.AudioPose"/>: the link stays congested with the voice and the movement alone (see
    /// <see cref="UplinkModeOptions.StarvedAfter"/>), so they are to be sent at the least rates that keep them (the
    /// room's voices at a lower rate in longer packets, the movement at fewer frames a second). No trial by the clock
    /// runs meanwhile (the link has no room for one); it holds until a new path shows and its trial brings video back.
    /// Changes are reported by <see cref="Update"/> like the mode's.
    /// </summary>
    public bool Starved { get; private set; }

    /// <summary>Switches between the modes so far, and trials (failed ones are the difference).</summary>
    public int Switches { get; private set; }

    public int Trials { get; private set; }

    /// <summary>The latest sample taken.</summary>
    public UplinkSample LastSample { get; private set; }

    /// <summary>The decision and the latest sample in a line (statistics, test timelines).</summary>
    public string Describe() =>
        $"{(Mode == UplinkMode.Video ? "video" : "audio+pose")}{(Mode == UplinkMode.AudioPose && Reason != WeakUplink ? $" for {Reason}" : "")}" +
        $"{(Starved ? " starved" : "")}{(TrialBps > 0 ? $" trial {TrialBps / 1000}" : "")} " +
        $"(up {LastSample.ReceivedBps / 1000} video {LastSample.VideoBps / 1000} kbit/s {LastSample.VideoFps:0.#} fps, " +
        $"queue {LastSample.StandingDelay.TotalMilliseconds:0} ms, loss {RecentLoss():P0}, rtt {LastSample.RoundTrip.TotalMilliseconds:0} ms, " +
        $"down {LastSample.DownlinkBps / 1000} kbit/s; " +
        $"switches {Switches}, trials {Trials})";

    /// <summary>Takes one interval's sample; true when <see cref="Mode"/> or <see cref="TrialBps"/> changed.</summary>
    public bool Update(in UplinkSample sample, TimeSpan now)
    {
        LastSample = sample;
        _loss[_lossAt] = (sample.AudioExpected, sample.AudioLost);
        _lossAt = (_lossAt + 1) % _loss.Length;
        return Mode == UplinkMode.Video ? UpdateVideo(sample, now) : UpdateAudioPose(sample, now);
    }

    private bool UpdateVideo(in UplinkSample sample, TimeSpan now)
    {
        if (!IsWeak(sample, now, out var slowOnly))
        {
            _weakSince = null;
            return false;
        }
        _weakSince ??= now;
        // Slow video on a link without congestion costs the voice nothing: the browser gets longer to raise it.
        if (now - _weakSince.Value < (slowOnly ? _options.SlowDownAfter : _options.DownAfter)) return false;
        EnterAudioPose(WeakUplink, sample, now);
        return true;
    }

    /// <summary>
    /// Audio + pose for evidence from outside the SFU's measurements: <see cref="Check"/> (the pre-session check found
    /// the link too weak for video; called before the first sample, the decider starts stepped down) or
    /// <see cref="Device"/> (the page's own sender was starved). Trials follow as after the decider's own step down (the
    /// first after <see cref="UplinkModeOptions.FirstTrialAfter"/>), so video comes back by itself when the link allows;
    /// a step down soon after a recovery counts as flapping, as its own does. False, and nothing changes, when already
    /// in audio + pose (the decider's own evidence came first) or for another reason.
    /// </summary>
    public bool StepDown(string reason, TimeSpan now)
    {
        if (reason is not (Check or Device)) throw new ArgumentOutOfRangeException(nameof(reason), reason, "a step down from outside is for the check or the device");
        if (Mode == UplinkMode.AudioPose) return false;
        EnterAudioPose(reason, LastSample, now);
        return true;
    }

    private void EnterAudioPose(string reason, in UplinkSample sample, TimeSpan now)
    {
        // A step down soon after a recovery: the link carries video only in spells, so wait longer before the next try.
        _flapping = _recoveredAt is { } recovered && now - recovered < _options.FlapWindow;
        _trialWait = _flapping ? Min(_trialWait * 2, _options.MaxTrialWait) : _options.FirstTrialAfter;
        _nextTrialAt = now + _trialWait;
        _roundTripFloor = sample.RoundTrip;
        _steppedDownAt = _floorsSince = now;
        _weakSince = null;
        _congestedSince = null;
        Array.Clear(_starvedLoss);
        _starvedLossSamples = 0;
        Starved = false;
        Mode = UplinkMode.AudioPose;
        Reason = reason;
        Switches++;
    }

    private bool UpdateAudioPose(in UplinkSample sample, TimeSpan now)
    {
        var newPath = OnNewPath(sample, now);
        var gained = newPath && !_flapping && (_lastTrialEnd is not { } end || now - end >= _options.MinTrialGap);
        if (TrialBps == 0)
        {
            if (!gained && CheckStarved(sample, now)) return true;
            // A trial by the clock waits for a sample without congestion: on a link that cannot carry the voice and the
            // movement, video would only add to the queue.
            // A starved link has no room for one at all: only a new path ends it.
            var calm = sample.StandingDelay < _options.CongestedDelay && RecentLoss() < _options.CongestedLoss;
            if (!gained && (now < _nextTrialAt || !calm || Starved)) return false;
            if (gained) Starved = false;
            TrialBps = _options.TrialBps;
            _trialStart = now;
            _trialOnNewPath = gained;
            _preTrialDelay = sample.StandingDelay;
            _trialVideoSince = null;
            Trials++;
            return true;
        }

        // The queue the trial adds, over what stood before it (the meter's floor may sit a few tens of ms high).
        if (sample.StandingDelay - _preTrialDelay >= _options.TrialAbortDelay || RecentLoss() >= _options.CongestedLoss)
            return FailTrial(now);
        // The trial's video counts from its first sample on (the page needs a round trip and a key frame to start it).
        if (_trialVideoSince is null && sample.VideoBps > 0)
        {
            _trialVideoSince = now;
            (_trialVideoSum, _trialVideoSamples) = (0, 0);
        }
        if (_trialVideoSince is not null)
        {
            _trialVideoSum += sample.VideoBps;
            _trialVideoSamples++;
        }
        // A link that carries the trial's video at well under the lowest layer's rate (EDGE: what the voice and the
        // movement leave) fails it early; not a trial on a new path, whose video ramps up with the browser's estimate.
        var average = _trialVideoSamples > 0 ? _trialVideoSum / _trialVideoSamples : 0;
        if (!_trialOnNewPath && _trialVideoSince is { } early && now - early >= _options.TrialEarlyVerdict
            && average < _options.LowestVideoBps * 7 / 10)
            return FailTrial(now);
        if (_trialVideoSince is { } since && now - since >= _options.TrialDuration)
        {
            if (average >= (_trialOnNewPath ? _options.LowestVideoBps * 2 / 5 : _options.LowestVideoBps))
            {
                TrialBps = 0;
                _lastTrialEnd = now;
                Mode = UplinkMode.Video;
                Reason = Recovered;
                Starved = false;
                _recoveredAt = now;
                Switches++;
                return true;
            }
            if (!_trialOnNewPath) return FailTrial(now);
        }
        return now - _trialStart >= _options.TrialTimeout && FailTrial(now);
    }

    /// <summary>
    /// Whether the sample comes from a new, faster path: a round trip at most half the shortest the path audio + pose
    /// started on had. The round trip is the downlink's feedback round trip, which never reads below the path's, so on
    /// the same path it cannot halve once the floor is the path's own: EDGE stays above 600 ms, 3G-poor above 300. (The
    /// downlink estimate is no witness: a probe through a bottleneck that lets a burst pass at once reads three to seven
    /// times an EDGE downlink, and after a spell of loss it has been seen at 30 kbit/s for the first 10 s on 4G.) The
    /// floor follows every sample for <see cref="UplinkModeOptions.FloorSettling"/> after the step down, or after the link
    /// was found <see cref="Starved"/> (the queue left by what it carried before drains), then the least sample.
    /// </summary>
    private bool OnNewPath(in UplinkSample sample, TimeSpan now)
    {
        if (sample.RoundTrip <= TimeSpan.Zero) return false;
        if (now - _floorsSince < _options.FloorSettling || _roundTripFloor == TimeSpan.Zero)
        {
            _roundTripFloor = sample.RoundTrip;
            return false;
        }
        if (sample.RoundTrip <= _roundTripFloor / 2) return true;
        if (sample.RoundTrip < _roundTripFloor) _roundTripFloor = sample.RoundTrip;
        return false;
    }

    /// <summary>Whether the link just proved <see cref="Starved"/> (true once, when it changes).</summary>
    private bool CheckStarved(in UplinkSample sample, TimeSpan now)
    {
        // Not while the queue the step down left drains, nor right after a trial (its own queue drains).
        if (Starved || now - _steppedDownAt < _options.FloorSettling || (_lastTrialEnd is { } end && now - end < _options.MinTrialGap))
        {
            _congestedSince = null;
            return false;
        }
        _starvedLoss[_starvedLossAt] = (sample.AudioExpected, sample.AudioLost);
        _starvedLossAt = (_starvedLossAt + 1) % _starvedLoss.Length;
        _starvedLossSamples++;
        _congestedSince = sample.StandingDelay >= _options.CongestedDelay ? _congestedSince ?? now : null;
        var queued = _congestedSince is { } since && now - since >= _options.StarvedAfter;
        var losing = _starvedLossSamples >= _starvedLoss.Length && LossOver(_starvedLoss) >= _options.StarvedLoss;
        if (!queued && !losing) return false;
        Starved = true;
        _floorsSince = now; // what the link carries drops: its queue drains, and the round trip's floor with it
        return true;
    }

    private bool FailTrial(TimeSpan now)
    {
        TrialBps = 0;
        _lastTrialEnd = now;
        _trialWait = Min(_trialWait * 2, _options.MaxTrialWait);
        _nextTrialAt = now + _trialWait;
        return true;
    }

    private bool IsWeak(in UplinkSample sample, TimeSpan now, out bool slowOnly)
    {
        slowOnly = false;
        if (sample.StandingDelay >= _options.SevereDelay) return true;
        if (!sample.VideoWanted) return false;
        _videoSince ??= now;
        // Video that gets the lowest layer's rate at a frame rate that shows movement is the layer selector's business.
        var thin = sample.VideoBps < _options.LowestVideoBps;
        var still = sample.VideoFps < _options.MinUsefulFps;
        if (!thin && !still) return false;
        // At the start the browser's estimate begins above a 3G uplink's rate (300 kbit/s against 150 on 3g-poor) and
        // its queue and drops are the start's, which the estimate soon ends: only a queue no such link holds counts.
        var congested = now - _videoSince.Value < _options.StartGrace
            ? sample.StandingDelay >= _options.StartCongestedDelay
            : sample.StandingDelay >= _options.CongestedDelay || RecentLoss() >= _options.CongestedLoss;
        if (congested) return true;
        // Without congestion, thin and still video means the browser's own estimate starves it on a slow path, but
        // not while video starts (or restarts after a recovery: the encoder and the estimate ramp up), and not on a
        // short round trip, where a slow picture is the device's (a busy processor), not the link's.
        var settling = now - _videoSince.Value < _options.StartGrace
            || (_recoveredAt is { } recovered && now - recovered < _options.RecoveryGrace);
        slowOnly = true;
        return thin && still && !settling && sample.RoundTrip >= _options.SlowPathRoundTrip;
    }

    private double RecentLoss() => LossOver(_loss);

    private static double LossOver((int Expected, int Lost)[] samples)
    {
        long expected = 0, lost = 0;
        foreach (var (e, l) in samples)
        {
            expected += e;
            lost += l;
        }
        return expected <= 0 ? 0 : Math.Max(0, lost) / (double)expected;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
