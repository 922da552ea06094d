using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// The State Cookie we put in an INIT ACK (RFC 9260 §5.1.3): everything needed to build the
/// association when the COOKIE ECHO comes back, so the responder keeps no state before it does.
/// It carries the creation time and an HMAC-SHA256 over the contents keyed by a per-association
/// secret; §5.1.5 checks the MAC, then the lifetime. Layout (68 bytes, big-endian):
/// local tag, peer tag, local initial TSN, peer initial TSN, peer a_rwnd, peer outbound streams,
/// peer inbound streams, flags (1: peer supports FORWARD TSN, 2: peer supports RE-CONFIG), 3 zero
/// bytes, creation time in ticks of the association's clock, MAC.
/// </summary>
internal readonly struct SctpStateCookie
{
    public const int ContentSize = 36;
    public const int Size = ContentSize + 32;
    private const byte FlagForwardTsn = 1;
    private const byte FlagReConfig = 2;

    public uint LocalTag { get; init; }
    public uint PeerTag { get; init; }
    public uint LocalInitialTsn { get; init; }
    public uint PeerInitialTsn { get; init; }
    public uint PeerReceiverWindow { get; init; }
    public ushort PeerOutboundStreams { get; init; }
    public ushort PeerInboundStreams { get; init; }
    public bool PeerForwardTsn { get; init; }
    public bool PeerReConfig { get; init; }
    public TimeSpan Created { get; init; }

    public void WriteTo(Span<byte> destination, ReadOnlySpan<byte> secret)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, LocalTag);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], PeerTag);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], LocalInitialTsn);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], PeerInitialTsn);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], PeerReceiverWindow);
        BinaryPrimitives.WriteUInt16BigEndian(destination[20..], PeerOutboundStreams);
        BinaryPrimitives.WriteUInt16BigEndian(destination[22..], PeerInboundStreams);
        destination[24] = (byte)((PeerForwardTsn ? FlagForwardTsn : 0) | (PeerReConfig ? FlagReConfig : 0));
        destination[25] = destination[26] = destination[27] = 0;
        BinaryPrimitives.WriteInt64BigEndian(destination[28..], Created.Ticks);
        HMACSHA256.HashData(secret, destination[..ContentSize], destination.Slice(ContentSize, 32));
    }

    /// <summary>False when the cookie has the wrong size or its MAC does not match (it was not made by us, or was altered).</summary>
    public static bool TryVerify(ReadOnlySpan<byte> cookie, ReadOnlySpan<byte> secret, out SctpStateCookie result)
    {
        result = default;
        if (cookie.Length != Size) return false;
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(secret, cookie[..ContentSize], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, cookie.Slice(ContentSize, 32))) return false;
        byte flags = cookie[24];
        result = new SctpStateCookie
        {
            LocalTag = BinaryPrimitives.ReadUInt32BigEndian(cookie),
            PeerTag = BinaryPrimitives.ReadUInt32BigEndian(cookie[4..]),
            LocalInitialTsn = BinaryPrimitives.ReadUInt32BigEndian(cookie[8..]),
            PeerInitialTsn = BinaryPrimitives.ReadUInt32BigEndian(cookie[12..]),
            PeerReceiverWindow = BinaryPrimitives.ReadUInt32BigEndian(cookie[16..]),
            PeerOutboundStreams = BinaryPrimitives.ReadUInt16BigEndian(cookie[20..]),
            PeerInboundStreams = BinaryPrimitives.ReadUInt16BigEndian(cookie[22..]),
            PeerForwardTsn = (flags & FlagForwardTsn) != 0,
            PeerReConfig = (flags & FlagReConfig) != 0,
            Created = TimeSpan.FromTicks(BinaryPrimitives.ReadInt64BigEndian(cookie[28..])),
        };
        return true;
    }
}
