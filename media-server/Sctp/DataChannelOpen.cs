using System.Buffers.Binary;
using System.Text;

namespace TeleRehab.Media.Sctp;

/// <summary>DCEP message types (RFC 8832 §8.2.1).</summary>
public enum DcepMessageType : byte
{
    DataChannelAck = 0x02,
    DataChannelOpen = 0x03,
}

/// <summary>
/// DATA_CHANNEL_OPEN channel types (RFC 8832 §5.1): the high bit marks unordered delivery, the low
/// bits the reliability (reliable, limited retransmissions, limited lifetime).
/// </summary>
public enum DataChannelType : byte
{
    Reliable = 0x00,
    PartialReliableRexmit = 0x01,
    PartialReliableTimed = 0x02,
    ReliableUnordered = 0x80,
    PartialReliableRexmitUnordered = 0x81,
    PartialReliableTimedUnordered = 0x82,
}

/// <summary>
/// DATA_CHANNEL_OPEN message, RFC 8832 §5.1, sent with PPID 50 on the channel's stream: Message Type
/// 0x03, Channel Type, Priority, Reliability Parameter (retransmissions or lifetime in ms; 0 for a
/// reliable channel), Label Length, Protocol Length, Label, Protocol (both UTF-8).
/// </summary>
public readonly ref struct DataChannelOpen
{
    public const int FixedSize = 12;

    public DataChannelOpen(DataChannelType channelType, ushort priority, uint reliabilityParameter, ReadOnlySpan<byte> label, ReadOnlySpan<byte> protocol = default)
    {
        ChannelType = channelType;
        Priority = priority;
        ReliabilityParameter = reliabilityParameter;
        Label = label;
        Protocol = protocol;
    }

    public DataChannelType ChannelType { get; }
    public ushort Priority { get; }

    /// <summary>Maximum retransmissions (REXMIT types) or lifetime in milliseconds (TIMED types); ignored for reliable types.</summary>
    public uint ReliabilityParameter { get; }

    /// <summary>The label as UTF-8 bytes.</summary>
    public ReadOnlySpan<byte> Label { get; }

    /// <summary>The sub-protocol as UTF-8 bytes.</summary>
    public ReadOnlySpan<byte> Protocol { get; }

    public bool IsUnordered => ((byte)ChannelType & 0x80) != 0;

    /// <summary>Decodes the label (allocates; for the control path, not per packet).</summary>
    public string GetLabelString() => Encoding.UTF8.GetString(Label);

    /// <summary>Decodes the protocol (allocates; for the control path, not per packet).</summary>
    public string GetProtocolString() => Encoding.UTF8.GetString(Protocol);

    /// <summary>
    /// Parses a DCEP user message. Fails when it is shorter than 12 bytes, not an OPEN, or the label and
    /// protocol lengths do not fit in it. Unknown channel types are passed through for the caller to refuse.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out DataChannelOpen open)
    {
        open = default;
        if (message.Length < FixedSize || message[0] != (byte)DcepMessageType.DataChannelOpen) return false;
        int labelLength = BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        int protocolLength = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        if (FixedSize + labelLength + protocolLength > message.Length) return false;
        open = new DataChannelOpen(
            (DataChannelType)message[1],
            BinaryPrimitives.ReadUInt16BigEndian(message[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(message[4..]),
            message.Slice(FixedSize, labelLength),
            message.Slice(FixedSize + labelLength, protocolLength));
        return true;
    }

    public int GetSerializedLength() => FixedSize + Label.Length + Protocol.Length;

    public int WriteTo(Span<byte> destination)
    {
        if (Label.Length > ushort.MaxValue || Protocol.Length > ushort.MaxValue) throw new ArgumentException("Label or protocol longer than 65535 bytes.");
        int length = GetSerializedLength();
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        destination[0] = (byte)DcepMessageType.DataChannelOpen;
        destination[1] = (byte)ChannelType;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], Priority);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ReliabilityParameter);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], (ushort)Label.Length);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], (ushort)Protocol.Length);
        Label.CopyTo(destination[FixedSize..]);
        Protocol.CopyTo(destination[(FixedSize + Label.Length)..]);
        return length;
    }
}
