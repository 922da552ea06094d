using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>
/// One Generic NACK FCI entry (RFC 4585 §6.2.1): PID is a lost packet's sequence number; bit i of BLP
/// (LSB = bit 0) reports the loss of packet PID + i + 1.
/// </summary>
public readonly record struct NackPair(ushort PacketId, ushort LostBitmask) : IRtcpItem<NackPair>
{
    public static int WireSize => 4;

    public static NackPair Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt16BigEndian(source), BinaryPrimitives.ReadUInt16BigEndian(source[2..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, PacketId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], LostBitmask);
    }

    /// <summary>Number of lost packets this pair reports (1 + set bits of BLP).</summary>
    public int LostCount => 1 + System.Numerics.BitOperations.PopCount(LostBitmask);
}

/// <summary>
/// Generic NACK: transport-layer feedback (RTPFB, PT=205, FMT=1) per RFC 4585 §6.2.1. Zero-allocation
/// view when parsed; built from caller spans.
/// </summary>
public readonly ref struct TransportLayerNack : IRtcpPacket
{
    public const int Format = 1;

    public TransportLayerNack(uint senderSsrc, uint mediaSsrc, RtcpItemList<NackPair> pairs)
    {
        SenderSsrc = senderSsrc;
        MediaSsrc = mediaSsrc;
        Pairs = pairs;
    }

    public uint SenderSsrc { get; }
    public uint MediaSsrc { get; }
    public RtcpItemList<NackPair> Pairs { get; }

    public static bool TryParse(ReadOnlySpan<byte> packet, out TransportLayerNack nack)
    {
        nack = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.TransportFeedback, Format, out _, out var body)) return false;
        // §6.2.1: at least one FCI entry; the FCI must be whole 4-byte entries.
        if (body.Length < 12 || body.Length % 4 != 0) return false;
        nack = new TransportLayerNack(
            BinaryPrimitives.ReadUInt32BigEndian(body),
            BinaryPrimitives.ReadUInt32BigEndian(body[4..]),
            RtcpItemList<NackPair>.FromWire(body[8..]));
        return true;
    }

    public int GetSerializedLength() => RtcpHeader.Size + 8 + Pairs.ByteLength;

    public int WriteTo(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        RtcpHeader.Write(destination, Format, RtcpPacketType.TransportFeedback, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], SenderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], MediaSsrc);
        Pairs.WriteTo(destination[12..]);
        return length;
    }

    /// <summary>Enumerates every lost sequence number reported, in order.</summary>
    public LostSequenceEnumerator LostSequenceNumbers => new(Pairs);

    /// <summary>
    /// Packs lost sequence numbers (ascending modulo 2^16, duplicates ignored) into PID+BLP pairs.
    /// Returns the number of pairs written; <paramref name="destination"/> needs at most one entry per loss.
    /// </summary>
    public static int BuildPairs(ReadOnlySpan<ushort> lostSequenceNumbers, Span<NackPair> destination)
    {
        int count = 0;
        int i = 0;
        while (i < lostSequenceNumbers.Length)
        {
            ushort pid = lostSequenceNumbers[i++];
            ushort blp = 0;
            while (i < lostSequenceNumbers.Length)
            {
                int d = (ushort)(lostSequenceNumbers[i] - pid);
                if (d == 0) { i++; continue; }
                if (d > 16) break;
                blp |= (ushort)(1 << (d - 1));
                i++;
            }
            destination[count++] = new NackPair(pid, blp);
        }
        return count;
    }

    /// <summary>Number of pairs <see cref="BuildPairs"/> produces for this input.</summary>
    public static int GetPairCount(ReadOnlySpan<ushort> lostSequenceNumbers)
    {
        int count = 0;
        int i = 0;
        while (i < lostSequenceNumbers.Length)
        {
            ushort pid = lostSequenceNumbers[i++];
            while (i < lostSequenceNumbers.Length && (ushort)(lostSequenceNumbers[i] - pid) <= 16) i++;
            count++;
        }
        return count;
    }

    public ref struct LostSequenceEnumerator
    {
        private readonly RtcpItemList<NackPair> _pairs;
        private int _pairIndex;
        private int _bit; // -1 = the PID itself, 0..15 = BLP bits
        private NackPair _pair;
        private ushort _current;

        internal LostSequenceEnumerator(RtcpItemList<NackPair> pairs)
        {
            _pairs = pairs;
            _pairIndex = -1;
            _bit = 16;
            _pair = default;
            _current = 0;
        }

        public readonly ushort Current => _current;

        public readonly LostSequenceEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (true)
            {
                if (_bit >= 16)
                {
                    if (++_pairIndex >= _pairs.Count) return false;
                    _pair = _pairs[_pairIndex];
                    _bit = 0;
                    _current = _pair.PacketId;
                    return true;
                }
                int b = _bit++;
                if ((_pair.LostBitmask & (1 << b)) != 0)
                {
                    _current = (ushort)(_pair.PacketId + b + 1);
                    return true;
                }
            }
        }
    }
}
