namespace TeleRehab.Media.Codecs;

/// <summary>
/// Keeps the VP8 PictureID, TL0PICIDX and KEYIDX (RFC 7741 §4.2) a subscriber receives continuous while the SFU
/// switches the forwarded source (simulcast layers, each with its own numbering) and drops whole frames of
/// temporal layers above the subscriber's target. One per subscriber × forwarded video; the VP8 counterpart of
/// <see cref="Sfu.RtpStreamRewriter"/>. Sans-I/O, single-threaded, no allocation after construction.
/// <para>
/// Within one source, outgoing PictureID = source PictureID + offset, where the offset drops by one for every
/// picture the SFU chose not to forward (<see cref="OnDropped"/>), so the receiver sees consecutive PictureIDs
/// and does not wait for pictures that will never come. Each drop starts a segment (first source picture after
/// it, offset); a forwarded packet takes the offset of the newest segment at or before its picture, so a
/// reordered packet of an earlier picture still gets its original number. TL0PICIDX and KEYIDX only need a
/// constant offset per source, because dropped frames are never TID 0 frames (TL0PICIDX counts those). When a
/// new source starts, its first packet continues the outgoing numbering: highest PictureID + 1, TL0PICIDX + 1,
/// KEYIDX + 1 (the new source starts at a key frame, which is a new base layer frame).
/// </para>
/// </summary>
public sealed class Vp8Rewriter
{
    private const int SegmentCount = 16; // power of two: drops remembered within one source

    private readonly long[] _segmentStart = new long[SegmentCount]; // extended source PictureID where a segment starts
    private readonly long[] _segmentOffset = new long[SegmentCount];
    private int _segmentTotal;  // segments started in the current source

    private bool _hasSource;
    private uint _currentSsrc;

    private bool _picBaseSet;
    private Unwrapper _sourcePic;
    private long _highestSourcePic;    // highest extended source PictureID seen (forwarded or dropped)
    private bool _tl0BaseSet;
    private byte _tl0Offset;
    private bool _keyIdxBaseSet;
    private int _keyIdxOffset;

    private long _highestOutPic;  // extended outgoing PictureID (initial - 1 before the first)
    private long _highestOutTl0;  // extended outgoing TL0PICIDX
    private int _lastOutKeyIdx;

    /// <param name="initialPictureId">Outgoing PictureID of the first picture (0..32767).</param>
    /// <param name="initialTl0PicIdx">Outgoing TL0PICIDX of the first base layer frame.</param>
    /// <param name="initialKeyIdx">Outgoing KEYIDX of the first packet carrying one (0..31).</param>
    public Vp8Rewriter(int initialPictureId = 0, byte initialTl0PicIdx = 0, int initialKeyIdx = 0)
    {
        if ((uint)initialPictureId > 0x7FFF) throw new ArgumentOutOfRangeException(nameof(initialPictureId));
        if ((uint)initialKeyIdx > 0x1F) throw new ArgumentOutOfRangeException(nameof(initialKeyIdx));
        _highestOutPic = initialPictureId - 1L;
        _highestOutTl0 = initialTl0PicIdx - 1L;
        _lastOutKeyIdx = initialKeyIdx - 1;
    }

    /// <summary>SSRC of the source currently forwarded; null before the first packet.</summary>
    public uint? CurrentSourceSsrc => _hasSource ? _currentSsrc : null;

    /// <summary>The last PictureID given to a forwarded picture (15-bit).</summary>
    public int HighestOutgoingPictureId => (int)(_highestOutPic & 0x7FFF);

    /// <summary>The last TL0PICIDX given to a forwarded packet.</summary>
    public byte HighestOutgoingTl0PicIdx => (byte)_highestOutTl0;

    /// <summary>
    /// Makes <paramref name="ssrc"/> the source (call it when the SFU switches simulcast layer, with the packet that
    /// the layer selector switched on, or when a publisher reconnects with a new SSRC). Its first packet continues
    /// the outgoing numbering; from then on packets of other SSRCs are rejected. Switching to the current source is
    /// a no-op.
    /// </summary>
    public void SwitchSource(uint ssrc)
    {
        if (_hasSource && ssrc == _currentSsrc) return;
        _currentSsrc = ssrc;
        _hasSource = true;
        _picBaseSet = _tl0BaseSet = _keyIdxBaseSet = false;
        _sourcePic = default;
        _segmentTotal = 0;
    }

    /// <summary>
    /// Rewrites PictureID, TL0PICIDX and KEYIDX of the VP8 RTP payload <paramref name="payload"/> (a packet the
    /// SFU forwards) in place. The first packet ever makes its SSRC the source; after that only
    /// <see cref="SwitchSource"/> changes it. Returns false, leaving the payload untouched, for a malformed
    /// descriptor, a packet of another SSRC than the source, or a picture older than the first one forwarded from
    /// this source or than the remembered drops.
    /// </summary>
    public bool TryRewrite(Span<byte> payload, uint sourceSsrc)
    {
        if (!Vp8PayloadDescriptor.TryParse(payload, out var d)) return false;
        if (!_hasSource) SwitchSource(sourceSsrc);
        else if (sourceSsrc != _currentSsrc) return false;

        long outPic = -1;
        if (d.HasPictureId)
        {
            long src = _sourcePic.Unwrap(d.PictureId, d.HasLongPictureId);
            if (!_picBaseSet)
            {
                _picBaseSet = true;
                _highestSourcePic = src;
                AddSegment(src, _highestOutPic + 1 - src);
            }
            if (!TryFindOffset(src, out long offset)) return false;
            outPic = src + offset;
            if (src > _highestSourcePic) _highestSourcePic = src;
        }

        if (d.HasTl0PicIdx && !_tl0BaseSet)
        {
            _tl0BaseSet = true;
            _tl0Offset = (byte)(_highestOutTl0 + 1 - d.Tl0PicIdx);
        }

        int outKeyIdx = -1;
        if (d.HasKeyIdx)
        {
            if (!_keyIdxBaseSet)
            {
                _keyIdxBaseSet = true;
                _keyIdxOffset = (_lastOutKeyIdx + 1 - d.KeyIdx) & 0x1F;
            }
            outKeyIdx = (d.KeyIdx + _keyIdxOffset) & 0x1F;
        }

        // All checks passed: write.
        if (outPic >= 0)
        {
            int mask = d.HasLongPictureId ? 0x7FFF : 0x7F;
            Vp8PayloadDescriptor.TrySetPictureId(payload, d.PictureIdOffset, (int)(outPic & mask));
            if (outPic > _highestOutPic) _highestOutPic = outPic;
        }
        if (d.HasTl0PicIdx)
        {
            byte value = (byte)(d.Tl0PicIdx + _tl0Offset);
            payload[d.Tl0PicIdxOffset] = value;
            long ext = _highestOutTl0 + (sbyte)(byte)(value - (byte)_highestOutTl0);
            if (ext > _highestOutTl0) _highestOutTl0 = ext;
        }
        if (outKeyIdx >= 0)
        {
            ref byte b = ref payload[d.TidKeyIdxOffset];
            b = (byte)((b & 0xE0) | outKeyIdx);
            _lastOutKeyIdx = outKeyIdx;
        }
        return true;
    }

    /// <summary>
    /// The SFU did not forward this packet of the current source (a frame of a temporal layer above the target).
    /// The first packet seen of a picture newer than every picture seen so far makes the following pictures move
    /// down by one, so the receiver's PictureIDs stay consecutive. Packets of other sources, without PictureID,
    /// or of pictures already seen are ignored (a late packet of a dropped picture changes nothing).
    /// </summary>
    public void OnDropped(ReadOnlySpan<byte> payload, uint sourceSsrc)
    {
        if (!_hasSource || sourceSsrc != _currentSsrc || !_picBaseSet) return;
        if (!Vp8PayloadDescriptor.TryParse(payload, out var d) || !d.HasPictureId) return;
        long src = _sourcePic.Unwrap(d.PictureId, d.HasLongPictureId);
        if (src <= _highestSourcePic) return;
        _highestSourcePic = src;
        TryFindOffset(src, out long offset);
        AddSegment(src + 1, offset - 1);
    }

    private void AddSegment(long start, long offset)
    {
        int i = _segmentTotal & (SegmentCount - 1);
        _segmentStart[i] = start;
        _segmentOffset[i] = offset;
        _segmentTotal++;
    }

    /// <summary>The offset of the newest segment starting at or before <paramref name="sourcePic"/>.</summary>
    private bool TryFindOffset(long sourcePic, out long offset)
    {
        int available = Math.Min(_segmentTotal, SegmentCount);
        for (int i = 1; i <= available; i++)
        {
            int k = (_segmentTotal - i) & (SegmentCount - 1);
            if (_segmentStart[k] <= sourcePic)
            {
                offset = _segmentOffset[k];
                return true;
            }
        }
        offset = 0;
        return false; // older than the source's first picture, or than the remembered drops
    }

    /// <summary>Extends a wrapping counter of 7, 8 or 15 bits to 64 bits (nearest to the previous value).</summary>
    private struct Unwrapper
    {
        private bool _started;
        private long _last;

        public long Unwrap(int value, bool longPictureId) => Unwrap(value, longPictureId ? 15 : 7);

        public long Unwrap(int value, int bits)
        {
            long modulus = 1L << bits;
            if (!_started)
            {
                _started = true;
                _last = value;
                return value;
            }
            long diff = (value - _last) & (modulus - 1);
            if (diff >= modulus / 2) diff -= modulus;
            long ext = _last + diff;
            if (ext > _last) _last = ext;
            return ext;
        }
    }
}
