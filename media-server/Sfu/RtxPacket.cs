using System.Buffers.Binary;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// RTX retransmission payload format (RFC 4588 §4): an RTX packet copies the original header (timestamp, marker,
/// CSRCs, extensions) with its own SSRC, payload type and sequence number, and its payload starts with the
/// 2-byte original sequence number (OSN) followed by the original payload.
/// </summary>
public static class RtxPacket
{
    /// <summary>
    /// Turns an RTX packet received from a publisher back into the original media packet, in place: reads the OSN,
    /// removes it (and any padding) and sets the media SSRC, payload type and sequence number. Returns the new
    /// length, or 0 if the packet is malformed or carries no OSN (e.g. a padding-only bandwidth probe).
    /// </summary>
    public static int TryUnwrap(Span<byte> packet, uint mediaSsrc, byte mediaPayloadType)
    {
        if (mediaPayloadType > 127) return 0;
        if (!RtpPacketReader.TryParse(packet, out var reader)) return 0;
        int header = reader.HeaderLength;
        int payload = reader.PayloadLength;
        if (payload < 2) return 0;
        ushort osn = BinaryPrimitives.ReadUInt16BigEndian(packet[header..]);
        packet.Slice(header + 2, payload - 2).CopyTo(packet[header..]);
        packet[0] &= 0xDF; // the padding was the RTX packet's own
        packet[1] = (byte)((packet[1] & 0x80) | mediaPayloadType);
        RtpPacketRewriter.SetSequenceNumber(packet, osn);
        RtpPacketRewriter.SetSsrc(packet, mediaSsrc);
        return header + payload - 2;
    }

    /// <summary>Length of the RTX packet <see cref="TryWrap"/> builds from <paramref name="original"/> (0 if malformed).</summary>
    public static int GetWrappedLength(ReadOnlySpan<byte> original) =>
        RtpPacketReader.TryParse(original, out var reader) ? reader.HeaderLength + 2 + reader.PayloadLength : 0;

    /// <summary>
    /// Writes the RTX packet for <paramref name="original"/> into <paramref name="destination"/> (which must not
    /// overlap it): original header with RTX SSRC, payload type and sequence number, then the OSN (the original's
    /// sequence number) and its payload without padding. Returns the length, or 0 if malformed or too small.
    /// </summary>
    public static int TryWrap(ReadOnlySpan<byte> original, uint rtxSsrc, byte rtxPayloadType, ushort rtxSequenceNumber, Span<byte> destination)
    {
        if (!RtpPacketReader.TryParse(original, out var reader)) return 0;
        return Wrap(reader, reader.SequenceNumber, rtxSsrc, rtxPayloadType, rtxSequenceNumber, destination);
    }

    /// <summary>As <see cref="TryWrap"/> over a parsed packet, with an explicit OSN (the seq the receiver knows it by).</summary>
    internal static int Wrap(RtpPacketReader original, ushort originalSequenceNumber, uint rtxSsrc, byte rtxPayloadType,
        ushort rtxSequenceNumber, Span<byte> destination)
    {
        if (rtxPayloadType > 127) return 0;
        int header = original.HeaderLength;
        int length = header + 2 + original.PayloadLength;
        if (destination.Length < length) return 0;
        original.Packet[..header].CopyTo(destination);
        BinaryPrimitives.WriteUInt16BigEndian(destination[header..], originalSequenceNumber);
        original.Payload.CopyTo(destination[(header + 2)..]);
        destination[0] &= 0xDF; // the original's padding is not carried over
        destination[1] = (byte)((destination[1] & 0x80) | rtxPayloadType);
        RtpPacketRewriter.SetSequenceNumber(destination, rtxSequenceNumber);
        RtpPacketRewriter.SetSsrc(destination, rtxSsrc);
        return length;
    }
}
