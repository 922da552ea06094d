using System.Buffers.Binary;
using System.Text;

namespace TeleRehab.Media.Rtcp;

/// <summary>SDES item types (RFC 3550 §6.5).</summary>
public enum SdesItemType : byte
{
    End = 0,
    Cname = 1,
    Name = 2,
    Email = 3,
    Phone = 4,
    Location = 5,
    Tool = 6,
    Note = 7,
    Private = 8,
}

/// <summary>One SDES item; text is UTF-8 on the wire, at most 255 bytes (RFC 3550 §6.5).</summary>
public sealed record SdesItem(SdesItemType Type, string Text);

/// <summary>One SDES chunk: an SSRC/CSRC and its items (RFC 3550 §6.5).</summary>
public sealed record SdesChunk(uint Ssrc, IReadOnlyList<SdesItem> Items)
{
    /// <summary>The CNAME item's text, if present (§6.5.1).</summary>
    public string? Cname => Items.FirstOrDefault(i => i.Type == SdesItemType.Cname)?.Text;

    internal int SerializedLength
    {
        get
        {
            int length = 4;
            foreach (var item in Items) length += 2 + Encoding.UTF8.GetByteCount(item.Text);
            return (length + 4) & ~3; // at least one null octet, then pad to 32 bits
        }
    }
}

/// <summary>
/// SDES: Source Description RTCP packet (RFC 3550 §6.5), PT=202, SC = chunk count. Sent roughly once
/// per reporting interval, so this type uses ordinary managed lists (cold path).
/// </summary>
public sealed class SourceDescription : IRtcpPacket
{
    public SourceDescription(IReadOnlyList<SdesChunk> chunks)
    {
        if (chunks.Count > 31) throw new ArgumentException("At most 31 chunks per SDES packet.", nameof(chunks));
        foreach (var chunk in chunks)
            foreach (var item in chunk.Items)
            {
                if (item.Type == SdesItemType.End) throw new ArgumentException("END is not an item.", nameof(chunks));
                if (Encoding.UTF8.GetByteCount(item.Text) > 255) throw new ArgumentException("Item text over 255 bytes.", nameof(chunks));
            }
        Chunks = chunks;
    }

    public IReadOnlyList<SdesChunk> Chunks { get; }

    /// <summary>An SDES packet with one chunk carrying only a CNAME (the WebRTC case).</summary>
    public static SourceDescription ForCname(uint ssrc, string cname) =>
        new([new SdesChunk(ssrc, [new SdesItem(SdesItemType.Cname, cname)])]);

    public static bool TryParse(ReadOnlySpan<byte> packet, out SourceDescription? description)
    {
        description = null;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.SourceDescription, -1, out var header, out var body)) return false;
        var chunks = new List<SdesChunk>(header.Count);
        int pos = 0;
        for (int c = 0; c < header.Count; c++)
        {
            if (pos + 4 > body.Length) return false;
            uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(body[pos..]);
            pos += 4;
            var items = new List<SdesItem>();
            while (true)
            {
                if (pos >= body.Length) return false; // the item list must end with a null octet
                byte type = body[pos];
                if (type == 0)
                {
                    pos = (pos + 4) & ~3; // skip the null octet(s) up to the next 32-bit boundary
                    if (pos > body.Length) return false;
                    break;
                }
                if (pos + 2 > body.Length) return false;
                int length = body[pos + 1];
                if (pos + 2 + length > body.Length) return false;
                items.Add(new SdesItem((SdesItemType)type, Encoding.UTF8.GetString(body.Slice(pos + 2, length))));
                pos += 2 + length;
            }
            chunks.Add(new SdesChunk(ssrc, items));
        }
        description = new SourceDescription(chunks);
        return true;
    }

    public int GetSerializedLength()
    {
        int length = RtcpHeader.Size;
        foreach (var chunk in Chunks) length += chunk.SerializedLength;
        return length;
    }

    public int WriteTo(Span<byte> destination)
    {
        int total = GetSerializedLength();
        if (destination.Length < total) throw new ArgumentException("Destination too small.", nameof(destination));
        RtcpHeader.Write(destination, Chunks.Count, RtcpPacketType.SourceDescription, total);
        int pos = RtcpHeader.Size;
        foreach (var chunk in Chunks)
        {
            int chunkEnd = pos + chunk.SerializedLength;
            BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], chunk.Ssrc);
            pos += 4;
            foreach (var item in chunk.Items)
            {
                destination[pos] = (byte)item.Type;
                int n = Encoding.UTF8.GetBytes(item.Text, destination[(pos + 2)..]);
                destination[pos + 1] = (byte)n;
                pos += 2 + n;
            }
            destination[pos..chunkEnd].Clear();
            pos = chunkEnd;
        }
        return total;
    }
}
