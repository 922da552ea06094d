using System.Buffers.Binary;

namespace TeleRehab.Media.Rtcp;

/// <summary>
/// Builds a transport-wide feedback message (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) from
/// (transport sequence number, arrival time) records added in increasing sequence order. Gaps become
/// "not received". The reference time is the first arrival floored to 64 ms; deltas are rounded to
/// 250 µs and accumulated so rounding errors do not drift (as libwebrtc does). Runs once per feedback
/// interval (cold path): internal lists are reused across <see cref="Reset"/>.
/// </summary>
public sealed class TransportWideFeedbackBuilder : IRtcpPacket
{
    private const long TickUnit = 2500; // 250 µs in TimeSpan ticks
    private const int MaxRunLength = 0x1FFF;

    private readonly List<byte> _symbols = new();
    private readonly List<short> _deltas = new();
    private readonly List<ushort> _chunks = new();
    private bool _encoded;
    private ushort _baseSequence;
    private bool _baseFixed;
    private long _lastTicks;

    public TransportWideFeedbackBuilder(uint senderSsrc, uint mediaSsrc, byte feedbackPacketCount)
    {
        SenderSsrc = senderSsrc;
        MediaSsrc = mediaSsrc;
        FeedbackPacketCount = feedbackPacketCount;
    }

    public uint SenderSsrc { get; }
    public uint MediaSsrc { get; set; }
    public byte FeedbackPacketCount { get; private set; }
    public ushort BaseSequenceNumber => _baseSequence;
    public int PacketStatusCount => _symbols.Count;

    /// <summary>24-bit reference time in 64 ms units.</summary>
    public uint ReferenceTimeRaw { get; private set; }

    /// <summary>Clears the builder for the next feedback message.</summary>
    public void Reset(byte feedbackPacketCount)
    {
        FeedbackPacketCount = feedbackPacketCount;
        _symbols.Clear();
        _deltas.Clear();
        _encoded = false;
        _baseFixed = false;
    }

    /// <summary>Starts the message at <paramref name="baseSequence"/> even if that packet was not received: the
    /// packets before the first one added are then reported as not received (call after <see cref="Reset"/>, before
    /// any packet is added).</summary>
    public void StartAt(ushort baseSequence)
    {
        if (_symbols.Count > 0) throw new InvalidOperationException("Packets were already added.");
        _baseSequence = baseSequence;
        _baseFixed = true;
    }

    /// <summary>
    /// Adds a received packet. Returns false (leaving the builder unchanged) if the sequence number is not
    /// after the previous one, the status count would exceed 65535, or the delta does not fit 16 bits;
    /// the caller then sends this message and starts a new one.
    /// </summary>
    public bool TryAddReceivedPacket(ushort sequenceNumber, TimeSpan arrivalTime)
    {
        if (arrivalTime < TimeSpan.Zero) return false;
        if (_symbols.Count == 0)
        {
            long reference = arrivalTime.Ticks / TransportWideFeedback.ReferenceTimeUnitTicks;
            if (!_baseFixed) _baseSequence = sequenceNumber;
            ReferenceTimeRaw = (uint)(reference & 0xFFFFFF);
            _lastTicks = reference * TransportWideFeedback.ReferenceTimeUnitTicks;
        }
        int offset = (ushort)(sequenceNumber - _baseSequence);
        if (offset < _symbols.Count) return false;
        if (offset >= ushort.MaxValue) return false;
        long delta = (long)Math.Round((arrivalTime.Ticks - _lastTicks) / (double)TickUnit, MidpointRounding.AwayFromZero);
        if (delta is < short.MinValue or > short.MaxValue) return false;
        while (_symbols.Count < offset) _symbols.Add((byte)TwccStatusSymbol.NotReceived);
        _symbols.Add((byte)(delta is >= 0 and <= 255 ? TwccStatusSymbol.ReceivedSmallDelta : TwccStatusSymbol.ReceivedLargeDelta));
        _deltas.Add((short)delta);
        _lastTicks += delta * TickUnit;
        _encoded = false;
        return true;
    }

    /// <summary>Adds several records in order; stops at and returns the index of the first rejected one, or -1.</summary>
    public int AddReceivedPackets(ReadOnlySpan<(ushort SequenceNumber, TimeSpan ArrivalTime)> records)
    {
        for (int i = 0; i < records.Length; i++)
            if (!TryAddReceivedPacket(records[i].SequenceNumber, records[i].ArrivalTime)) return i;
        return -1;
    }

    private void Encode()
    {
        if (_encoded) return;
        _chunks.Clear();
        int n = _symbols.Count;
        int i = 0;
        while (i < n)
        {
            byte s = _symbols[i];
            int run = 1;
            while (i + run < n && _symbols[i + run] == s && run < MaxRunLength) run++;
            if (run >= 14 || i + run == n)
            {
                _chunks.Add((ushort)(s << 13 | run)); // run length chunk (§3.1.3)
                i += run;
                continue;
            }
            int k = Math.Min(14, n - i);
            bool oneBit = true;
            for (int j = 0; j < k; j++) oneBit &= _symbols[i + j] <= 1;
            ushort chunk;
            if (oneBit)
            {
                chunk = 0x8000;
                for (int j = 0; j < k; j++) chunk |= (ushort)(_symbols[i + j] << (13 - j));
            }
            else
            {
                k = Math.Min(7, n - i);
                chunk = 0xC000;
                for (int j = 0; j < k; j++) chunk |= (ushort)(_symbols[i + j] << (12 - 2 * j));
            }
            _chunks.Add(chunk);
            i += k;
        }
        _encoded = true;
    }

    private int DeltaByteCount
    {
        get
        {
            int bytes = 0;
            foreach (short d in _deltas) bytes += d is >= 0 and <= 255 ? 1 : 2;
            return bytes;
        }
    }

    public int GetSerializedLength()
    {
        Encode();
        return (RtcpHeader.Size + TransportWideFeedback.FixedLength + 2 * _chunks.Count + DeltaByteCount + 3) & ~3;
    }

    public int WriteTo(Span<byte> destination)
    {
        if (_symbols.Count == 0) throw new InvalidOperationException("No packets added.");
        Encode();
        int chunkBytes = 2 * _chunks.Count;
        int deltaBytes = DeltaByteCount;
        int length = (RtcpHeader.Size + TransportWideFeedback.FixedLength + chunkBytes + deltaBytes + 3) & ~3;
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        // Encode chunks and deltas at their final place; the shared writer's copy is then a same-place move.
        var content = destination.Slice(RtcpHeader.Size + TransportWideFeedback.FixedLength, chunkBytes + deltaBytes);
        for (int c = 0; c < _chunks.Count; c++) BinaryPrimitives.WriteUInt16BigEndian(content[(2 * c)..], _chunks[c]);
        int pos = chunkBytes;
        foreach (short d in _deltas)
        {
            if (d is >= 0 and <= 255) content[pos++] = (byte)d;
            else { BinaryPrimitives.WriteInt16BigEndian(content[pos..], d); pos += 2; }
        }
        return TransportWideFeedback.Write(destination, SenderSsrc, MediaSsrc, _baseSequence, (ushort)_symbols.Count,
            ReferenceTimeRaw, FeedbackPacketCount, content[..chunkBytes], content[chunkBytes..]);
    }
}
