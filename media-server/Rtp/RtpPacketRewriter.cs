using System.Buffers.Binary;

namespace TeleRehab.Media.Rtp;

/// <summary>
/// In-place rewriting of RTP header fields (RFC 3550 §5.1) and RFC 8285 extension elements, used by
/// the SFU when forwarding a packet to another leg. The fixed-field setters require only the 12-byte
/// fixed header; the extension methods parse the packet and return false if it is malformed.
/// </summary>
public static class RtpPacketRewriter
{
    public static void SetSsrc(Span<byte> packet, uint ssrc) =>
        BinaryPrimitives.WriteUInt32BigEndian(packet.Slice(8, 4), ssrc);

    public static void SetSequenceNumber(Span<byte> packet, ushort sequenceNumber) =>
        BinaryPrimitives.WriteUInt16BigEndian(packet.Slice(2, 2), sequenceNumber);

    public static void SetTimestamp(Span<byte> packet, uint timestamp) =>
        BinaryPrimitives.WriteUInt32BigEndian(packet.Slice(4, 4), timestamp);

    public static void SetPayloadType(Span<byte> packet, byte payloadType)
    {
        if (payloadType > 127) throw new ArgumentOutOfRangeException(nameof(payloadType));
        packet[1] = (byte)((packet[1] & 0x80) | payloadType);
    }

    public static void SetMarker(Span<byte> packet, bool marker) =>
        packet[1] = (byte)(marker ? packet[1] | 0x80 : packet[1] & 0x7F);

    /// <summary>Overwrites the value of extension <paramref name="id"/>; the new value must have the same length.</summary>
    public static bool TryRewriteExtension(Span<byte> packet, int id, ReadOnlySpan<byte> value)
    {
        if (!RtpPacketReader.TryParse(packet, out var reader)) return false;
        if (!reader.TryFindExtension(id, out var ext) || ext.Value.Length != value.Length) return false;
        value.CopyTo(packet.Slice(ext.ValueOffset, value.Length));
        return true;
    }

    /// <summary>
    /// Sets extension <paramref name="id"/> to <paramref name="value"/> in the packet held in
    /// <paramref name="buffer"/>[..<paramref name="length"/>]: overwrites the element when it is there with the same
    /// length, otherwise appends an element (RFC 8285 §4.2 one-byte or §4.3 two-byte form, as the packet uses; a
    /// packet without extensions gets a one-byte block), moving the payload back and growing
    /// <paramref name="length"/>. False when the packet is malformed, the id or value does not fit the form, or the
    /// buffer has no room.
    /// </summary>
    public static bool TrySetExtension(Span<byte> buffer, ref int length, int id, ReadOnlySpan<byte> value)
    {
        var packet = buffer[..length];
        if (!RtpPacketReader.TryParse(packet, out var reader)) return false;
        var form = reader.ExtensionForm;
        if (form == RtpExtensionForm.Other) return false;
        if (form != RtpExtensionForm.None && reader.TryFindExtension(id, out var existing))
        {
            if (existing.Value.Length != value.Length) return false;
            value.CopyTo(packet.Slice(existing.ValueOffset, value.Length));
            return true;
        }
        if (form == RtpExtensionForm.None) form = RtpExtensionForm.OneByte;
        var elementHeader = form == RtpExtensionForm.OneByte ? 1 : 2;
        if (!IsValidId(form, id) || value.Length < (form == RtpExtensionForm.OneByte ? 1 : 0)
            || value.Length > (form == RtpExtensionForm.OneByte ? 16 : 255)) return false;

        // Where the new element goes: after the last element (trailing padding bytes are reused), or a new block.
        int blockStart, dataStart, dataUsed, dataLength;
        if (reader.HasExtension)
        {
            dataStart = reader.ExtensionDataOffset;
            blockStart = dataStart - 4;
            dataLength = reader.ExtensionDataLength;
            dataUsed = 0;
            foreach (var e in reader.Extensions) dataUsed = e.ValueOffset + e.Value.Length - dataStart;
        }
        else
        {
            blockStart = reader.HeaderLength;
            dataStart = blockStart + 4;
            dataLength = 0;
            dataUsed = 0;
        }
        var newDataLength = (dataUsed + elementHeader + value.Length + 3) & ~3;
        var grow = (reader.HasExtension ? 0 : 4) + Math.Max(0, newDataLength - dataLength);
        if (newDataLength > 4 * ushort.MaxValue || length + grow > buffer.Length) return false;

        var tailStart = reader.HasExtension ? dataStart + dataLength : blockStart;
        buffer[tailStart..length].CopyTo(buffer[(tailStart + grow)..]);
        length += grow;
        if (!reader.HasExtension)
        {
            buffer[0] |= 0x10;
            BinaryPrimitives.WriteUInt16BigEndian(buffer[blockStart..], RtpPacketReader.OneByteExtensionProfile);
        }
        var newData = buffer.Slice(dataStart, Math.Max(newDataLength, dataLength));
        newData[dataUsed..].Clear();
        var at = dataUsed;
        if (form == RtpExtensionForm.OneByte)
        {
            newData[at++] = (byte)((id << 4) | (value.Length - 1));
        }
        else
        {
            newData[at++] = (byte)id;
            newData[at++] = (byte)value.Length;
        }
        value.CopyTo(newData[at..]);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(blockStart + 2)..], (ushort)(newData.Length / 4));
        return true;
    }

    /// <summary>Changes the id of the first element with id <paramref name="fromId"/> (extmap id mapping between legs).</summary>
    public static bool TryChangeExtensionId(Span<byte> packet, int fromId, int toId)
    {
        if (!RtpPacketReader.TryParse(packet, out var reader)) return false;
        var form = reader.ExtensionForm;
        if (!IsValidId(form, toId)) return false;
        if (!reader.TryFindExtension(fromId, out var ext)) return false;
        WriteId(packet, form, ext.ElementOffset, toId);
        return true;
    }

    /// <summary>
    /// Rewrites every element's id in one pass through <paramref name="idMap"/> (indexed by the old id;
    /// ids beyond the map are left unchanged). A mapped value of 0 removes the element by overwriting it
    /// with padding bytes (RFC 8285 §4.2/§4.3: 0 bytes are padding). Returns false if the packet is
    /// malformed or a mapped id is not valid for the packet's extension form (then nothing is changed).
    /// </summary>
    public static bool TryRemapExtensionIds(Span<byte> packet, ReadOnlySpan<byte> idMap)
    {
        if (!RtpPacketReader.TryParse(packet, out var reader)) return false;
        var form = reader.ExtensionForm;
        if (form is not (RtpExtensionForm.OneByte or RtpExtensionForm.TwoByte)) return true;
        foreach (var e in reader.Extensions)
        {
            if (e.Id < idMap.Length && idMap[e.Id] != 0 && !IsValidId(form, idMap[e.Id])) return false;
        }
        // Re-parse: the enumerator only reads, rewriting is done on offsets recorded per element.
        foreach (var e in reader.Extensions)
        {
            if (e.Id >= idMap.Length) continue;
            int to = idMap[e.Id];
            if (to == 0)
                packet.Slice(e.ElementOffset, e.ValueOffset - e.ElementOffset + e.Value.Length).Clear();
            else
                WriteId(packet, form, e.ElementOffset, to);
        }
        return true;
    }

    private static bool IsValidId(RtpExtensionForm form, int id) => form switch
    {
        RtpExtensionForm.OneByte => id is >= 1 and <= 14,
        RtpExtensionForm.TwoByte => id is >= 1 and <= 255,
        _ => false,
    };

    private static void WriteId(Span<byte> packet, RtpExtensionForm form, int elementOffset, int id)
    {
        if (form == RtpExtensionForm.OneByte)
            packet[elementOffset] = (byte)((id << 4) | (packet[elementOffset] & 0x0F));
        else
            packet[elementOffset] = (byte)id;
    }
}
