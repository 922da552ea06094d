using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Bwe;

/// <summary>
/// The receive side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01):
/// records the arrival time of every packet of a publisher's transport that carries a transport-wide sequence
/// number, and turns the records into feedback messages (§3.1) at an interval that keeps the feedback within
/// <see cref="FeedbackShare"/> of the received rate (between <see cref="MinInterval"/> and <see cref="MaxInterval"/>).
/// The sender's estimator needs exact arrival times, so the host passes the time a datagram left the socket, before
/// any queue. One per publishing peer connection; worker-thread only. <see cref="OnPacket"/> allocates nothing;
/// building feedback reuses its buffers.
/// </summary>
public sealed class TransportFeedbackRecorder
{
    /// <summary>Arrival records kept (a power of two): 8 s at 1,000 packets/s.</summary>
    public const int Capacity = 1 << 13;

    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The share of the received bitrate the feedback may take (libwebrtc's receiver uses the same 5 %).</summary>
    public const double FeedbackShare = 0.05;

    /// <summary>What one feedback message costs on the wire, for the interval: RTCP + SRTCP + UDP/IP overhead and a
    /// typical status payload.</summary>
    private const int TypicalFeedbackBytes = 100;

    /// <summary>Statuses per message, so one message stays well under an MTU (2 bytes of delta each at worst).</summary>
    public const int MaxStatusesPerMessage = 400;

    private const long Empty = long.MinValue;
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(1);

    private readonly long[] _arrivalTicks = new long[Capacity];
    private readonly TransportWideFeedbackBuilder _builder;
    private SequenceNumberUnwrapper _unwrapper;
    private long _windowStart; // first extended sequence number not yet reported
    private byte _feedbackCount;
    private TimeSpan _nextFeedback = TimeSpan.MaxValue;
    private TimeSpan _interval = TimeSpan.FromMilliseconds(100);
    private TimeSpan _rateWindowStart;
    private long _rateWindowBytes;

    public TransportFeedbackRecorder(uint senderSsrc)
    {
        Array.Fill(_arrivalTicks, Empty);
        _builder = new TransportWideFeedbackBuilder(senderSsrc, 0, 0);
    }

    /// <summary>The SSRC put in the media-source field (any stream of the transport; draft §3.1).</summary>
    public uint MediaSsrc
    {
        get => _builder.MediaSsrc;
        set => _builder.MediaSsrc = value;
    }

    /// <summary>When the next feedback is due (null while nothing is waiting to be reported).</summary>
    public TimeSpan? NextTimeout => _unwrapper.HasValue && _windowStart <= _unwrapper.Highest ? _nextFeedback : null;

    /// <summary>The current feedback interval (from the received rate).</summary>
    public TimeSpan Interval => _interval;

    /// <summary>Packets recorded (for metrics and tests).</summary>
    public long PacketsRecorded { get; private set; }

    /// <summary>Feedback messages written.</summary>
    public long FeedbackSent { get; private set; }

    /// <summary>Records a packet's arrival. <paramref name="size"/> is the datagram's size (for the feedback interval).
    /// A duplicate keeps its first arrival time; a packet older than the kept history is ignored.</summary>
    public void OnPacket(ushort transportSequenceNumber, int size, TimeSpan arrival)
    {
        var first = !_unwrapper.HasValue;
        var previousHighest = _unwrapper.Highest;
        var extended = _unwrapper.Unwrap(transportSequenceNumber);
        if (first)
        {
            _windowStart = extended;
            _nextFeedback = arrival + _interval;
            _rateWindowStart = arrival;
        }
        else if (extended > previousHighest)
        {
            // Clear the slots the ring reuses between the previous highest and this one (a jump of more than the
            // whole history clears it all).
            var clearFrom = Math.Max(previousHighest + 1, extended - Capacity + 1);
            for (var s = clearFrom; s < extended; s++) _arrivalTicks[s & (Capacity - 1)] = Empty;
            _arrivalTicks[extended & (Capacity - 1)] = Empty;
            if (_windowStart < extended - Capacity + 1) _windowStart = extended - Capacity + 1;
        }
        else if (extended <= _unwrapper.Highest - Capacity)
        {
            return;
        }

        ref var slot = ref _arrivalTicks[extended & (Capacity - 1)];
        if (slot != Empty) return;
        slot = arrival.Ticks;
        PacketsRecorded++;
        // A late packet (reordered behind ones already reported) moves the window back so it is reported too; the
        // packets reported twice are harmless to the sender, which keeps the first report of each.
        if (extended < _windowStart) _windowStart = extended;
        if (_nextFeedback == TimeSpan.MaxValue) _nextFeedback = arrival + _interval;

        _rateWindowBytes += size;
        if (arrival - _rateWindowStart >= RateWindow) UpdateInterval(arrival);
    }

    private void UpdateInterval(TimeSpan now)
    {
        var seconds = (now - _rateWindowStart).TotalSeconds;
        var bitsPerSecond = _rateWindowBytes * 8 / seconds;
        _rateWindowStart = now;
        _rateWindowBytes = 0;
        var interval = bitsPerSecond <= 0
            ? MaxInterval
            : TimeSpan.FromSeconds(TypicalFeedbackBytes * 8 / (FeedbackShare * bitsPerSecond));
        _interval = interval < MinInterval ? MinInterval : interval > MaxInterval ? MaxInterval : interval;
    }

    /// <summary>
    /// Writes the next feedback message into <paramref name="destination"/> when one is due, and returns its length
    /// (0 when nothing is due). Call again while it returns more than 0: a long gap is reported in several messages.
    /// </summary>
    public int WriteFeedback(TimeSpan now, Span<byte> destination)
    {
        if (now < _nextFeedback || NextTimeout is null) return 0;
        var highest = _unwrapper.Highest;
        while (true)
        {
            // The message starts at the first unreported packet (reported as lost if it never came) and ends at the
            // newest arrival, or earlier when it fills up.
            var start = _windowStart;
            _builder.Reset(_feedbackCount);
            _builder.StartAt((ushort)start);
            var end = start;
            for (var s = start; s <= highest && s - start < MaxStatusesPerMessage; s++)
            {
                var ticks = _arrivalTicks[s & (Capacity - 1)];
                if (ticks == Empty) continue;
                if (!_builder.TryAddReceivedPacket((ushort)s, TimeSpan.FromTicks(ticks))) break;
                end = s + 1;
            }
            if (end == start)
            {
                if (start + MaxStatusesPerMessage <= highest)
                {
                    // A run of losses longer than a message with nothing received in it: skip it.
                    _windowStart = start + MaxStatusesPerMessage;
                    continue;
                }
                _nextFeedback = now + _interval;
                return 0;
            }
            if (destination.Length < _builder.GetSerializedLength()) return 0;
            var length = _builder.WriteTo(destination);
            _feedbackCount++;
            FeedbackSent++;
            _windowStart = end;
            // A message that filled up is followed at once by the next; otherwise the next waits for the interval.
            _nextFeedback = end <= highest ? now : now + _interval;
            return length;
        }
    }
}
