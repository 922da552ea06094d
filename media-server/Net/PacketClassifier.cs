namespace TeleRehab.Media.Net;

/// <summary>What a datagram received on the shared media port carries.</summary>
public enum PacketKind
{
    Unknown = 0,
    Stun,
    Dtls,
    Rtp,
    Rtcp,
}

/// <summary>
/// First-byte demultiplexing of STUN, DTLS, RTP and RTCP on one 5-tuple (RFC 7983 §7), with the
/// RTP/RTCP split of RFC 5761 §4 (second byte = marker bit + payload type; 192-223 means RTCP).
/// </summary>
public static class PacketClassifier
{
    public static PacketKind Classify(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty) return PacketKind.Unknown;
        byte first = packet[0];
        return first switch
        {
            <= 3 => PacketKind.Stun,
            >= 20 and <= 63 => PacketKind.Dtls,
            >= 128 and <= 191 => packet.Length < 2
                ? PacketKind.Unknown
                : packet[1] is >= 192 and <= 223 ? PacketKind.Rtcp : PacketKind.Rtp,
            // 16-19 ZRTP, 64-79 TURN channels and everything else are not used by this stack.
            _ => PacketKind.Unknown,
        };
    }
}
