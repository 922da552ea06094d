namespace TeleRehab.Media.Rooms;

/// <summary>A participant's "pose" data channel as the forwarder uses it: sending and its buffered amount go through
/// the functions the peer's data channel transport gives when the channel opens; <see cref="Close"/> when it closes.
/// Called on the room's worker.</summary>
internal sealed class PoseChannel(PoseChannel.SendMessage send, Func<long> bufferedAmount) : IPoseChannel
{
    /// <summary>Sends one binary message on the channel; false when it could not.</summary>
    public delegate bool SendMessage(ReadOnlySpan<byte> message);

    /// <summary>The label of the channel a patient's page opens for its keypoints (docs/pose-format.md).</summary>
    public const string Label = RoomDataChannels.PoseLabel;

    public bool IsOpen { get; private set; } = true;

    public long BufferedAmount => bufferedAmount();

    public bool Send(ReadOnlySpan<byte> message) => IsOpen && send(message);

    public void Close() => IsOpen = false;
}
