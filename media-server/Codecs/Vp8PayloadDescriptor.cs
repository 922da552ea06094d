using System.Buffers.Binary;

namespace TeleRehab.Media.Codecs;

/// <summary>
/// Zero-allocation view over the VP8 payload descriptor at the start of an RTP payload (RFC 7741 §4.2), plus the
/// first bytes of the VP8 payload header that follow it (§4.3, RFC 6386 §9.1). <see cref="TryParse"/> validates
/// every present field, so the accessors never fail afterwards.
/// <code>
///   X|R|N|S|R| PID      mandatory
///   I|L|T|K| RSV        if X
///   M| PictureID        if I (second PictureID octet if M)
///   TL0PICIDX           if L
///   TID|Y| KEYIDX       if T or K
/// </code>
/// </summary>
public readonly ref struct Vp8PayloadDescriptor
{
    /// <summary>Length of the VP8 key frame header: 3-byte frame tag, start code, width and height (RFC 6386 §9.1).</summary>
    public const int KeyframeHeaderLength = 10;

    private const byte XBit = 0x80, NBit = 0x20, SBit = 0x10, PidMask = 0x07;
    private const byte IBit = 0x80, LBit = 0x40, TBit = 0x20, KBit = 0x10;
    private const byte MBit = 0x80, YBit = 0x20, KeyIdxMask = 0x1F;

    private readonly ReadOnlySpan<byte> _payload;

    private Vp8PayloadDescriptor(ReadOnlySpan<byte> payload, int pictureIdOffset, int tl0Offset, int tidOffset, int headerOffset)
    {
        _payload = payload;
        PictureIdOffset = pictureIdOffset;
        Tl0PicIdxOffset = tl0Offset;
        TidKeyIdxOffset = tidOffset;
        PayloadHeaderOffset = headerOffset;
    }

    /// <summary>The RTP payload this view reads (descriptor and VP8 payload).</summary>
    public ReadOnlySpan<byte> Payload => _payload;

    /// <summary>X: the extension octet (I/L/T/K) is present.</summary>
    public bool HasExtension => (_payload[0] & XBit) != 0;

    /// <summary>N: non-reference frame, can be discarded without affecting any other frame.</summary>
    public bool IsNonReference => (_payload[0] & NBit) != 0;

    /// <summary>S: the packet starts a VP8 partition.</summary>
    public bool IsPartitionStart => (_payload[0] & SBit) != 0;

    /// <summary>PID: index of the partition the first VP8 payload byte belongs to.</summary>
    public int PartitionIndex => _payload[0] & PidMask;

    /// <summary>S=1 and PID=0: the first packet of a frame (§4.1: the start of partition 0).</summary>
    public bool IsFrameStart => (_payload[0] & (SBit | PidMask)) == SBit;

    public bool HasPictureId => PictureIdOffset != 0;

    /// <summary>M: PictureID is 15 bits (two octets) rather than 7.</summary>
    public bool HasLongPictureId => PictureIdOffset != 0 && (_payload[PictureIdOffset] & MBit) != 0;

    /// <summary>PictureID (7 or 15 bits, <see cref="HasLongPictureId"/>); 0 when absent.</summary>
    public int PictureId => PictureIdOffset == 0 ? 0
        : HasLongPictureId ? BinaryPrimitives.ReadUInt16BigEndian(_payload[PictureIdOffset..]) & 0x7FFF
        : _payload[PictureIdOffset] & 0x7F;

    public bool HasTl0PicIdx => Tl0PicIdxOffset != 0;

    /// <summary>TL0PICIDX: running index of the temporal base layer frames; 0 when absent.</summary>
    public byte Tl0PicIdx => Tl0PicIdxOffset == 0 ? (byte)0 : _payload[Tl0PicIdxOffset];

    /// <summary>T: TID and Y are present (§4.2: they are ignored when only K is set).</summary>
    public bool HasTemporalId => HasExtension && (_payload[1] & TBit) != 0;

    /// <summary>TID: temporal layer index; 0 when absent.</summary>
    public int TemporalId => HasTemporalId ? _payload[TidKeyIdxOffset] >> 6 : 0;

    /// <summary>Y: layer sync, the frame depends only on the base layer (TID 0) frame; false when T is 0.</summary>
    public bool IsLayerSync => HasTemporalId && (_payload[TidKeyIdxOffset] & YBit) != 0;

    /// <summary>K: KEYIDX is present.</summary>
    public bool HasKeyIdx => HasExtension && (_payload[1] & KBit) != 0;

    /// <summary>KEYIDX: temporal key frame index (5 bits); 0 when absent.</summary>
    public int KeyIdx => HasKeyIdx ? _payload[TidKeyIdxOffset] & KeyIdxMask : 0;

    /// <summary>Offset of the PictureID field in the payload, 0 when absent.</summary>
    public int PictureIdOffset { get; }

    /// <summary>Offset of TL0PICIDX in the payload, 0 when absent.</summary>
    public int Tl0PicIdxOffset { get; }

    /// <summary>Offset of the TID/Y/KEYIDX octet in the payload, 0 when absent.</summary>
    public int TidKeyIdxOffset { get; }

    /// <summary>Offset of the VP8 payload (its payload header when <see cref="IsFrameStart"/>): the descriptor's length.</summary>
    public int PayloadHeaderOffset { get; }

    /// <summary>The VP8 payload after the descriptor.</summary>
    public ReadOnlySpan<byte> Vp8Payload => _payload[PayloadHeaderOffset..];

    /// <summary>
    /// The first packet of a key frame (§4.3): the start of partition 0 (S=1, PID=0) whose VP8 payload header
    /// has the inverse key frame flag P=0.
    /// </summary>
    public bool IsKeyframe => IsFrameStart && (_payload[PayloadHeaderOffset] & 0x01) == 0;

    /// <summary>
    /// Reads a key frame's size from its 10-byte header (RFC 6386 §9.1): start code 9d 01 2a, then 16-bit
    /// little-endian width and height, each a 14-bit size with a 2-bit upscaling factor on top. False when this
    /// packet is not a key frame start or the header is truncated or lacks the start code.
    /// </summary>
    public bool TryGetKeyframeSize(out int width, out int height, out int horizontalScale, out int verticalScale)
    {
        width = height = horizontalScale = verticalScale = 0;
        if (!IsKeyframe) return false;
        var header = _payload[PayloadHeaderOffset..];
        if (header.Length < KeyframeHeaderLength || header[3] != 0x9D || header[4] != 0x01 || header[5] != 0x2A) return false;
        ushort w = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        ushort h = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        width = w & 0x3FFF;
        horizontalScale = w >> 14;
        height = h & 0x3FFF;
        verticalScale = h >> 14;
        return true;
    }

    /// <summary>
    /// Parses the descriptor at the start of <paramref name="payload"/>. Returns false (never throws) when a field
    /// it announces is missing, when L=1 but T=0 (§4.2: L requires T), or when no VP8 payload byte follows.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out Vp8PayloadDescriptor descriptor)
    {
        descriptor = default;
        if (payload.IsEmpty) return false;
        int offset = 1;
        int pictureIdOffset = 0, tl0Offset = 0, tidOffset = 0;
        if ((payload[0] & XBit) != 0)
        {
            if (payload.Length < 2) return false;
            byte ext = payload[1];
            offset = 2;
            if ((ext & IBit) != 0)
            {
                if (payload.Length <= offset) return false;
                pictureIdOffset = offset;
                offset += (payload[offset] & MBit) != 0 ? 2 : 1;
            }
            if ((ext & LBit) != 0)
            {
                if ((ext & TBit) == 0) return false;
                tl0Offset = offset;
                offset++;
            }
            if ((ext & (TBit | KBit)) != 0)
            {
                tidOffset = offset;
                offset++;
            }
        }
        if (payload.Length <= offset) return false; // descriptor truncated, or no VP8 payload after it
        descriptor = new Vp8PayloadDescriptor(payload, pictureIdOffset, tl0Offset, tidOffset, offset);
        return true;
    }

    /// <summary>
    /// Writes <paramref name="pictureId"/> into the PictureID field of <paramref name="payload"/> in place, keeping
    /// the field's width (the M bit). False, leaving the payload untouched, when the descriptor has no PictureID,
    /// is malformed, or the value does not fit (above 127 for a 7-bit field, above 32767 for a 15-bit one).
    /// </summary>
    public static bool TrySetPictureId(Span<byte> payload, int pictureId)
    {
        if (!TryParse(payload, out var d) || !d.HasPictureId) return false;
        return TrySetPictureId(payload, d.PictureIdOffset, pictureId);
    }

    /// <summary>As <see cref="TrySetPictureId(Span{byte}, int)"/> with the field offset from an earlier parse.</summary>
    public static bool TrySetPictureId(Span<byte> payload, int pictureIdOffset, int pictureId)
    {
        if (pictureIdOffset <= 0 || pictureIdOffset >= payload.Length || pictureId < 0) return false;
        if ((payload[pictureIdOffset] & MBit) != 0)
        {
            if (pictureId > 0x7FFF || pictureIdOffset + 1 >= payload.Length) return false;
            BinaryPrimitives.WriteUInt16BigEndian(payload[pictureIdOffset..], (ushort)(0x8000 | pictureId));
        }
        else
        {
            if (pictureId > 0x7F) return false;
            payload[pictureIdOffset] = (byte)pictureId;
        }
        return true;
    }

    /// <summary>Writes TL0PICIDX in place. False, leaving the payload untouched, when absent or malformed.</summary>
    public static bool TrySetTl0PicIdx(Span<byte> payload, byte tl0PicIdx)
    {
        if (!TryParse(payload, out var d) || !d.HasTl0PicIdx) return false;
        payload[d.Tl0PicIdxOffset] = tl0PicIdx;
        return true;
    }

    /// <summary>Writes KEYIDX in place (5 bits, TID and Y kept). False when absent or malformed.</summary>
    public static bool TrySetKeyIdx(Span<byte> payload, int keyIdx)
    {
        if (!TryParse(payload, out var d) || !d.HasKeyIdx || (uint)keyIdx > KeyIdxMask) return false;
        ref byte b = ref payload[d.TidKeyIdxOffset];
        b = (byte)((b & ~KeyIdxMask) | keyIdx);
        return true;
    }
}
