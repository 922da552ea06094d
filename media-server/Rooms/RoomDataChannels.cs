using TeleRehab.Media.Sctp;

namespace TeleRehab.Media.Rooms;

/// <summary>Which data channels a room participant may open: the one place to extend when the product adds a channel.
/// Anything else a page opens is refused: closed at once by a stream reset (RFC 8831 §6.7) and counted
/// (<c>DataChannelTransport.ChannelsRefused</c>, <c>telerehab_datachannel_channels_total{result="refused"}</c>),
/// without effect on the participant's media.</summary>
public static class RoomDataChannels
{
    /// <summary>The live pose overlay's keypoints (docs/transport.md, Data channels).</summary>
    public const string PoseLabel = "pose";

    /// <summary>The policy given to every room participant's <c>DataChannelTransport.Policy</c>.</summary>
    public static bool Accept(DataChannelOpenRequest request) => request.Label == PoseLabel;
}
