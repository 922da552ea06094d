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
/// <param name="DownlinkBps">The SFU's estimate of the same participant's downlink (0: none yet).</param>
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

    /// <summary>The first trial of video after a step down; each failed trial doubles the wait, up to
    /// <see cref="MaxTrialWait"/>.</summary>
    public TimeSpan FirstTrialAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>After a step down the queue it left drains for some seconds: until then the floors of the downlink
    /// estimate and the round trip follow every sample, and no new path is recognised.</summary>
    public TimeSpan FloorSettling { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxTrialWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A downlink estimate this many times the lowest it was in audio + pose (and at least four lowest video
    /// layers), with a round trip at most half the shortest it was, starts a trial before the wait is over: a phone that
    /// moves from EDGE to 4G coverage gains both ways at once, and the SFU probes the downlink by itself. (The round trip
    /// is the second witness: a probe through a bottleneck that lets a burst pass at once reads too high, seen at three
    /// to five times an EDGE downlink, while a round trip that halves is a new path.) At most one such trial per
    /// <see cref="MinTrialGap"/>.</summary>
    public double DownlinkGain { get; init; } = 2;

    public TimeSpan MinTrialGap { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>A round trip that halved stays a witness this long: on a new path it falls at once (the old queue is
    /// gone), while the downlink estimate climbs only over the next seconds of probing.</summary>
    public TimeSpan NewPathWindow { get; init; } = TimeSpan.FromSeconds(10);

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

    /// <summary>A trial whose video does not arrive within this long fails (the link or the page could not send it).</summary>
    public TimeSpan TrialTimeout { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>During a trial a standing queue this much longer than the one before it ends it at once: the audio must
    /// not pay for the test.</summary>
    public TimeSpan TrialAbortDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A step down within this long of a recovery keeps the trial wait growing (no flapping on a link that
    /// carries video only briefly); after it the wait starts again at <see cref="FirstTrialAfter"/>.</summary>
    public TimeSpan FlapWindow { get; init; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (LowestVideoBps <= 0 || TrialBps <= 0 || MinUsefulFps <= 0 || LossWindow < 1 || CongestedLoss is <= 0 or > 1 || DownlinkGain <= 1)
            throw new ArgumentOutOfRangeException(nameof(LowestVideoBps), "uplink ladder rates, frame rate and loss must be positive");
        if (DownAfter < TimeSpan.Zero || FirstTrialAfter <= TimeSpan.Zero || MaxTrialWait < FirstTrialAfter
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
/// <see cref="UplinkModeOptions.TrialDuration"/> brings video back. A downlink that gains a lot (the SFU probes it)
/// starts a trial at once, unless the last step down came soon after a recovery (the link flaps).</item>
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
    private long _downlinkFloor;
    private TimeSpan _roundTripFloor;
    private TimeSpan _steppedDownAt;
    private TimeSpan _preTrialDelay;
    private bool _trialOnNewPath;
    private TimeSpan? _videoSince;
    private TimeSpan? _roundTripHalvedAt;

    public UplinkModeDecider(UplinkModeOptions? options = null)
    {
        _options = options ?? new UplinkModeOptions();
        _options.Validate();
        _loss = new (int, int)[_options.LossWindow];
        _trialWait = _options.FirstTrialAfter;
    }

    public UplinkMode Mode { get; private set; } = UplinkMode.Video;

    /// <summary>Why: "" at first, <see cref="WeakUplink"/>, <see cref="Check"/> or <see cref="Device"/> (in audio +
    /// pose), <see cref="Recovered"/>.</summary>
    public string Reason { get; private set; } = "";

    /// <summary>While a trial runs (in <see cref="UplinkMode.AudioPose"/>), the rate the page sends its lowest video
    /// layer at; otherwise 0.</summary>
    public long TrialBps { get; private set; }

    /// <summary>Switches between the modes so far, and trials (failed ones are the difference).</summary>
    public int Switches { get; private set; }

    public int Trials { get; private set; }

    /// <summary>The latest sample taken.</summary>
    public UplinkSample LastSample { get; private set; }

    /// <summary>The decision and the latest sample in a line (statistics, test timelines).</summary>
    public string Describe() =>
        $"{(Mode == UplinkMode.Video ? "video" : "audio+pose")}{(Mode == UplinkMode.AudioPose && Reason != WeakUplink ? $" for {Reason}" : "")}" +
        $"{(TrialBps > 0 ? $" trial {TrialBps / 1000}" : "")} " +
        $"(up {LastSample.ReceivedBps / 1000} video {LastSample.VideoBps / 1000} kbit/s {LastSample.VideoFps:0.#} fps, " +
        $"queue {LastSample.StandingDelay.TotalMilliseconds:0} ms, loss {RecentLoss():P0}, rtt {LastSample.RoundTrip.TotalMilliseconds:0} ms; " +
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
        if (!IsWeak(sample, now))
        {
            _weakSince = null;
            return false;
        }
        _weakSince ??= now;
        if (now - _weakSince.Value < _options.DownAfter) return false;
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
        _downlinkFloor = sample.DownlinkBps;
        _roundTripFloor = sample.RoundTrip;
        _steppedDownAt = now;
        _roundTripHalvedAt = null;
        _weakSince = null;
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
            if (now < _nextTrialAt && !gained) return false;
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
                _recoveredAt = now;
                Switches++;
                return true;
            }
            if (!_trialOnNewPath) return FailTrial(now);
        }
        return now - _trialStart >= _options.TrialTimeout && FailTrial(now);
    }

    /// <summary>
    /// Whether the sample comes from a new, faster path: a downlink estimate well above the lowest it was in audio +
    /// pose, while the round trip is (or, within <see cref="UplinkModeOptions.NewPathWindow"/>, was) at most half the
    /// shortest it was. The floors describe the path audio + pose started on: until the first trial they follow every
    /// sample for <see cref="UplinkModeOptions.FloorSettling"/> (the queue the step down left drains); after it, only
    /// samples that witness nothing new lower them, so a
    /// new path's first seconds (a short round trip, the estimate still low) do not make its gain invisible.
    /// </summary>
    private bool OnNewPath(in UplinkSample sample, TimeSpan now)
    {
        var settling = now - _steppedDownAt < _options.FloorSettling;
        var gained = _downlinkFloor > 0
            && sample.DownlinkBps >= Math.Max(_downlinkFloor * _options.DownlinkGain, 4.0 * _options.LowestVideoBps);
        var halved = !settling && _roundTripFloor > TimeSpan.Zero && sample.RoundTrip > TimeSpan.Zero
            && sample.RoundTrip <= _roundTripFloor / 2;
        if (halved) _roundTripHalvedAt = now;
        var shorter = _roundTripHalvedAt is { } at && now - at <= _options.NewPathWindow;
        if (sample.DownlinkBps > 0 && (settling || !shorter) && (_downlinkFloor == 0 || sample.DownlinkBps < _downlinkFloor))
            _downlinkFloor = sample.DownlinkBps;
        // While settling the round trip's floor is the latest measurement, not the least: receivers report every few
        // seconds (five for audio alone), so the first samples after a step down may still carry the old, faster path's.
        if (sample.RoundTrip > TimeSpan.Zero && settling) _roundTripFloor = sample.RoundTrip;
        else if (sample.RoundTrip > TimeSpan.Zero && !gained && !halved
            && (_roundTripFloor == TimeSpan.Zero || sample.RoundTrip < _roundTripFloor))
            _roundTripFloor = sample.RoundTrip;
        return !settling && gained && shorter;
    }

    private bool FailTrial(TimeSpan now)
    {
        TrialBps = 0;
        _lastTrialEnd = now;
        _trialWait = Min(_trialWait * 2, _options.MaxTrialWait);
        _nextTrialAt = now + _trialWait;
        return true;
    }

    private bool IsWeak(in UplinkSample sample, TimeSpan now)
    {
        if (sample.StandingDelay >= _options.SevereDelay) return true;
        if (!sample.VideoWanted) return false;
        // Video that gets the lowest layer's rate at a frame rate that shows movement is the layer selector's business.
        var thin = sample.VideoBps < _options.LowestVideoBps;
        var still = sample.VideoFps < _options.MinUsefulFps;
        if (!thin && !still) return false;
        var congested = sample.StandingDelay >= _options.CongestedDelay || RecentLoss() >= _options.CongestedLoss;
        if (congested) return true;
        // Without congestion, thin and still video means the browser's own estimate starves it on a slow path, but
        // not while video starts (or restarts after a recovery: the encoder and the estimate ramp up), and not on a
        // short round trip, where a slow picture is the device's (a busy processor), not the link's.
        _videoSince ??= now;
        var settling = now - _videoSince.Value < _options.RecoveryGrace
            || (_recoveredAt is { } recovered && now - recovered < _options.RecoveryGrace);
        return thin && still && !settling && sample.RoundTrip >= _options.SlowPathRoundTrip;
    }

    private double RecentLoss()
    {
        long expected = 0, lost = 0;
        foreach (var (e, l) in _loss)
        {
            expected += e;
            lost += l;
        }
        return expected <= 0 ? 0 : Math.Max(0, lost) / (double)expected;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
