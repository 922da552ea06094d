using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>Packet status symbols (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.1).</summary>
public enum TwccStatusSymbol : byte
{
    NotReceived = 0,
    /// <summary>Received, 1-byte receive delta (0..63.75 ms).</summary>
    ReceivedSmallDelta = 1,
    /// <summary>Received, 2-byte signed receive delta.</summary>
    ReceivedLargeDelta = 2,
}

/// <summary>The status of one packet reported by a transport-wide feedback message.</summary>
public readonly record struct TwccPacketStatus(ushort SequenceNumber, TwccStatusSymbol Symbol, int DeltaTicks, TimeSpan ArrivalTime)
{
    /// <summary>Duration of one receive-delta tick: 250 µs (draft §3.1.5).</summary>
    public static readonly TimeSpan DeltaTick = TimeSpan.FromTicks(2500);

    public bool Received => Symbol != TwccStatusSymbol.NotReceived;

    /// <summary>Receive delta from the previous received packet (or the reference time for the first).</summary>
    public TimeSpan Delta => TimeSpan.FromTicks(DeltaTicks * 2500L);
}

/// <summary>
/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1):
/// RTPFB PT=205, FMT=15. Fields: sender/media SSRC, base sequence number, packet status count,
/// 24-bit reference time (multiples of 64 ms), feedback packet count, packet status chunks (run-length
/// or 1-/2-bit status vectors), then one receive delta per received packet (1 byte unsigned or 2 bytes
/// signed, in 250 µs units). A zero-allocation view; build new messages with <see cref="TransportWideFeedbackBuilder"/>.
/// </summary>
public readonly ref struct TransportWideFeedback : IRtcpPacket
{
    public const int Format = 15;
    internal const int FixedLength = 16; // after the RTCP header
    internal const long ReferenceTimeUnitTicks = 64 * TimeSpan.TicksPerMillisecond;

    private readonly ReadOnlySpan<byte> _chunks;
    private readonly ReadOnlySpan<byte> _deltas;

    private TransportWideFeedback(uint senderSsrc, uint mediaSsrc, ushort baseSequenceNumber, ushort packetStatusCount,
        uint referenceTime, byte feedbackPacketCount, ReadOnlySpan<byte> chunks, ReadOnlySpan<byte> deltas)
    {
        SenderSsrc = senderSsrc;
        MediaSsrc = mediaSsrc;
        BaseSequenceNumber = baseSequenceNumber;
        PacketStatusCount = packetStatusCount;
        ReferenceTimeRaw = referenceTime;
        FeedbackPacketCount = feedbackPacketCount;
        _chunks = chunks;
        _deltas = deltas;
    }

    public uint SenderSsrc { get; }
    public uint MediaSsrc { get; }
    public ushort BaseSequenceNumber { get; }
    public ushort PacketStatusCount { get; }

    /// <summary>The 24-bit reference time field, in units of 64 ms (wraps; the receiver unwraps it).</summary>
    public uint ReferenceTimeRaw { get; }

    /// <summary><see cref="ReferenceTimeRaw"/> × 64 ms.</summary>
    public TimeSpan ReferenceTime => TimeSpan.FromTicks(ReferenceTimeRaw * ReferenceTimeUnitTicks);

    public byte FeedbackPacketCount { get; }

    /// <summary>The packet status chunk bytes.</summary>
    public ReadOnlySpan<byte> Chunks => _chunks;

    /// <summary>The receive delta bytes.</summary>
    public ReadOnlySpan<byte> Deltas => _deltas;

    internal static int GetSymbol(ushort chunk, int index)
    {
        if ((chunk & 0x8000) == 0) return (chunk >> 13) & 3;        // run length chunk (§3.1.3)
        if ((chunk & 0x4000) == 0) return (chunk >> (13 - index)) & 1; // 14 x 1-bit symbols (§3.1.4)
        return (chunk >> (12 - 2 * index)) & 3;                      // 7 x 2-bit symbols (§3.1.4)
    }

    internal static int GetSymbolCount(ushort chunk) =>
        (chunk & 0x8000) == 0 ? chunk & 0x1FFF : (chunk & 0x4000) == 0 ? 14 : 7;

    public static bool TryParse(ReadOnlySpan<byte> packet, out TransportWideFeedback feedback)
    {
        feedback = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.TransportFeedback, Format, out _, out var body)) return false;
        if (body.Length < FixedLength) return false;
        ushort count = BinaryPrimitives.ReadUInt16BigEndian(body[10..]);
        int pos = FixedLength;
        int seen = 0, deltaBytes = 0;
        while (seen < count)
        {
            if (pos + 2 > body.Length) return false;
            ushort chunk = BinaryPrimitives.ReadUInt16BigEndian(body[pos..]);
            pos += 2;
            int n = GetSymbolCount(chunk);
            if ((chunk & 0x8000) == 0)
            {
                int symbol = GetSymbol(chunk, 0);
                int used = Math.Min(n, count - seen);
                if (symbol == 3 && used > 0) return false; // reserved symbol
                deltaBytes += used * symbol; // 0, 1 or 2 bytes per packet
                seen += used;
            }
            else
            {
                for (int i = 0; i < n && seen < count; i++, seen++)
                {
                    int symbol = GetSymbol(chunk, i);
                    if (symbol == 3) return false;
                    deltaBytes += symbol;
                }
            }
        }
        if (pos + deltaBytes > body.Length) return false;
        uint refWord = BinaryPrimitives.ReadUInt32BigEndian(body[12..]);
        feedback = new TransportWideFeedback(
            BinaryPrimitives.ReadUInt32BigEndian(body),
            BinaryPrimitives.ReadUInt32BigEndian(body[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(body[8..]),
            count,
            refWord >> 8,
            (byte)refWord,
            body[FixedLength..pos],
            body.Slice(pos, deltaBytes));
        return true;
    }

    /// <summary>Enumerates (sequence number, status, delta, arrival time) for every reported packet.</summary>
    public Enumerator GetEnumerator() => new(this);

    public int GetSerializedLength() => (RtcpHeader.Size + FixedLength + _chunks.Length + _deltas.Length + 3) & ~3;

    public int WriteTo(Span<byte> destination) =>
        Write(destination, SenderSsrc, MediaSsrc, BaseSequenceNumber, PacketStatusCount, ReferenceTimeRaw,
            FeedbackPacketCount, _chunks, _deltas);

    /// <summary>
    /// Writes a message from encoded chunk and delta bytes. When the content is not 32-bit aligned it is
    /// padded with zeros, the P bit set and the last byte set to the padding count (RFC 3550 §6.4.1),
    /// as libwebrtc does.
    /// </summary>
    internal static int Write(Span<byte> destination, uint senderSsrc, uint mediaSsrc, ushort baseSeq, ushort count,
        uint referenceTime, byte fbCount, ReadOnlySpan<byte> chunks, ReadOnlySpan<byte> deltas)
    {
        int content = RtcpHeader.Size + FixedLength + chunks.Length + deltas.Length;
        int length = (content + 3) & ~3;
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        int padding = length - content;
        RtcpHeader.Write(destination, Format, RtcpPacketType.TransportFeedback, length, padding != 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], mediaSsrc);
        BinaryPrimitives.WriteUInt16BigEndian(destination[12..], baseSeq);
        BinaryPrimitives.WriteUInt16BigEndian(destination[14..], count);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], (referenceTime & 0xFFFFFF) << 8 | fbCount);
        chunks.CopyTo(destination[20..]);
        deltas.CopyTo(destination[(20 + chunks.Length)..]);
        if (padding != 0)
        {
            destination[content..length].Clear();
            destination[length - 1] = (byte)padding;
        }
        return length;
    }

    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _chunks;
        private readonly ReadOnlySpan<byte> _deltas;
        private readonly ushort _base;
        private readonly int _count;
        private int _emitted;
        private int _chunkPos;
        private ushort _chunk;
        private int _chunkIndex;
        private int _chunkSymbols;
        private int _deltaPos;
        private long _arrivalTicks;
        private TwccPacketStatus _current;

        internal Enumerator(TransportWideFeedback feedback)
        {
            _chunks = feedback._chunks;
            _deltas = feedback._deltas;
            _base = feedback.BaseSequenceNumber;
            _count = feedback.PacketStatusCount;
            _arrivalTicks = feedback.ReferenceTime.Ticks;
            _emitted = 0;
            _chunkPos = 0;
            _chunk = 0;
            _chunkIndex = 0;
            _chunkSymbols = 0;
            _deltaPos = 0;
            _current = default;
        }

        public readonly TwccPacketStatus Current => _current;

        public bool MoveNext()
        {
            if (_emitted >= _count) return false;
            while (_chunkIndex >= _chunkSymbols)
            {
                _chunk = BinaryPrimitives.ReadUInt16BigEndian(_chunks[_chunkPos..]);
                _chunkPos += 2;
                _chunkIndex = 0;
                _chunkSymbols = GetSymbolCount(_chunk);
            }
            var symbol = (TwccStatusSymbol)GetSymbol(_chunk, _chunkIndex++);
            int delta = 0;
            if (symbol == TwccStatusSymbol.ReceivedSmallDelta)
            {
                delta = _deltas[_deltaPos++];
            }
            else if (symbol == TwccStatusSymbol.ReceivedLargeDelta)
            {
                delta = BinaryPrimitives.ReadInt16BigEndian(_deltas[_deltaPos..]);
                _deltaPos += 2;
            }
            _arrivalTicks += delta * 2500L;
            _current = new TwccPacketStatus((ushort)(_base + _emitted), symbol, delta,
                symbol == TwccStatusSymbol.NotReceived ? TimeSpan.Zero : TimeSpan.FromTicks(_arrivalTicks));
            _emitted++;
            return true;
        }
    }
}
