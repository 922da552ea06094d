using TeleRehab.Media.Rtcp;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.LoadTests;

/// <summary>What a <see cref="SyntheticSender"/> sends. <see cref="Test"/> is the integration tests' simple shape;
/// <see cref="Realistic"/> is what a browser sends (the load generator's default).</summary>
public sealed record SyntheticMediaShape
{
    /// <summary>Opus payload bytes per 20 ms frame while talking (80 = 32 kbit/s).</summary>
    public int AudioPayloadBytes { get; init; } = 120;

    /// <summary>Discontinuous transmission: in silences one small frame every 400 ms, as Opus DTX (RFC 7587 §3.1.3).</summary>
    public bool Dtx { get; init; }

    /// <summary>Mean lengths of talk spurts and silences when <see cref="Dtx"/> is on.</summary>
    public TimeSpan TalkSpurt { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan Silence { get; init; } = TimeSpan.FromSeconds(2);

    public int VideoFramesPerSecond { get; init; } = 25;

    /// <summary>Bytes of an ordinary (delta) frame on average; each frame varies by up to <see cref="FrameSizeSpread"/>.</summary>
    public int VideoFrameBytes { get; init; } = 300;

    public double FrameSizeSpread { get; init; }

    /// <summary>Bytes of a keyframe (the first frame and one after each PLI/FIR).</summary>
    public int KeyframeBytes { get; init; } = 3000;

    /// <summary>Largest payload of one video packet (a frame is split into as few packets as fit).</summary>
    public int MaxVideoPayloadBytes { get; init; } = 1000;

    public static SyntheticMediaShape Test { get; } = new();

    /// <summary>Opus at 32 kbit/s with DTX, VP8 at <paramref name="videoKbps"/> and <paramref name="fps"/> frames a second
    /// with keyframes about 6 frames big, split at 1100 bytes, frame sizes varying by 25 %.</summary>
    public static SyntheticMediaShape Realistic(int videoKbps = 300, int fps = 15)
    {
        var frame = Math.Max(60, videoKbps * 1000 / 8 / Math.Max(1, fps));
        return new SyntheticMediaShape
        {
            AudioPayloadBytes = 80,
            Dtx = true,
            VideoFramesPerSecond = fps,
            VideoFrameBytes = frame,
            FrameSizeSpread = 0.25,
            KeyframeBytes = Math.Max(frame * 6, 1200),
            MaxVideoPayloadBytes = 1100,
        };
    }
}

/// <summary>A participant's synthetic microphone and camera, as <see cref="SyntheticMediaShape"/> says: Opus-like audio
/// at 50 packets/s (20 ms, 960 ticks of 48 kHz; with DTX one packet every 400 ms in silences) and VP8-like video frames
/// (a keyframe first and after each keyframe request). Payloads carry the publisher's tag and send time
/// (<see cref="SyntheticPayload"/>). Driven by a shared <see cref="MediaPacer"/>; packets go through the client's worker.
/// Sending allocates nothing: one buffer per sender, reused.</summary>
public sealed class SyntheticSender : IPacedSource
{
    private const int DtxInterval = 20; // ticks: 400 ms

    private readonly WebRtcClient _media;
    private readonly string _participantId;
    private readonly byte[] _buffer = new byte[1500];
    private readonly byte _audioPt;
    private readonly byte _videoPt;
    private readonly bool _audio;
    private readonly bool _video;
    private ushort _audioSeq = (ushort)Random.Shared.Next(0, 0x8000);
    private ushort _videoSeq = (ushort)Random.Shared.Next(0, 0x8000);
    private uint _audioTimestamp = (uint)Random.Shared.NextInt64(0, uint.MaxValue);
    private uint _videoTimestamp = (uint)Random.Shared.NextInt64(0, uint.MaxValue);
    private uint _audioCount;
    private uint _videoCount;
    private volatile bool _keyframeWanted = true;
    private long _audioSent;
    private long _videoSent;
    private long _keyframeRequests;
    private readonly SyntheticMediaShape _shape;
    private readonly Random _random;
    private bool _talking = true;
    private long _nextSpurtChange;
    private long _lastFrame = -1;

    public SyntheticSender(WebRtcClient media, string participantId, SyntheticMediaShape? shape = null)
    {
        _media = media;
        _participantId = participantId;
        _shape = shape ?? SyntheticMediaShape.Test;
        _random = new Random(participantId.GetHashCode(StringComparison.Ordinal));
        var session = media.Session ?? throw new InvalidOperationException("negotiate before sending");
        if (media.SendMids.TryGetValue("audio", out var audioMid) && session.FindMedia(audioMid) is { IsRejected: false, Codecs.Count: > 0 } audio)
        {
            _audio = true;
            _audioPt = (byte)audio.Codecs[0].PayloadType;
        }
        if (media.SendMids.TryGetValue("video", out var videoMid) && session.FindMedia(videoMid) is { IsRejected: false, Codecs.Count: > 0 } video)
        {
            _video = true;
            _videoPt = (byte)video.Codecs[0].PayloadType;
        }
    }

    /// <summary>When false, nothing is sent (a muted microphone and camera still tick).</summary>
    public bool AudioEnabled { get; set; } = true;

    public bool VideoEnabled { get; set; } = true;

    public long AudioPacketsSent => Interlocked.Read(ref _audioSent);

    public long VideoPacketsSent => Interlocked.Read(ref _videoSent);

    /// <summary>PLI/FIR the SFU sent for this camera.</summary>
    public long KeyframeRequests => Interlocked.Read(ref _keyframeRequests);

    /// <summary>Reads RTCP from the SFU: a PLI or FIR for this camera makes the next frame a keyframe.</summary>
    public void OnRtcp(ReadOnlySpan<byte> rtcp)
    {
        foreach (var packet in new RtcpCompoundReader(rtcp))
        {
            if (packet.PacketType == RtcpPacketType.PayloadSpecificFeedback && packet.Format is 1 or 4)
            {
                Interlocked.Increment(ref _keyframeRequests);
                _keyframeWanted = true;
            }
        }
    }

    /// <summary>Audio frames left out in silences (DTX).</summary>
    public long AudioFramesSkipped { get; private set; }

    public void Tick(long tick)
    {
        if (_audio)
        {
            if (AudioEnabled && Speaks(tick)) SendAudio();
            _audioTimestamp += 960;
        }
        // Frame n is due at tick n * 50 / fps (the pacer ticks 50 times a second); a frame ticks the 90 kHz clock by 1800 per tick.
        var frame = tick * _shape.VideoFramesPerSecond / 50;
        if (_video && frame != _lastFrame)
        {
            var elapsed = _lastFrame < 0 ? 0 : tick - _lastTick;
            _lastFrame = frame;
            _videoTimestamp += (uint)(elapsed * 1800);
            _lastTick = tick;
            if (VideoEnabled) SendVideoFrame();
        }
    }

    private long _lastTick;

    private bool Speaks(long tick)
    {
        if (!_shape.Dtx) return true;
        if (tick >= _nextSpurtChange)
        {
            if (_nextSpurtChange > 0) _talking = !_talking;
            var mean = (_talking ? _shape.TalkSpurt : _shape.Silence).TotalMilliseconds / 20;
            _nextSpurtChange = tick + 1 + (long)(-mean * Math.Log(1 - _random.NextDouble()));
        }
        if (_talking || tick % DtxInterval == 0) return true;
        AudioFramesSkipped++;
        return false;
    }

    private void SendAudio()
    {
        var header = SyntheticPayload.WriteHeader(_buffer, _audioPt, _audioSeq++, _audioTimestamp, _media.AudioSsrc, marker: false);
        var bytes = _talking ? _shape.AudioPayloadBytes : 0; // a DTX frame: the tag only
        var payload = SyntheticPayload.Write(_buffer.AsSpan(header), _participantId, video: false, keyframe: false, _audioCount++, bytes, MediaClock.NowMicroseconds);
        if (_media.SendRtp(_buffer.AsSpan(0, header + payload))) Interlocked.Increment(ref _audioSent);
    }

    private void SendVideoFrame()
    {
        var keyframe = _keyframeWanted;
        _keyframeWanted = false;
        var size = keyframe ? _shape.KeyframeBytes : _shape.VideoFrameBytes;
        if (!keyframe && _shape.FrameSizeSpread > 0) size = (int)(size * (1 + _shape.FrameSizeSpread * (2 * _random.NextDouble() - 1)));
        var packets = Math.Max(1, (size + _shape.MaxVideoPayloadBytes - 1) / _shape.MaxVideoPayloadBytes);
        var perPacket = size / packets;
        var sentAt = MediaClock.NowMicroseconds;
        for (var i = 0; i < packets; i++)
        {
            var header = SyntheticPayload.WriteHeader(_buffer, _videoPt, _videoSeq++, _videoTimestamp, _media.VideoSsrc, marker: i == packets - 1);
            var payload = SyntheticPayload.Write(_buffer.AsSpan(header), _participantId, video: true, keyframe: keyframe && i == 0, _videoCount++,
                perPacket, sentAt);
            if (_media.SendRtp(_buffer.AsSpan(0, header + payload))) Interlocked.Increment(ref _videoSent);
        }
    }
}
