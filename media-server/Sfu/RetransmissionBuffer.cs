using System.Buffers.Binary;
using System.Numerics;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>Where a NACK responder looks up the plaintext source packets it retransmits.</summary>
public interface IRetransmissionSource
{
    /// <summary>
    /// Gets the stored packet <paramref name="sequenceNumber"/> of source <paramref name="ssrc"/> if it is still
    /// held and not older than the source's maximum age. The span stays valid until the next store.
    /// </summary>
    bool TryGet(uint ssrc, ushort sequenceNumber, TimeSpan now, out ReadOnlySpan<byte> packet);
}

/// <summary>
/// Holds the last <see cref="Capacity"/> plaintext RTP packets of one published source stream, for answering
/// NACKs (RFC 4585 §6.2.1). All memory is allocated once: a ring of fixed-size slots indexed by the extended
/// sequence number, so the newest packet overwrites the one <see cref="Capacity"/> seqs older. A new SSRC (the
/// publisher restarted the stream) clears the buffer. Single-threaded by contract.
/// </summary>
public sealed class RetransmissionBuffer : IRetransmissionSource
{
    private readonly byte[] _data;
    private readonly long[] _slotSeq;     // extended seq held by the slot, -1 (or any mismatch) when empty
    private readonly long[] _slotTime;    // store time in ticks
    private readonly int[] _slotLength;
    private readonly int _mask;
    private SequenceNumberUnwrapper _unwrapper;
    private bool _hasSsrc;
    private uint _ssrc;

    /// <param name="capacity">Number of packets held; a power of two (e.g. 512 for video, 64 for audio).</param>
    /// <param name="maxPacketSize">Largest packet stored; larger ones are refused.</param>
    /// <param name="maxAge">Packets stored longer ago are not returned (default 1 s).</param>
    public RetransmissionBuffer(int capacity = 512, int maxPacketSize = 1500, TimeSpan? maxAge = null)
    {
        if (capacity < 1 || !BitOperations.IsPow2(capacity)) throw new ArgumentOutOfRangeException(nameof(capacity), "Must be a power of two.");
        if (maxPacketSize < RtpPacketReader.FixedHeaderLength) throw new ArgumentOutOfRangeException(nameof(maxPacketSize));
        Capacity = capacity;
        MaxPacketSize = maxPacketSize;
        MaxAge = maxAge ?? TimeSpan.FromSeconds(1);
        _mask = capacity - 1;
        _data = new byte[capacity * maxPacketSize];
        _slotSeq = new long[capacity];
        _slotTime = new long[capacity];
        _slotLength = new int[capacity];
        Clear();
    }

    public int Capacity { get; }

    public int MaxPacketSize { get; }

    /// <summary>The bytes a buffer of <paramref name="capacity"/> packets of up to <paramref name="maxPacketSize"/>
    /// bytes allocates (its packet slots and per-slot bookkeeping), for memory budgets.</summary>
    public static long FootprintBytes(int capacity, int maxPacketSize = 1500) =>
        (long)capacity * (maxPacketSize + sizeof(long) + sizeof(long) + sizeof(int));

    public TimeSpan MaxAge { get; set; }

    /// <summary>SSRC of the packets held (null when empty).</summary>
    public uint? Ssrc => _hasSsrc ? _ssrc : null;

    /// <summary>Forgets every packet.</summary>
    public void Clear()
    {
        Array.Fill(_slotSeq, long.MinValue);
        _unwrapper = default;
        _hasSsrc = false;
    }

    /// <summary>
    /// Copies <paramref name="packet"/> (plaintext RTP, before any per-subscriber rewriting) into its slot. Returns
    /// false if it is shorter than an RTP header, larger than <see cref="MaxPacketSize"/>, or older than the
    /// oldest packet the ring can hold.
    /// </summary>
    public bool Store(ReadOnlySpan<byte> packet, TimeSpan now)
    {
        if (packet.Length < RtpPacketReader.FixedHeaderLength || packet.Length > MaxPacketSize) return false;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(8, 4));
        if (!_hasSsrc || ssrc != _ssrc)
        {
            Clear();
            _ssrc = ssrc;
            _hasSsrc = true;
        }
        long ext = _unwrapper.Unwrap(BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2, 2)));
        if (ext <= _unwrapper.Highest - Capacity) return false; // its slot already holds a newer packet
        int slot = (int)(ext & _mask);
        packet.CopyTo(_data.AsSpan(slot * MaxPacketSize, MaxPacketSize));
        _slotSeq[slot] = ext;
        _slotTime[slot] = now.Ticks;
        _slotLength[slot] = packet.Length;
        return true;
    }

    /// <summary>Gets packet <paramref name="sequenceNumber"/> if held and stored at most <see cref="MaxAge"/> ago.</summary>
    public bool TryGet(ushort sequenceNumber, TimeSpan now, out ReadOnlySpan<byte> packet)
    {
        packet = default;
        if (!_hasSsrc) return false;
        long ext = _unwrapper.Peek(sequenceNumber);
        int slot = (int)(ext & _mask);
        if (_slotSeq[slot] != ext) return false;
        if (now.Ticks - _slotTime[slot] > MaxAge.Ticks) return false;
        packet = new ReadOnlySpan<byte>(_data, slot * MaxPacketSize, _slotLength[slot]);
        return true;
    }

    /// <summary>True when <paramref name="sequenceNumber"/> of <paramref name="ssrc"/> falls inside what this buffer
    /// covers but never arrived (a gap): the SFU itself lacks it, so a NACK for it belongs upstream.</summary>
    public bool IsMissing(uint ssrc, ushort sequenceNumber)
    {
        if (!_hasSsrc || ssrc != _ssrc) return false;
        long ext = _unwrapper.Peek(sequenceNumber);
        if (ext >= _unwrapper.Highest || ext <= _unwrapper.Highest - Capacity) return false;
        return _slotSeq[(int)(ext & _mask)] != ext;
    }

    /// <inheritdoc/>
    public bool TryGet(uint ssrc, ushort sequenceNumber, TimeSpan now, out ReadOnlySpan<byte> packet)
    {
        if (!_hasSsrc || ssrc != _ssrc)
        {
            packet = default;
            return false;
        }
        return TryGet(sequenceNumber, now, out packet);
    }
}
