namespace TeleRehab.Media.Sfu;

/// <summary>A spatial (simulcast encoding 0..2, low to high) and temporal (0..2) layer; <see cref="None"/> forwards nothing.</summary>
public readonly record struct VideoLayer(int Spatial, int Temporal)
{
    public static readonly VideoLayer None = new(-1, -1);

    public bool IsNone => Spatial < 0;

    /// <summary>Position on the ladder: spatial first, then temporal; -1 for none.</summary>
    internal int Rank => Spatial < 0 ? -1 : Spatial * LayerRates.MaxTemporalLayers + Temporal;

    public override string ToString() => IsNone ? "none" : $"S{Spatial}T{Temporal}";
}

/// <summary>Where a subscriber's video stands.</summary>
public enum LayerState
{
    /// <summary>Nothing forwarded: the budget is below the lowest layer's base rate (the pose overlay carries movement).</summary>
    Paused,

    /// <summary>The target spatial layer is the one forwarded; temporal changes apply at frame boundaries.</summary>
    Forwarding,

    /// <summary>Waiting for a key frame of the target spatial layer; the current one is forwarded meanwhile if it flows.</summary>
    Switching,
}

/// <summary>What to do with one incoming packet of the publication.</summary>
public enum LayerPacketAction
{
    Drop,
    Forward,

    /// <summary>Forward; it is the key frame that makes a new spatial layer current, so switch the rewriters' source first.</summary>
    ForwardSwitched,
}

/// <summary>The outcome of <see cref="LayerSelector.Update"/>.</summary>
public readonly record struct LayerDecision(LayerState State, VideoLayer Current, VideoLayer Target, bool NeedsKeyframe, bool TargetChanged);

/// <summary>Tuning of <see cref="LayerSelector"/>.</summary>
public sealed record LayerSelectorOptions
{
    /// <summary>A higher choice is taken only when its rate × this fits the budget held over <see cref="Dwell"/>.</summary>
    public double UpHeadroom { get; init; } = 1.2;

    /// <summary>The choice is kept while its rate ≤ budget × this; above it the selector steps down at once.</summary>
    public double DownTolerance { get; init; } = 1.05;

    /// <summary>How long the budget must have held (its minimum over this time is used) before stepping up.</summary>
    public TimeSpan Dwell { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>No step up within this time after the last step down (or, with <see cref="UpAfterUp"/>, up): what
    /// keeps a noisy estimate from flapping.</summary>
    public TimeSpan Hysteresis { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// No step up within this time after the last step up. A rising budget climbs the ladder a rung at a time (each up
    /// still needs the budget held over <see cref="Dwell"/>); only going back up after a step down waits the whole
    /// <see cref="Hysteresis"/>. At the start of a call on a clean link this takes the receiver to the top in a few
    /// seconds instead of 5 s per rung.
    /// </summary>
    public TimeSpan UpAfterUp { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Minimum interval between key frame requests for the same target.</summary>
    public TimeSpan KeyframeRequestInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many temporal steps below its top a spatial layer above the lowest may use before the selector goes to
    /// the next lower spatial layer (the lowest layer may go down to T0).
    /// </summary>
    public int TemporalStepsAboveLowest { get; init; } = 1;
}

/// <summary>
/// Picks, per subscriber × video publication, the spatial and temporal layer to forward, and filters the
/// publication's packets accordingly. <see cref="Update"/> (on each new bandwidth estimate or timer tick) takes the
/// budget for this video and the measured layer rates; <see cref="OnPacket"/> (per packet) says forward or drop.
/// <para>
/// The ladder: each active spatial layer from low to high, each with its temporal layers (all of them on the
/// lowest, the top <see cref="LayerSelectorOptions.TemporalStepsAboveLowest"/> + 1 above it), so a small drop costs
/// frame rate before resolution. Down: at once when the target's rate exceeds the budget ×
/// <see cref="LayerSelectorOptions.DownTolerance"/>, to the highest rung that fits both the budget now and its
/// minimum over the dwell time (so a noisy estimate does not step down twice); nothing fits: paused, at once.
/// Up: to the highest rung whose rate × <see cref="LayerSelectorOptions.UpHeadroom"/> fits the budget's minimum
/// over the dwell time, not within <see cref="LayerSelectorOptions.UpAfterUp"/> of the last step up and not within the
/// hysteresis time of the last step down. A new spatial layer becomes current
/// only at its key frame (<see cref="NeedsKeyframe"/>, <see cref="PollKeyframeRequest"/>); until then the current
/// layer keeps flowing (at T0 when going down). Temporal changes within a layer happen at frame starts: down at
/// any, up at a TID 0 or layer sync frame.
/// </para>
/// Sans-I/O (time passed in), single-threaded, no allocation after construction.
/// </summary>
public sealed class LayerSelector
{
    private const int HistoryBuckets = 8;

    private readonly long[] _historyBucket = new long[HistoryBuckets + 1];
    private readonly long[] _historyMin = new long[HistoryBuckets + 1];
    private readonly long _bucketTicks;
    private bool _hasHistory;
    private long _lastSample;
    private bool _hasLastSample;
    private TimeSpan _firstUpdate;

    private bool _started;
    private VideoLayer _target = VideoLayer.None;
    private int _currentSpatial = -1;
    private int _currentTemporal = -1;
    private TimeSpan _lastUp, _lastDown;
    private bool _hasUp, _hasDown;
    private bool _requestedForTarget;
    private TimeSpan _lastKeyframeRequest;

    public LayerSelector(LayerSelectorOptions? options = null)
    {
        Options = options ?? new LayerSelectorOptions();
        if (Options.Dwell < TimeSpan.FromMilliseconds(1) || Options.UpHeadroom < 1 || Options.DownTolerance <= 0)
            throw new ArgumentOutOfRangeException(nameof(options));
        _bucketTicks = Math.Max(1, Options.Dwell.Ticks / HistoryBuckets);
    }

    public LayerSelectorOptions Options { get; }

    /// <summary>The layer being forwarded (spatial as switched to at a key frame, temporal as applied at frame starts).</summary>
    public VideoLayer Current => _currentSpatial < 0 ? VideoLayer.None : new(_currentSpatial, _currentTemporal);

    /// <summary>The layer the selector wants.</summary>
    public VideoLayer Target => _target;

    public LayerState State => _target.IsNone ? LayerState.Paused
        : _target.Spatial == _currentSpatial ? LayerState.Forwarding : LayerState.Switching;

    /// <summary>True while waiting for a key frame of the target spatial layer.</summary>
    public bool NeedsKeyframe => State == LayerState.Switching;

    /// <summary>True once the first choice is made (by <see cref="Update"/>, or by <see cref="OnPacket"/> at the first key
    /// frame of the layer <see cref="AwaitStart"/> named).</summary>
    public bool HasChosen => _started;

    /// <summary>
    /// The publication is starting: its top encoding <paramref name="spatial"/> has not flowed yet, and its first packets
    /// will be a key frame. When the budget (bps, <see cref="long.MaxValue"/> while the leg has no estimate) is at least
    /// <paramref name="minBudgetBps"/>, the first choice is that layer at its first key frame (<see cref="OnPacket"/>), so
    /// the receiver starts on it without asking the publisher for a key frame: with simulcast VP8, Chromium answers any
    /// request with a key frame on every encoding, and a key frame once the encoder runs at full rate queues in a 4G
    /// uplink and halves the publisher's estimate. The next <see cref="Update"/> judges the choice as usual.
    /// </summary>
    public void AwaitStart(int spatial, long budgetBps, long minBudgetBps, TimeSpan now)
    {
        if (_started) return;
        _startSpatial = budgetBps >= minBudgetBps ? spatial : -1;
        _awaitedAt = now;
    }

    private int _startSpatial = -1;
    private TimeSpan _awaitedAt;

    /// <summary>True when the first choice was the layer <see cref="AwaitStart"/> named, taken at its first key frame.</summary>
    public bool StartedAtKeyframe { get; private set; }

    /// <summary>Number of target changes after the first choice.</summary>
    public int SwitchCount { get; private set; }

    /// <summary>
    /// Re-decides the target from the budget for this video (bps, after audio and higher-priority videos) and the
    /// publication's measured layer rates.
    /// </summary>
    public LayerDecision Update(long budgetBps, in LayerRates rates, TimeSpan now)
    {
        RecordBudget(budgetBps, now);
        long held = HeldBudget(now, out bool heldLongEnough);
        var previous = _target;
        bool initial = !_started;

        // The current layer stopped at the publisher: nothing flows until the target's key frame.
        if (_currentSpatial >= 0 && !rates.IsActive(_currentSpatial)) _currentSpatial = _currentTemporal = -1;

        if (!_started)
        {
            _started = true;
            SetTarget(Highest(rates, budgetBps, Options.UpHeadroom, int.MaxValue));
            if (!_target.IsNone) MarkUp(now);
        }
        else
        {
            bool targetValid = _target.IsNone || IsRung(rates, _target.Spatial, _target.Temporal);
            if (!_target.IsNone && (!targetValid || rates[_target.Spatial, _target.Temporal] > budgetBps * Options.DownTolerance))
            {
                // Down at once, to what fits now and has fitted over the dwell time.
                long fit = Math.Min(budgetBps, held);
                SetTarget(Highest(rates, fit, 1.0, targetValid ? _target.Rank - 1 : int.MaxValue));
                MarkDown(now);
            }
            else if (heldLongEnough && UpAllowed(now))
            {
                var up = Highest(rates, held, Options.UpHeadroom, int.MaxValue);
                if (up.Rank > _target.Rank)
                {
                    SetTarget(up);
                    MarkUp(now);
                }
            }
        }

        bool changed = _target != previous;
        if (changed && !initial) SwitchCount++;
        return new LayerDecision(State, Current, _target, NeedsKeyframe, changed);
    }

    /// <summary>
    /// Decides one packet of the publication: its spatial layer (encoding index), temporal id (0 without one), whether
    /// it starts a key frame, whether it starts a frame (VP8: S=1, PID=0), and whether it is a layer sync frame (Y).
    /// </summary>
    public LayerPacketAction OnPacket(int spatial, int temporal, bool isKeyframe, bool isFrameStart, bool isLayerSync = false)
    {
        if (!_started && isKeyframe && spatial == _startSpatial && spatial >= 0)
        {
            _started = true;
            StartedAtKeyframe = true;
            _target = new VideoLayer(spatial, LayerRates.MaxTemporalLayers - 1);
            _currentSpatial = spatial;
            _currentTemporal = _target.Temporal;
            MarkUp(_awaitedAt);
            return LayerPacketAction.ForwardSwitched;
        }
        if (_target.IsNone) return LayerPacketAction.Drop;
        if (isKeyframe && spatial == _target.Spatial && spatial != _currentSpatial)
        {
            _currentSpatial = spatial;
            _currentTemporal = _target.Temporal;
            _requestedForTarget = false;
            return LayerPacketAction.ForwardSwitched;
        }
        if (spatial != _currentSpatial) return LayerPacketAction.Drop;

        if (isFrameStart || isKeyframe)
        {
            // Going down spatially: the current layer keeps flowing at its base rate until the target's key frame.
            int wanted = _target.Spatial == _currentSpatial ? _target.Temporal
                : _target.Spatial < _currentSpatial ? 0 : _currentTemporal;
            if (wanted < _currentTemporal || (wanted > _currentTemporal && (temporal == 0 || isLayerSync || isKeyframe)))
                _currentTemporal = wanted;
        }
        return temporal <= _currentTemporal ? LayerPacketAction.Forward : LayerPacketAction.Drop;
    }

    /// <summary>
    /// True when a key frame of <paramref name="spatial"/> should be requested from the publisher now (at once for a
    /// new target, then at most once per <see cref="LayerSelectorOptions.KeyframeRequestInterval"/> while waiting).
    /// </summary>
    public bool PollKeyframeRequest(TimeSpan now, out int spatial)
    {
        spatial = _target.Spatial;
        if (!NeedsKeyframe) return false;
        if (_requestedForTarget && now - _lastKeyframeRequest < Options.KeyframeRequestInterval) return false;
        _requestedForTarget = true;
        _lastKeyframeRequest = now;
        return true;
    }

    private void SetTarget(VideoLayer layer)
    {
        if (layer.Spatial != _target.Spatial) _requestedForTarget = false;
        _target = layer;
        if (layer.IsNone) _currentSpatial = _currentTemporal = -1; // pause at once
    }

    private void MarkUp(TimeSpan now)
    {
        _lastUp = now;
        _hasUp = true;
    }

    private void MarkDown(TimeSpan now)
    {
        _lastDown = now;
        _hasDown = true;
    }

    private bool UpAllowed(TimeSpan now) =>
        (!_hasUp || now - _lastUp >= Options.UpAfterUp) && (!_hasDown || now - _lastDown >= Options.Hysteresis);

    /// <summary>The highest rung at or below <paramref name="maxRank"/> whose rate × factor fits the budget.</summary>
    private VideoLayer Highest(in LayerRates rates, long budgetBps, double factor, int maxRank)
    {
        for (int s = LayerRates.MaxSpatialLayers - 1; s >= 0; s--)
            for (int t = LayerRates.MaxTemporalLayers - 1; t >= 0; t--)
            {
                if (s * LayerRates.MaxTemporalLayers + t > maxRank || !IsRung(rates, s, t)) continue;
                if (rates[s, t] * factor <= budgetBps) return new VideoLayer(s, t);
            }
        return VideoLayer.None;
    }

    private bool IsRung(in LayerRates rates, int s, int t)
    {
        if (!rates.IsActive(s) || rates[s, 0] <= 0) return false;
        int top = TopTemporal(rates, s);
        if (t > top) return false;
        int lowest = 0;
        while (lowest < s && !(rates.IsActive(lowest) && rates[lowest, 0] > 0)) lowest++;
        int min = s == lowest ? 0 : Math.Max(0, top - Options.TemporalStepsAboveLowest);
        return t >= min;
    }

    /// <summary>The highest temporal layer present (adding to the rate of the ones below).</summary>
    private static int TopTemporal(in LayerRates rates, int s)
    {
        int top = 0;
        for (int t = 1; t < LayerRates.MaxTemporalLayers; t++)
            if (rates[s, t] > rates[s, t - 1]) top = t;
        return top;
    }

    private void RecordBudget(long budgetBps, TimeSpan now)
    {
        long bucket = now.Ticks / _bucketTicks;
        int i = (int)(((bucket % _historyBucket.Length) + _historyBucket.Length) % _historyBucket.Length);
        if (!_hasHistory)
        {
            _hasHistory = true;
            _firstUpdate = now;
            Array.Fill(_historyBucket, long.MinValue);
        }
        if (_historyBucket[i] != bucket)
        {
            // The budget is a step function: the previous sample was still in force when this bucket began (and
            // through any empty buckets before it), so it counts towards this bucket's minimum.
            _historyBucket[i] = bucket;
            _historyMin[i] = _hasLastSample ? Math.Min(_lastSample, budgetBps) : budgetBps;
        }
        else if (budgetBps < _historyMin[i])
        {
            _historyMin[i] = budgetBps;
        }
        _lastSample = budgetBps;
        _hasLastSample = true;
    }

    /// <summary>The minimum budget over the last dwell time (bucketed), and whether updates span that long.</summary>
    private long HeldBudget(TimeSpan now, out bool heldLongEnough)
    {
        long bucket = now.Ticks / _bucketTicks;
        long min = long.MaxValue;
        for (int i = 0; i < _historyBucket.Length; i++)
            if (_historyBucket[i] != long.MinValue && _historyBucket[i] >= bucket - HistoryBuckets && _historyBucket[i] <= bucket)
                min = Math.Min(min, _historyMin[i]);
        heldLongEnough = now - _firstUpdate >= Options.Dwell;
        return min;
    }
}
