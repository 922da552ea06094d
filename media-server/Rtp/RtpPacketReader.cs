using System.Buffers.Binary;

namespace TeleRehab.Media.Rtp;

/// <summary>
/// Zero-allocation view over an RTP packet (RFC 3550 §5.1) with RFC 8285 header extensions.
/// <see cref="TryParse"/> validates the fixed header, CSRC list, extension block (including every
/// extension element) and padding, so the accessors never fail afterwards.
/// </summary>
public readonly ref struct RtpPacketReader
{
    /// <summary>Size of the fixed RTP header (RFC 3550 §5.1).</summary>
    public const int FixedHeaderLength = 12;

    /// <summary>"defined by profile" value of the one-byte header form (RFC 8285 §4.2).</summary>
    public const ushort OneByteExtensionProfile = 0xBEDE;

    /// <summary>Two-byte header form: 0x100 followed by 4 "appbits" (RFC 8285 §4.3).</summary>
    public const ushort TwoByteExtensionProfile = 0x1000;

    private readonly ReadOnlySpan<byte> _packet;

    private RtpPacketReader(ReadOnlySpan<byte> packet, int headerLength, int extensionOffset, int extensionLength, int paddingLength)
    {
        _packet = packet;
        HeaderLength = headerLength;
        ExtensionDataOffset = extensionOffset;
        ExtensionDataLength = extensionLength;
        PaddingLength = paddingLength;
    }

    /// <summary>The whole packet this reader views.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public int Version => _packet[0] >> 6;
    public bool HasPadding => (_packet[0] & 0x20) != 0;
    public bool HasExtension => (_packet[0] & 0x10) != 0;
    public int CsrcCount => _packet[0] & 0x0F;
    public bool Marker => (_packet[1] & 0x80) != 0;
    public byte PayloadType => (byte)(_packet[1] & 0x7F);
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_packet[2..]);
    public uint Timestamp => BinaryPrimitives.ReadUInt32BigEndian(_packet[4..]);
    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_packet[8..]);

    /// <summary>Returns the i-th contributing source identifier.</summary>
    public uint GetCsrc(int index)
    {
        if ((uint)index >= (uint)CsrcCount) throw new ArgumentOutOfRangeException(nameof(index));
        return BinaryPrimitives.ReadUInt32BigEndian(_packet[(FixedHeaderLength + 4 * index)..]);
    }

    /// <summary>Raw CSRC list (4 bytes per entry, network order).</summary>
    public ReadOnlySpan<byte> CsrcBytes => _packet.Slice(FixedHeaderLength, 4 * CsrcCount);

    /// <summary>Header length including CSRCs and the extension block; equals the payload offset.</summary>
    public int HeaderLength { get; }

    public int PayloadOffset => HeaderLength;

    /// <summary>Payload length with the padding removed (§5.1).</summary>
    public int PayloadLength => _packet.Length - HeaderLength - PaddingLength;

    public ReadOnlySpan<byte> Payload => _packet.Slice(HeaderLength, PayloadLength);

    /// <summary>Number of padding bytes at the end (0 when P is clear), including the count byte.</summary>
    public int PaddingLength { get; }

    /// <summary>The 16-bit "defined by profile" field of the extension block (0 when X is clear).</summary>
    public ushort ExtensionProfile => HasExtension
        ? BinaryPrimitives.ReadUInt16BigEndian(_packet[(ExtensionDataOffset - 4)..])
        : (ushort)0;

    /// <summary>Offset of the extension data (after the 4-byte extension header), 0 when absent.</summary>
    public int ExtensionDataOffset { get; }

    /// <summary>Length in bytes of the extension data (length field × 4).</summary>
    public int ExtensionDataLength { get; }

    public ReadOnlySpan<byte> ExtensionData => _packet.Slice(ExtensionDataOffset, ExtensionDataLength);

    /// <summary>The header-extension form in use.</summary>
    public RtpExtensionForm ExtensionForm => RtpHeaderExtensions.GetForm(ExtensionProfile, HasExtension);

    /// <summary>Parses and validates an RTP packet. Returns false (never throws) on malformed input.</summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out RtpPacketReader reader)
    {
        reader = default;
        if (packet.Length < FixedHeaderLength) return false;
        byte b0 = packet[0];
        if (b0 >> 6 != 2) return false;
        int headerLength = FixedHeaderLength + 4 * (b0 & 0x0F);
        if (packet.Length < headerLength) return false;

        int extOffset = 0, extLength = 0;
        if ((b0 & 0x10) != 0)
        {
            if (packet.Length < headerLength + 4) return false;
            ushort profile = BinaryPrimitives.ReadUInt16BigEndian(packet[headerLength..]);
            extLength = 4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(headerLength + 2)..]);
            extOffset = headerLength + 4;
            headerLength = extOffset + extLength;
            if (packet.Length < headerLength) return false;
            var form = RtpHeaderExtensions.GetForm(profile, true);
            if (form != RtpExtensionForm.Other &&
                !RtpHeaderExtensions.Validate(packet.Slice(extOffset, extLength), form))
            {
                return false;
            }
        }

        int padding = 0;
        if ((b0 & 0x20) != 0)
        {
            // §5.1: the last octet holds the number of padding octets, itself included.
            if (packet.Length == headerLength) return false;
            padding = packet[^1];
            if (padding == 0 || padding > packet.Length - headerLength) return false;
        }

        reader = new RtpPacketReader(packet, headerLength, extOffset, extLength, padding);
        return true;
    }

    /// <summary>Enumerates the RFC 8285 extension elements (empty for other/absent extension forms).</summary>
    public RtpHeaderExtensionEnumerator Extensions =>
        new(_packet, ExtensionDataOffset, ExtensionDataLength, ExtensionForm);

    /// <summary>Finds the first extension element with the given id.</summary>
    public bool TryGetExtension(int id, out ReadOnlySpan<byte> value)
    {
        if (TryFindExtension(id, out var element))
        {
            value = element.Value;
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>Finds the first extension element with the given id, with its offsets in the packet.</summary>
    public bool TryFindExtension(int id, out RtpHeaderExtension extension)
    {
        foreach (var e in Extensions)
        {
            if (e.Id == id)
            {
                extension = e;
                return true;
            }
        }
        extension = default;
        return false;
    }
}
