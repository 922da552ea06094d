namespace TeleRehab.Media.Bwe;

/// <summary>What the sender remembers about one packet it stamped with a transport-wide sequence number.</summary>
internal struct SentPacket
{
    /// <summary>Extended (64-bit) transport sequence number; -1 while the slot is empty.</summary>
    public long Sequence;
    public TimeSpan SendTime;
    public int Size;
    public int ProbeClusterId;
    public FeedbackState State;
}

internal enum FeedbackState : byte
{
    Unreported = 0,
    ReportedLost = 1,
    Received = 2,
}

/// <summary>
/// Ring buffer of sent packets indexed by the transport-wide sequence number
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), unwrapped to 64 bits. A slot is reused once the
/// sequence has advanced by the capacity, so the history covers the last <see cref="Capacity"/> packets (8192 by
/// default: about 8 s at 1,000 packets/s). No allocation after construction.
/// </summary>
public sealed class SendHistory
{
    private readonly SentPacket[] _slots;
    private readonly int _mask;
    private long _highest = -1;

    public SendHistory(int capacity = 8192)
    {
        if (capacity < 16 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), "Must be a power of two ≥ 16.");
        _slots = new SentPacket[capacity];
        _mask = capacity - 1;
        for (int i = 0; i < _slots.Length; i++) _slots[i].Sequence = -1;
    }

    public int Capacity => _slots.Length;

    /// <summary>The highest extended sequence number sent so far, or -1.</summary>
    public long HighestSequence => _highest;

    /// <summary>Unwraps a 16-bit sequence number against the highest one sent (the nearest candidate wins).</summary>
    public long Unwrap(ushort sequence)
    {
        if (_highest < 0) return sequence;
        long candidate = _highest + (short)(ushort)(sequence - (ushort)_highest);
        return candidate < 0 ? candidate + 65536 : candidate;
    }

    /// <summary>Records a sent packet; returns its extended sequence number.</summary>
    public long Add(ushort sequence, int size, int probeClusterId, TimeSpan sendTime)
    {
        long ext = Unwrap(sequence);
        if (ext > _highest) _highest = ext;
        ref var slot = ref _slots[(int)(ext & _mask)];
        slot.Sequence = ext;
        slot.SendTime = sendTime;
        slot.Size = size;
        slot.ProbeClusterId = probeClusterId;
        slot.State = FeedbackState.Unreported;
        return ext;
    }

    /// <summary>The entry for an extended sequence number, or a null reference when it is unknown or overwritten.</summary>
    internal ref SentPacket Find(long extendedSequence)
    {
        if (extendedSequence < 0 || extendedSequence > _highest) return ref System.Runtime.CompilerServices.Unsafe.NullRef<SentPacket>();
        ref var slot = ref _slots[(int)(extendedSequence & _mask)];
        if (slot.Sequence != extendedSequence) return ref System.Runtime.CompilerServices.Unsafe.NullRef<SentPacket>();
        return ref slot;
    }

    /// <summary>Looks up a packet by extended sequence number.</summary>
    public bool TryGet(long extendedSequence, out TimeSpan sendTime, out int size, out int probeClusterId)
    {
        ref var slot = ref Find(extendedSequence);
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref slot))
        {
            sendTime = default; size = 0; probeClusterId = -1;
            return false;
        }
        sendTime = slot.SendTime;
        size = slot.Size;
        probeClusterId = slot.ProbeClusterId;
        return true;
    }
}
