using System.Text;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Pose;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Rooms;

/// <summary>One participant's "pose" data channel as the forwarder sees it (the room's adapter over the peer's
/// data channel transport; a fake in tests). Called on the room's worker only.</summary>
public interface IPoseChannel
{
    /// <summary>True while the channel is open and <see cref="Send"/> may be called.</summary>
    bool IsOpen { get; }

    /// <summary>Bytes the channel holds that have not gone out yet (RTCDataChannel.bufferedAmount on our side).</summary>
    long BufferedAmount { get; }

    /// <summary>Sends one binary message; false when it could not be sent (closed, too large, refused).</summary>
    bool Send(ReadOnlySpan<byte> message);
}

/// <summary>What a participant does with pose: a patient sends its keypoints; everybody else watches.</summary>
public enum PoseRole
{
    /// <summary>Receives the senders' poses (therapists, observers); frames it sends are dropped.</summary>
    Viewer,

    /// <summary>Sends its keypoints (patients); receives nothing unless it asks (<see cref="PoseInterest"/>).</summary>
    Sender,
}

/// <summary>Whose poses a participant receives, beyond what its role gives by default.</summary>
public enum PoseInterest
{
    /// <summary>What the role gives: a viewer receives every sender, a sender nothing.</summary>
    Default,

    /// <summary>Also (or only, for a sender) its own pose, as the therapist sees it.</summary>
    Own,

    /// <summary>Every sender's pose, its own included.</summary>
    Everyone,
}

/// <summary>Settings of the pose forwarder (one per room; defaults suit 1:1 and group rooms).</summary>
public sealed record PoseForwarderOptions
{
    /// <summary>Frames per second a receiver gets at most (all senders together).</summary>
    public double MaxFramesPerSecondPerReceiver { get; init; } = 15;

    /// <summary>Frames a receiver may get back to back after a quiet spell (the rate cap's bucket).</summary>
    public int ReceiverBurst { get; init; } = 2;

    /// <summary>Frames per second a sender may send; more are dropped unread and counted as a flood.</summary>
    public double MaxFramesPerSecondPerSender { get; init; } = 30;

    /// <summary>Frames a sender may send back to back before the flood cap drops them.</summary>
    public int SenderBurst { get; init; } = 10;

    /// <summary>A receiver's channel holding more than this many bytes gets nothing new: its newest frame waits
    /// (replaced by any newer one) until the channel has drained. The transport's buffered amount counts bytes in
    /// flight (sent, not yet acknowledged) too, so a few frames' worth is allowed: about one round trip at 15 frames/s
    /// on a slow link; anything more would be a queue.</summary>
    public long MaxBufferedBytes { get; init; } = 512;

    /// <summary>How often a receiver whose channel is full is looked at again.</summary>
    public TimeSpan BufferedRetryInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Key frame interval of the per-receiver re-encoding (docs/pose-format.md, encoder rule 2).</summary>
    public int KeyFrameInterval { get; init; } = 10;

    /// <summary>What one data channel message costs on the wire beyond its payload (SCTP DATA chunk and common
    /// header, DTLS record, UDP, IPv4: docs/pose-format.md), counted against the leg's budget.</summary>
    public int PerMessageOverhead { get; init; } = 93;

    internal void Validate()
    {
        if (!(MaxFramesPerSecondPerReceiver > 0) || !(MaxFramesPerSecondPerSender > 0))
            throw new ArgumentOutOfRangeException(nameof(MaxFramesPerSecondPerReceiver), "pose frame rates must be above 0");
        if (ReceiverBurst < 1 || SenderBurst < 1) throw new ArgumentOutOfRangeException(nameof(ReceiverBurst), "pose bursts must be at least 1");
        if (MaxBufferedBytes < 0 || BufferedRetryInterval <= TimeSpan.Zero || KeyFrameInterval < 1 || PerMessageOverhead < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxBufferedBytes), "invalid pose forwarder setting");
    }
}

/// <summary>What became of one frame a participant sent.</summary>
public enum PoseFrameResult
{
    /// <summary>Decoded and handed to every receiver that wants it (possibly none).</summary>
    Accepted,

    /// <summary>Not a valid keypoint frame (or a text message): dropped and counted.</summary>
    Malformed,

    /// <summary>Above the sender's frame rate cap: dropped unread and counted.</summary>
    Flooded,

    /// <summary>Old, duplicate, or a delta frame without its reference (after a loss): dropped until the next key frame.</summary>
    NotDecodable,

    /// <summary>The participant is not a pose sender (a viewer's frames go nowhere).</summary>
    NotSender,
}

/// <summary>
/// Forwards pose keypoint frames (docs/pose-format.md) from senders' "pose" data channels to the receivers that want
/// them, newest first: a receiver holds at most one waiting frame per sender, and a newer frame replaces it, so an old
/// frame is never queued behind a newer one and a slow receiver gets the latest pose, never a backlog.
/// <para>Each frame is validated by decoding it with the sender's <see cref="KeypointDecoder"/>; malformed frames and
/// frames above the sender's rate cap are dropped and counted without touching anybody else's stream. Each receiver
/// gets every sender's pose re-encoded by its own <see cref="KeypointEncoder"/>, so frames the forwarder skips for
/// it (rate cap, full channel) never break its delta chain. Each message to a receiver is
/// <c>[n][n bytes: the sender's participant id, UTF-8][one keypoint frame]</c>.</para>
/// <para>Sans-I/O: time is passed in; a receiver's <see cref="PoseParticipant.NextTimeout"/> says when
/// <see cref="HandleTimeout"/> should run for it. Single-threaded (the room's worker); no locks. Nothing here is on
/// the RTP path. After the first frames of a pair, forwarding allocates nothing.</para>
/// </summary>
public sealed class PoseForwarder
{
    /// <summary>Longest sender id the message envelope carries (bytes of UTF-8).</summary>
    public const int MaxIdLength = 64;

    /// <summary>The largest message sent to a receiver.</summary>
    public const int MaxMessageLength = 1 + MaxIdLength + KeypointFormat.MaxValidLength;

    private readonly List<PoseParticipant> _participants = [];
    private readonly byte[] _scratch = new byte[MaxMessageLength];

    public PoseForwarder(PoseForwarderOptions? options = null)
    {
        Options = options ?? new PoseForwarderOptions();
        Options.Validate();
    }

    public PoseForwarderOptions Options { get; }

    public IReadOnlyList<PoseParticipant> Participants => _participants;

    /// <summary>Frames senders sent (every message on a pose channel, dropped ones included).</summary>
    public long FramesReceived => _frames[(int)PoseFrameOutcome.Received];

    /// <summary>Frames sent to receivers.</summary>
    public long FramesForwarded => _frames[(int)PoseFrameOutcome.Forwarded];

    /// <summary>Messages that were not valid keypoint frames.</summary>
    public long MalformedFrames => _frames[(int)PoseFrameOutcome.Malformed];

    /// <summary>Frames above a sender's rate cap.</summary>
    public long FloodedFrames => _frames[(int)PoseFrameOutcome.Flooded];

    /// <summary>Stale, duplicate, or delta frames without their reference.</summary>
    public long UndecodableFrames => _frames[(int)PoseFrameOutcome.Undecodable];

    /// <summary>Frames from participants that are not senders.</summary>
    public long NotSenderFrames => _frames[(int)PoseFrameOutcome.NotSender];

    /// <summary>Waiting frames a newer frame of the same sender replaced before they went to their receiver.</summary>
    public long SupersededFrames => _frames[(int)PoseFrameOutcome.Superseded];

    /// <summary>Sends the receiver's channel refused.</summary>
    public long SendFailures => _frames[(int)PoseFrameOutcome.SendFailed];

    private readonly long[] _frames = new long[PoseFrameCounts.Outcomes];

    /// <summary>Counts one frame outcome in this room and in <see cref="SharedCounts"/> (the worker's, for /metrics).</summary>
    private void Count(PoseFrameOutcome outcome)
    {
        _frames[(int)outcome]++;
        SharedCounts?.Add(outcome);
    }

    /// <summary>Where this room's frame outcomes are also counted (the worker's counters, summed by the metrics scrape).</summary>
    public PoseFrameCounts? SharedCounts { get; init; }

    /// <summary>A participant joins pose forwarding (no channel yet).</summary>
    public PoseParticipant Add(string id, PoseRole role, PoseInterest interest = PoseInterest.Default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var idBytes = Encoding.UTF8.GetBytes(id);
        if (idBytes.Length is 0 or > MaxIdLength) throw new ArgumentException($"a pose participant id has 1 to {MaxIdLength} bytes", nameof(id));
        var participant = new PoseParticipant(id, idBytes, role, interest, Options);
        _participants.Add(participant);
        return participant;
    }

    /// <summary>A participant leaves: nothing more goes to it, and nobody keeps a frame of it.</summary>
    public void Remove(PoseParticipant participant)
    {
        if (!_participants.Remove(participant)) return;
        participant.Channel = null;
        foreach (var other in _participants) other.RemoveLane(participant);
    }

    public void SetRole(PoseParticipant participant, PoseRole role)
    {
        if (participant.Role == role) return;
        participant.Role = role;
        participant.Decoder.Reset();
        if (role == PoseRole.Viewer)
        {
            foreach (var other in _participants) other.RemoveLane(participant);
        }
    }

    public void SetInterest(PoseParticipant participant, PoseInterest interest)
    {
        participant.Interest = interest;
        foreach (var sender in _participants)
        {
            if (!Wants(participant, sender)) participant.RemoveLane(sender);
        }
    }

    /// <summary>The participant's pose channel opened (or, with null, closed). A new channel starts each of its
    /// streams with a key frame (the page's decoder is new too).</summary>
    public void SetChannel(PoseParticipant participant, IPoseChannel? channel, TimeSpan now)
    {
        participant.Channel = channel;
        participant.Decoder.Reset();
        foreach (var lane in participant.Lanes)
        {
            lane.Encoder?.RequestKeyFrame();
            lane.HasPending = false;
        }
        if (channel is not null) Flush(participant, now);
    }

    /// <summary>One message from <paramref name="sender"/>'s pose channel.</summary>
    public PoseFrameResult OnMessage(PoseParticipant sender, ReadOnlySpan<byte> data, bool isText, TimeSpan now)
    {
        Count(PoseFrameOutcome.Received);
        sender.FramesReceived++;
        if (sender.Role != PoseRole.Sender)
        {
            Count(PoseFrameOutcome.NotSender);
            return PoseFrameResult.NotSender;
        }
        if (!sender.Incoming.TryTake(now))
        {
            Count(PoseFrameOutcome.Flooded);
            sender.FloodedFrames++;
            return PoseFrameResult.Flooded;
        }
        if (isText)
        {
            Count(PoseFrameOutcome.Malformed);
            sender.MalformedFrames++;
            return PoseFrameResult.Malformed;
        }
        if (!sender.Decoder.TryDecode(data, out var frame, out var status))
        {
            if (status == KeypointDecodeStatus.Malformed)
            {
                Count(PoseFrameOutcome.Malformed);
                sender.MalformedFrames++;
                return PoseFrameResult.Malformed;
            }
            Count(PoseFrameOutcome.Undecodable);
            return PoseFrameResult.NotDecodable;
        }
        var flags = (byte)(data[1] & (KeypointFormat.FlagZ | KeypointFormat.FlagVisibility));
        sender.FramesAccepted++;
        foreach (var receiver in _participants)
        {
            if (receiver.Channel is null || !Wants(receiver, sender)) continue;
            var lane = receiver.LaneFor(sender);
            if (lane.HasPending)
            {
                Count(PoseFrameOutcome.Superseded);
                receiver.SupersededFrames++;
            }
            else
            {
                lane.PendingSince = now;
            }
            lane.Pending = frame;
            lane.PendingFlags = flags;
            lane.HasPending = true;
            Flush(receiver, now);
        }
        return PoseFrameResult.Accepted;
    }

    /// <summary>The receiver's <see cref="PoseParticipant.NextTimeout"/> is due: sends what its rate cap and channel allow.</summary>
    public void HandleTimeout(PoseParticipant receiver, TimeSpan now) => Flush(receiver, now);

    /// <summary>Bits per second sent to <paramref name="receiver"/> over the last second, with each message's
    /// overhead (<see cref="PoseForwarderOptions.PerMessageOverhead"/>): pose's share of the leg's budget.</summary>
    public long SentBitrateBps(PoseParticipant receiver, TimeSpan now) => receiver.Sent.Bps(now);

    /// <summary>Whether <paramref name="receiver"/> gets <paramref name="sender"/>'s pose.</summary>
    public static bool Wants(PoseParticipant receiver, PoseParticipant sender)
    {
        if (sender.Role != PoseRole.Sender) return false;
        if (ReferenceEquals(receiver, sender)) return receiver.Interest is PoseInterest.Own or PoseInterest.Everyone;
        return receiver.Role == PoseRole.Viewer || receiver.Interest == PoseInterest.Everyone;
    }

    private void Flush(PoseParticipant receiver, TimeSpan now)
    {
        receiver.RetryAt = null;
        while (true)
        {
            if (receiver.Channel is not { IsOpen: true } channel) return;
            var lane = receiver.OldestPending();
            if (lane is null) return;
            if (channel.BufferedAmount > Options.MaxBufferedBytes)
            {
                receiver.RetryAt = now + Options.BufferedRetryInterval;
                return;
            }
            if (!receiver.Outgoing.TryTake(now)) return;
            lane.HasPending = false;
            var length = Encode(lane);
            if (length == 0) continue;
            if (!channel.Send(_scratch.AsSpan(0, length)))
            {
                Count(PoseFrameOutcome.SendFailed);
                lane.Encoder!.RequestKeyFrame(); // the page may have missed the reference
                continue;
            }
            Count(PoseFrameOutcome.Forwarded);
            receiver.FramesSent++;
            receiver.Sent.Add(length + Options.PerMessageOverhead, now);
        }
    }

    private int Encode(PoseLane lane)
    {
        if (lane.Encoder is null || lane.EncoderFlags != lane.PendingFlags)
        {
            lane.Encoder = new KeypointEncoder(new KeypointEncoderOptions
            {
                KeyFrameInterval = Options.KeyFrameInterval,
                AbsentThreshold = 1e-6, // what the sender coded as present stays present
                IncludeZ = (lane.PendingFlags & KeypointFormat.FlagZ) != 0,
                IncludeVisibility = (lane.PendingFlags & KeypointFormat.FlagVisibility) != 0,
                InitialSequence = lane.Encoder?.NextSequence ?? 0,
            });
            lane.EncoderFlags = lane.PendingFlags;
        }
        var id = lane.Sender.IdBytes;
        _scratch[0] = (byte)id.Length;
        id.CopyTo(_scratch, 1);
        if (!lane.Encoder.TryEncode(lane.Pending, _scratch.AsSpan(1 + id.Length), out var written)) return 0;
        return 1 + id.Length + written;
    }
}

/// <summary>A participant of a <see cref="PoseForwarder"/>: as a sender its decoder and flood cap, as a receiver its
/// channel, rate cap, waiting frames (one per sender) and what it was sent.</summary>
public sealed class PoseParticipant
{
    internal PoseParticipant(string id, byte[] idBytes, PoseRole role, PoseInterest interest, PoseForwarderOptions options)
    {
        Id = id;
        IdBytes = idBytes;
        Role = role;
        Interest = interest;
        Incoming = new RateBucket(options.MaxFramesPerSecondPerSender, options.SenderBurst);
        Outgoing = new RateBucket(options.MaxFramesPerSecondPerReceiver, options.ReceiverBurst);
    }

    public string Id { get; }

    public PoseRole Role { get; internal set; }

    public PoseInterest Interest { get; internal set; }

    public IPoseChannel? Channel { get; internal set; }

    internal byte[] IdBytes { get; }

    internal KeypointDecoder Decoder { get; } = new();

    internal RateBucket Incoming { get; }

    internal RateBucket Outgoing { get; }

    internal BitrateMeter Sent { get; } = new();

    internal List<PoseLane> Lanes { get; } = [];

    internal TimeSpan? RetryAt { get; set; }

    /// <summary>As a sender: messages received, frames accepted, malformed, above the rate cap.</summary>
    public long FramesReceived { get; internal set; }

    public long FramesAccepted { get; internal set; }

    public long MalformedFrames { get; internal set; }

    public long FloodedFrames { get; internal set; }

    /// <summary>As a receiver: frames sent, and waiting frames replaced by newer ones.</summary>
    public long FramesSent { get; internal set; }

    public long SupersededFrames { get; internal set; }

    /// <summary>When the forwarder must look at this receiver again (a frame waits for its rate cap or for its
    /// channel to drain); null when nothing waits.</summary>
    public TimeSpan? NextTimeout
    {
        get
        {
            if (Channel is not { IsOpen: true }) return null;
            var waiting = false;
            foreach (var lane in Lanes) waiting |= lane.HasPending;
            if (!waiting) return null;
            return RetryAt ?? Outgoing.NextAvailable;
        }
    }

    internal PoseLane LaneFor(PoseParticipant sender)
    {
        foreach (var lane in Lanes)
        {
            if (ReferenceEquals(lane.Sender, sender)) return lane;
        }
        var added = new PoseLane(sender);
        Lanes.Add(added);
        return added;
    }

    internal void RemoveLane(PoseParticipant sender)
    {
        for (var i = Lanes.Count - 1; i >= 0; i--)
        {
            if (ReferenceEquals(Lanes[i].Sender, sender)) Lanes.RemoveAt(i);
        }
    }

    /// <summary>The waiting frame that has waited longest (fair between senders).</summary>
    internal PoseLane? OldestPending()
    {
        PoseLane? oldest = null;
        foreach (var lane in Lanes)
        {
            if (lane.HasPending && (oldest is null || lane.PendingSince < oldest.PendingSince)) oldest = lane;
        }
        return oldest;
    }
}

/// <summary>One sender's pose on its way to one receiver: the newest frame not yet sent, and the receiver's encoder.</summary>
internal sealed class PoseLane(PoseParticipant sender)
{
    public PoseParticipant Sender { get; } = sender;
    public KeypointFrame Pending;
    public bool HasPending;
    public byte PendingFlags;
    public TimeSpan PendingSince;
    public KeypointEncoder? Encoder;
    public byte EncoderFlags;
}

/// <summary>A token bucket over passed-in time: <c>rate</c> tokens a second, at most <c>burst</c> kept.</summary>
internal sealed class RateBucket(double ratePerSecond, int burst)
{
    private double _tokens = burst;
    private TimeSpan _last = TimeSpan.MinValue;

    public bool TryTake(TimeSpan now)
    {
        Refill(now);
        if (_tokens < 1) return false;
        _tokens -= 1;
        return true;
    }

    /// <summary>When the next token is there (a time in the past when one is there now).</summary>
    public TimeSpan NextAvailable => _tokens >= 1 || _last == TimeSpan.MinValue
        ? _last == TimeSpan.MinValue ? TimeSpan.Zero : _last
        : _last + TimeSpan.FromTicks((long)Math.Ceiling((1 - _tokens) / ratePerSecond * TimeSpan.TicksPerSecond) + 1);

    private void Refill(TimeSpan now)
    {
        if (_last == TimeSpan.MinValue)
        {
            _last = now;
            return;
        }
        if (now <= _last) return;
        _tokens = Math.Min(burst, _tokens + (now - _last).TotalSeconds * ratePerSecond);
        _last = now;
    }
}
