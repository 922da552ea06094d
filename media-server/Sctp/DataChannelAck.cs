namespace TeleRehab.Media.Sctp;

/// <summary>DATA_CHANNEL_ACK message, RFC 8832 §5.2: the single byte 0x02, sent with PPID 50 in reply to an OPEN.</summary>
public readonly ref struct DataChannelAck
{
    public const int Size = 1;

    /// <summary>True when <paramref name="message"/> is an ACK. Extra bytes after the type are ignored.</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out DataChannelAck ack)
    {
        ack = default;
        return message.Length >= Size && message[0] == (byte)DcepMessageType.DataChannelAck;
    }

    public int GetSerializedLength() => Size;

    public int WriteTo(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException("Destination too small.", nameof(destination));
        destination[0] = (byte)DcepMessageType.DataChannelAck;
        return Size;
    }
}
