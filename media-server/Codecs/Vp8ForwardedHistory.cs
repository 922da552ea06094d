namespace TeleRehab.Media.Codecs;

/// <summary>
/// The VP8 payload descriptor fields (PictureID, TL0PICIDX, KEYIDX; RFC 7741 §4.2) of the last
/// <see cref="Capacity"/> packets one subscription forwarded, by outgoing sequence number, so that a retransmission
/// carries exactly the values the subscriber saw the first time. Deriving them again from the live
/// <see cref="Vp8Rewriter"/> fails once the subscription has switched layers (the rewriter only maps its current
/// source, and a resent packet of the layer before the switch is of another source): on EDGE, where layers switch
/// often and NACKs come a round trip of a second or more later, that refused most retransmissions.
/// Single-threaded, allocation-free after construction.
/// </summary>
public sealed class Vp8ForwardedHistory
{
    public const int Capacity = 1024; // power of two

    private readonly Entry[] _entries = new Entry[Capacity];

    private struct Entry
    {
        public bool Used;
        public ushort Sequence;
        public int PictureId;   // -1: none
        public short Tl0PicIdx; // -1: none
        public sbyte KeyIdx;    // -1: none
    }

    /// <summary>Remembers the descriptor of the packet forwarded as <paramref name="outgoingSeq"/> (its payload as sent).</summary>
    public void Record(ushort outgoingSeq, ReadOnlySpan<byte> payload)
    {
        ref var entry = ref _entries[outgoingSeq & (Capacity - 1)];
        if (!Vp8PayloadDescriptor.TryParse(payload, out var d))
        {
            entry.Used = false;
            return;
        }
        entry.Used = true;
        entry.Sequence = outgoingSeq;
        entry.PictureId = d.HasPictureId ? d.PictureId : -1;
        entry.Tl0PicIdx = d.HasTl0PicIdx ? d.Tl0PicIdx : (short)-1;
        entry.KeyIdx = d.HasKeyIdx ? (sbyte)d.KeyIdx : (sbyte)-1;
    }

    /// <summary>
    /// Writes the remembered fields of <paramref name="outgoingSeq"/> into <paramref name="payload"/> (the same source
    /// packet, about to be resent). False when the packet is no longer remembered or its descriptor does not have the
    /// fields it had when forwarded; the payload is then unchanged.
    /// </summary>
    public bool TryApply(ushort outgoingSeq, Span<byte> payload)
    {
        ref readonly var entry = ref _entries[outgoingSeq & (Capacity - 1)];
        if (!entry.Used || entry.Sequence != outgoingSeq || !Vp8PayloadDescriptor.TryParse(payload, out var d)) return false;
        if (d.HasPictureId != entry.PictureId >= 0 || d.HasTl0PicIdx != entry.Tl0PicIdx >= 0 || d.HasKeyIdx != entry.KeyIdx >= 0) return false;
        if (entry.PictureId >= 0) Vp8PayloadDescriptor.TrySetPictureId(payload, d.PictureIdOffset, entry.PictureId);
        if (entry.Tl0PicIdx >= 0) payload[d.Tl0PicIdxOffset] = (byte)entry.Tl0PicIdx;
        if (entry.KeyIdx >= 0) payload[d.TidKeyIdxOffset] = (byte)((payload[d.TidKeyIdxOffset] & 0xE0) | (byte)entry.KeyIdx);
        return true;
    }
}
