using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace TeleRehab.Media.Rtp;

/// <summary>
/// One block of a RED payload (RFC 2198 §3) as found by <see cref="RedPayload.TryParse"/>: its payload type, its
/// timestamp offset below the RTP header's timestamp (0 for the primary) and where its data lies in the RED payload.
/// </summary>
/// <param name="PayloadType">The block PT (7 bits), e.g. Opus's payload type for WebRTC's <c>red/48000/2</c>.</param>
/// <param name="TimestampOffset">14-bit unsigned offset: the block's timestamp is the header's minus this.</param>
/// <param name="Offset">Start of the block's data in the RED payload.</param>
/// <param name="Length">Length of the block's data (10 bits for a redundant block; the rest for the primary).</param>
public readonly record struct RedBlock(byte PayloadType, ushort TimestampOffset, int Offset, int Length);

/// <summary>
/// A redundant encoding to put in a RED payload with <see cref="RedPayload.Write"/>: payload type, timestamp offset
/// (below 2^14) and data (shorter than 2^10 bytes). The data is a <see cref="ReadOnlyMemory{T}"/> so a sender can
/// point at earlier frames kept in arrays or pooled buffers without copying them first.
/// </summary>
public readonly record struct RedundantBlock(byte PayloadType, ushort TimestampOffset, ReadOnlyMemory<byte> Data);

/// <summary>
/// RTP payload for redundant audio data, RFC 2198, as WebRTC uses it for Opus (<c>red/48000/2</c>): parse a RED
/// payload into its blocks, write one, and turn a RED packet back into the plain RTP packet of its primary block
/// or of one of its redundant blocks. Parsers return false on malformed input and never throw or allocate.
/// </summary>
public static class RedPayload
{
    /// <summary>Size of a redundant block's header (RFC 2198 §3).</summary>
    public const int BlockHeaderLength = 4;

    /// <summary>Size of the final header, the primary block's (RFC 2198 §3).</summary>
    public const int PrimaryHeaderLength = 1;

    /// <summary>Largest timestamp offset a header can carry (14 bits).</summary>
    public const int MaxTimestampOffset = (1 << 14) - 1;

    /// <summary>Largest redundant block a header can describe (10 bits).</summary>
    public const int MaxBlockLength = (1 << 10) - 1;

    /// <summary>
    /// Parses a RED payload (the RTP payload after the RTP header, padding removed) into <paramref name="blocks"/>:
    /// the redundant blocks in the order they were sent (WebRTC sends the oldest first), the primary last, so
    /// <paramref name="count"/> is the number of redundant blocks plus one. Returns false, with
    /// <paramref name="count"/> 0, if the payload is empty, its headers or block lengths run past its end, or
    /// <paramref name="blocks"/> has no room for every block; <paramref name="blocks"/> may then be partly written.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, Span<RedBlock> blocks, out int count)
    {
        count = 0;
        int position = 0;
        int n = 0;
        // §3: headers with F=1 (4 bytes each) until the one with F=0 (1 byte), which is the primary's.
        while (true)
        {
            if (position >= payload.Length) return false;
            byte first = payload[position];
            if ((first & 0x80) == 0) break;
            if (payload.Length - position < BlockHeaderLength) return false;
            if (n >= blocks.Length) return false;
            uint header = BinaryPrimitives.ReadUInt32BigEndian(payload[position..]);
            blocks[n++] = new RedBlock(
                PayloadType: (byte)(first & 0x7F),
                TimestampOffset: (ushort)((header >> 10) & MaxTimestampOffset),
                Offset: 0,
                Length: (int)(header & MaxBlockLength));
            position += BlockHeaderLength;
        }
        if (n >= blocks.Length) return false;
        byte primaryType = payload[position];
        position += PrimaryHeaderLength;

        // §3: the data blocks follow the headers in the same order; the primary's length is what is left.
        for (int i = 0; i < n; i++)
        {
            int length = blocks[i].Length;
            if (length > payload.Length - position) return false;
            blocks[i] = blocks[i] with { Offset = position };
            position += length;
        }
        blocks[n] = new RedBlock(primaryType, 0, position, payload.Length - position);
        count = n + 1;
        return true;
    }

    /// <summary>Length of the RED payload <see cref="Write"/> produces for these blocks.</summary>
    public static int GetSerializedLength(ReadOnlySpan<RedundantBlock> redundant, int primaryLength)
    {
        int length = BlockHeaderLength * redundant.Length + PrimaryHeaderLength + primaryLength;
        foreach (var block in redundant) length += block.Data.Length;
        return length;
    }

    /// <summary>
    /// Writes a RED payload (RFC 2198 §3): a header per redundant block in the given order, the primary's header,
    /// then the redundant data and the primary data. Returns the bytes written
    /// (<see cref="GetSerializedLength"/>). Throws <see cref="ArgumentOutOfRangeException"/> for a payload type
    /// above 127, a timestamp offset above <see cref="MaxTimestampOffset"/> or a redundant block longer than
    /// <see cref="MaxBlockLength"/>, and <see cref="ArgumentException"/> if <paramref name="destination"/> is too
    /// small; nothing is written then.
    /// </summary>
    public static int Write(Span<byte> destination, byte primaryPayloadType, ReadOnlySpan<byte> primary,
        ReadOnlySpan<RedundantBlock> redundant)
    {
        if (primaryPayloadType > 127) ThrowHelper.OutOfRange(nameof(primaryPayloadType));
        foreach (var block in redundant)
        {
            if (block.PayloadType > 127) ThrowHelper.OutOfRange(nameof(redundant), "A block payload type is above 127.");
            if (block.TimestampOffset > MaxTimestampOffset) ThrowHelper.OutOfRange(nameof(redundant), "A timestamp offset does not fit 14 bits.");
            if (block.Data.Length > MaxBlockLength) ThrowHelper.OutOfRange(nameof(redundant), "A block is longer than 1,023 bytes.");
        }
        int total = GetSerializedLength(redundant, primary.Length);
        if (destination.Length < total) ThrowHelper.DestinationTooSmall(nameof(destination));

        int header = 0;
        int data = BlockHeaderLength * redundant.Length + PrimaryHeaderLength;
        foreach (var block in redundant)
        {
            uint word = 0x8000_0000u | (uint)block.PayloadType << 24 | (uint)block.TimestampOffset << 10 | (uint)block.Data.Length;
            BinaryPrimitives.WriteUInt32BigEndian(destination[header..], word);
            header += BlockHeaderLength;
            block.Data.Span.CopyTo(destination[data..]);
            data += block.Data.Length;
        }
        destination[header] = primaryPayloadType; // F=0
        primary.CopyTo(destination[data..]);
        return total;
    }

    /// <summary>
    /// Turns a whole (decrypted) RTP packet whose payload is RED into the plain RTP packet of its primary block:
    /// the same header byte for byte (marker, sequence number, timestamp, SSRC, CSRCs, header extensions) with the
    /// payload type replaced by the primary's and the P bit cleared, then the primary's data; RTP padding is
    /// dropped. <paramref name="destination"/> may be <paramref name="rtpPacket"/>'s own buffer (same start) to
    /// strip in place. Returns false if the packet or its RED payload is malformed, the primary block is empty,
    /// or <paramref name="destination"/> is too small.
    /// </summary>
    public static bool TryStripToPrimary(ReadOnlySpan<byte> rtpPacket, Span<byte> destination, out int written)
    {
        written = 0;
        if (!RtpPacketReader.TryParse(rtpPacket, out var reader)) return false;
        if (!TryFindBlock(reader.Payload, -1, out var primary)) return false;
        // RFC 2198 allows an empty primary (a sender with only redundancy left to send); the result would be an RTP
        // packet with no payload, which there is nothing to decode in, so callers drop it.
        if (primary.Length == 0) return false;
        int headerLength = reader.HeaderLength;
        int total = headerLength + primary.Length;
        if (destination.Length < total) return false;

        // Read everything from the packet before writing: in place, the header copy is a no-op and the primary
        // moves towards the start (CopyTo handles the overlap).
        var data = rtpPacket.Slice(headerLength + primary.Offset, primary.Length);
        rtpPacket[..headerLength].CopyTo(destination);
        destination[0] &= 0xDF; // P=0: the padding is not copied
        destination[1] = (byte)((destination[1] & 0x80) | primary.PayloadType);
        data.CopyTo(destination[headerLength..]);
        written = total;
        return true;
    }

    /// <summary>
    /// Rebuilds the plain RTP packet that redundant block <paramref name="blockIndex"/> (0 = first sent) of a RED
    /// packet stood for, to recover a lost packet for a receiver that did not negotiate RED: the packet's header
    /// with the block's payload type, marker and P bit cleared, the given sequence number and timestamp = the
    /// packet's − the block's offset (modulo 2^32), then the block's data. SSRC, CSRCs and header extensions are
    /// copied byte for byte; extensions that describe the RED packet itself (transport-wide sequence number,
    /// abs-send-time, audio level) are the caller's to rewrite or drop. Returns false if the packet or its RED
    /// payload is malformed, there is no such redundant block, it is empty, or <paramref name="destination"/> is
    /// too small.
    /// </summary>
    public static bool TryExtractRedundant(ReadOnlySpan<byte> rtpPacket, int blockIndex, ushort sequenceNumber,
        Span<byte> destination, out int written)
    {
        written = 0;
        if (blockIndex < 0) return false;
        if (!RtpPacketReader.TryParse(rtpPacket, out var reader)) return false;
        if (!TryFindBlock(reader.Payload, blockIndex, out var block)) return false;
        if (block.Length == 0) return false; // nothing to decode, as for an empty primary
        int headerLength = reader.HeaderLength;
        int total = headerLength + block.Length;
        if (destination.Length < total) return false;

        // §3: the timestamp offset is unsigned and counts back from the header's timestamp; wrap modulo 2^32.
        uint timestamp = unchecked(reader.Timestamp - block.TimestampOffset);
        var data = rtpPacket.Slice(headerLength + block.Offset, block.Length);
        rtpPacket[..headerLength].CopyTo(destination);
        destination[0] &= 0xDF;
        destination[1] = block.PayloadType; // M=0
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], timestamp);
        data.CopyTo(destination[headerLength..]);
        written = total;
        return true;
    }

    /// <summary>
    /// Checks a RED payload the way <see cref="TryParse"/> does without storing the blocks: false if it is malformed
    /// (empty, headers or block lengths past its end); else the number of redundant blocks and the primary block.
    /// </summary>
    public static bool TryInspect(ReadOnlySpan<byte> payload, out int redundantCount, out RedBlock primary)
    {
        redundantCount = 0;
        primary = default;
        int position = 0;
        int dataTotal = 0;
        while (true)
        {
            if (position >= payload.Length) return false;
            if ((payload[position] & 0x80) == 0) break;
            if (payload.Length - position < BlockHeaderLength) return false;
            dataTotal += (int)(BinaryPrimitives.ReadUInt32BigEndian(payload[position..]) & MaxBlockLength);
            redundantCount++;
            position += BlockHeaderLength;
        }
        int dataStart = position + PrimaryHeaderLength;
        if (dataTotal > payload.Length - dataStart) { redundantCount = 0; return false; }
        primary = new RedBlock((byte)(payload[position] & 0x7F), 0, dataStart + dataTotal, payload.Length - dataStart - dataTotal);
        return true;
    }

    /// <summary>
    /// Rewrites the block payload types of a (well-formed) RED payload in place through <paramref name="map"/>, indexed
    /// by payload type (0xFF = the receiver has no such codec): a receiver whose Opus has another payload type than the
    /// publisher's. False, with the payload unchanged, if it is malformed or a block's type is not mapped.
    /// </summary>
    public static bool TryMapBlockPayloadTypes(Span<byte> payload, ReadOnlySpan<byte> map)
    {
        if (!TryInspect(payload, out _, out _)) return false;
        for (int position = 0; ; position += BlockHeaderLength)
        {
            int pt = payload[position] & 0x7F;
            if (pt >= map.Length || map[pt] > 127) return false;
            if ((payload[position] & 0x80) == 0) break;
        }
        for (int position = 0; ; position += BlockHeaderLength)
        {
            byte first = payload[position];
            payload[position] = (byte)((first & 0x80) | map[first & 0x7F]);
            if ((first & 0x80) == 0) return true;
        }
    }

    /// <summary>
    /// Walks a RED payload's headers once without storing them and returns redundant block <paramref name="index"/>,
    /// or the primary for -1. False if the payload is malformed (as <see cref="TryParse"/> judges it) or the
    /// redundant block does not exist.
    /// </summary>
    private static bool TryFindBlock(ReadOnlySpan<byte> payload, int index, out RedBlock block)
    {
        block = default;
        int position = 0;
        int n = 0;
        int dataBefore = 0; // data length of the blocks before the wanted one
        int dataTotal = 0;
        bool found = false;
        while (true)
        {
            if (position >= payload.Length) return false;
            byte first = payload[position];
            if ((first & 0x80) == 0) break;
            if (payload.Length - position < BlockHeaderLength) return false;
            uint header = BinaryPrimitives.ReadUInt32BigEndian(payload[position..]);
            int length = (int)(header & MaxBlockLength);
            if (n == index)
            {
                block = new RedBlock((byte)(first & 0x7F), (ushort)((header >> 10) & MaxTimestampOffset), 0, length);
                dataBefore = dataTotal;
                found = true;
            }
            dataTotal += length; // at most 1,023 per 4 header bytes: cannot overflow
            n++;
            position += BlockHeaderLength;
        }
        int dataStart = position + PrimaryHeaderLength;
        if (dataTotal > payload.Length - dataStart) return false;
        if (index < 0)
        {
            block = new RedBlock((byte)(payload[position] & 0x7F), 0, dataStart + dataTotal, payload.Length - dataStart - dataTotal);
            return true;
        }
        if (!found) return false;
        block = block with { Offset = dataStart + dataBefore };
        return true;
    }

    private static class ThrowHelper
    {
        [DoesNotReturn]
        public static void OutOfRange(string paramName, string? message = null) =>
            throw new ArgumentOutOfRangeException(paramName, message);

        [DoesNotReturn]
        public static void DestinationTooSmall(string paramName) =>
            throw new ArgumentException("Destination too small.", paramName);
    }
}
