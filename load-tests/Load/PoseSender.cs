using TeleRehab.Media.Pose;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.WebRtc;
using TeleRehab.Media.Sctp;

namespace TeleRehab.LoadTests.Load;

/// <summary>A patient's pose estimator as the server sees it: a "pose" data channel carrying keypoint frames
/// (docs/pose-format.md) at 10 frames a second, the landmarks swaying slowly. Paced by the shared pacer (every 5th
/// tick); each frame is encoded and sent on the client's worker by one cached delegate, so sending allocates nothing.
///</summary>
public sealed class PoseSender : IPacedSource, IDataChannelHandler
{
    private const int TicksPerFrame = 5; // 10 frames/s on the 20 ms pacer

    private readonly WebRtcClient _media;
    private readonly DataChannelTransport _transport;
    private readonly KeypointEncoder _encoder = new();
    private readonly byte[] _buffer = new byte[KeypointFormat.MaxFrameLength];
    private readonly Action _sendFrame;
    private KeypointFrame _frame;
    private ushort _stream;
    private volatile bool _open;
    private long _tick;
    private long _sent;

    private PoseSender(WebRtcClient media, DataChannelTransport transport)
    {
        _media = media;
        _transport = transport;
        _sendFrame = SendFrame;
    }

    public long FramesSent => Interlocked.Read(ref _sent);

    /// <summary>Opens the pose channel once the association is up, then sends on <paramref name="pacer"/>; null when the
    /// client negotiated no data channel.</summary>
    public static PoseSender? Start(SessionClient client, MediaPacer pacer)
    {
        if (client.Media?.Connection?.DataChannels is not { } transport) return null;
        var sender = new PoseSender(client.Media, transport);
        client.Media.Invoke(() => transport.Handler = sender);
        pacer.Add(sender);
        return sender;
    }

    public void Tick(long tick)
    {
        if (tick % TicksPerFrame != 0) return;
        _tick = tick;
        _media.Invoke(_sendFrame);
    }

    private void SendFrame()
    {
        if (!_open)
        {
            if (_transport.IsConnected && _transport.OpenChannel(RoomDataChannels.PoseLabel) is { } channel)
            {
                _stream = channel.StreamId;
                _open = true;
            }
            return;
        }
        var phase = _tick * 0.02;
        _frame.TimestampMs = (uint)(_tick * 20);
        for (var l = 0; l < KeypointFormat.LandmarkCount; l++)
            _frame.Landmarks[l] = new Landmark((float)(0.3 + l * 0.01 + 0.05 * Math.Sin(phase + l)), (float)(0.2 + l * 0.02), 0, 0.9f);
        var length = _encoder.Encode(_frame, _buffer);
        if (_transport.Send(_stream, _buffer.AsSpan(0, length), isText: false) == DataChannelSendResult.Sent) Interlocked.Increment(ref _sent);
    }

    public void OnChannelOpened(DataChannelTransport transport, DataChannel channel)
    {
    }

    public void OnMessage(DataChannelTransport transport, DataChannel channel, ReadOnlySpan<byte> data, bool isText)
    {
    }

    public void OnChannelClosed(DataChannelTransport transport, DataChannel channel)
    {
        if (channel.StreamId == _stream) _open = false;
    }
}
