using TeleRehab.Media.Rtcp;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.LoadTests;

/// <summary>A participant's synthetic microphone and camera: Opus-like audio at 50 packets/s (20 ms, 960 ticks of
/// 48 kHz) and VP8-like video at 25 frames/s (one ~300-byte packet a frame, three ~1000-byte packets for a keyframe:
/// the first frame and after each keyframe request). Payloads carry the publisher's tag (<see cref="SyntheticPayload"/>).
/// Driven by a shared <see cref="MediaPacer"/>; packets go through the client's worker.</summary>
public sealed class SyntheticSender : IPacedSource
{
    private const int AudioPayloadBytes = 120;
    private const int VideoPayloadBytes = 300;
    private const int KeyframePacketBytes = 1000;

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

    public SyntheticSender(WebRtcClient media, string participantId)
    {
        _media = media;
        _participantId = participantId;
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

    public void Tick(long tick)
    {
        if (_audio)
        {
            if (AudioEnabled) SendAudio();
            _audioTimestamp += 960;
        }
        if (_video && tick % 2 == 0)
        {
            if (VideoEnabled) SendVideoFrame();
            _videoTimestamp += 3600;
        }
    }

    private void SendAudio()
    {
        var header = SyntheticPayload.WriteHeader(_buffer, _audioPt, _audioSeq++, _audioTimestamp, _media.AudioSsrc, marker: false);
        var payload = SyntheticPayload.Write(_buffer.AsSpan(header), _participantId, video: false, keyframe: false, _audioCount++, AudioPayloadBytes);
        if (_media.SendRtp(_buffer.AsSpan(0, header + payload))) Interlocked.Increment(ref _audioSent);
    }

    private void SendVideoFrame()
    {
        var keyframe = _keyframeWanted;
        _keyframeWanted = false;
        var packets = keyframe ? 3 : 1;
        for (var i = 0; i < packets; i++)
        {
            var header = SyntheticPayload.WriteHeader(_buffer, _videoPt, _videoSeq++, _videoTimestamp, _media.VideoSsrc, marker: i == packets - 1);
            var payload = SyntheticPayload.Write(_buffer.AsSpan(header), _participantId, video: true, keyframe: keyframe && i == 0, _videoCount++,
                keyframe ? KeyframePacketBytes : VideoPayloadBytes);
            if (_media.SendRtp(_buffer.AsSpan(0, header + payload))) Interlocked.Increment(ref _videoSent);
        }
    }
}
