namespace TeleRehab.Media.Bwe;

/// <summary>
/// Groups received packets into send bursts and yields, per completed group, how much later than its predecessor
/// it was sent and received (draft-ietf-rmcat-gcc-02 §5.2 pre-filtering). A group is the packets sent within
/// <see cref="GroupLength"/> of its first one; a packet that arrives within the burst time of the group's last one
/// with a negative delay variation (it caught up in a queue) joins the group too. Packets sent before the current
/// group (reordered) are ignored. An arrival jump of several seconds unexplained by sending restarts the grouping.
/// </summary>
public sealed class InterArrivalDelta
{
    public static readonly TimeSpan GroupLength = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan BurstTime = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan ResetJump = TimeSpan.FromSeconds(3);

    private struct Group
    {
        public bool Valid;
        public TimeSpan FirstSend, LastSend, FirstArrival, LastArrival;
        public int Size;
    }

    private Group _current, _previous;

    public void Reset()
    {
        _current = default;
        _previous = default;
    }

    /// <summary>
    /// Adds one received packet. Returns true when it closed a group that has a predecessor; the deltas then
    /// compare the closed group's last packet with the previous group's last packet.
    /// </summary>
    public bool Add(TimeSpan sendTime, TimeSpan arrivalTime, int size,
        out TimeSpan sendDelta, out TimeSpan arrivalDelta, out TimeSpan groupArrival)
    {
        sendDelta = arrivalDelta = groupArrival = default;
        if (!_current.Valid)
        {
            Start(sendTime, arrivalTime, size);
            return false;
        }
        if (sendTime < _current.FirstSend) return false; // reordered: belongs to an older group

        if (BelongsToCurrent(sendTime, arrivalTime))
        {
            if (sendTime > _current.LastSend) _current.LastSend = sendTime;
            if (arrivalTime > _current.LastArrival) _current.LastArrival = arrivalTime;
            _current.Size += size;
            return false;
        }

        bool produced = false;
        if (_previous.Valid)
        {
            sendDelta = _current.LastSend - _previous.LastSend;
            arrivalDelta = _current.LastArrival - _previous.LastArrival;
            groupArrival = _current.LastArrival;
            var variation = arrivalDelta - sendDelta;
            if (variation > ResetJump || variation < -ResetJump || arrivalDelta < TimeSpan.Zero)
            {
                // The receiver's clock jumped or packets were held for seconds: start over.
                Reset();
                Start(sendTime, arrivalTime, size);
                return false;
            }
            produced = true;
        }
        _previous = _current;
        Start(sendTime, arrivalTime, size);
        return produced;
    }

    private bool BelongsToCurrent(TimeSpan sendTime, TimeSpan arrivalTime)
    {
        if (sendTime - _current.FirstSend <= GroupLength) return true;
        var arrivalGap = arrivalTime - _current.LastArrival;
        var variation = arrivalGap - (sendTime - _current.LastSend);
        return arrivalGap >= TimeSpan.Zero && arrivalGap <= BurstTime && variation < TimeSpan.Zero;
    }

    private void Start(TimeSpan sendTime, TimeSpan arrivalTime, int size)
    {
        _current = new Group
        {
            Valid = true, FirstSend = sendTime, LastSend = sendTime,
            FirstArrival = arrivalTime, LastArrival = arrivalTime, Size = size,
        };
    }
}
