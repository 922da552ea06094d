using System.Buffers.Binary;

namespace TeleRehab.Media.Rtp;

/// <summary>
/// Builds an RTP header (RFC 3550 §5.1) with optional RFC 8285 one-byte extension elements into a
/// caller's span. Usage: construct, call <see cref="AddExtension"/> for each element, then
/// <see cref="Finish"/>, which pads the extension block to a 32-bit boundary and returns the header
/// length (the payload offset). The caller then copies the payload after the header.
/// </summary>
public ref struct RtpHeaderWriter
{
    private readonly Span<byte> _buffer;
    private readonly int _extensionStart;
    private int _position;
    private bool _finished;

    public RtpHeaderWriter(Span<byte> destination, byte payloadType, ushort sequenceNumber, uint timestamp, uint ssrc,
        bool marker = false, scoped ReadOnlySpan<uint> csrcs = default)
    {
        if (payloadType > 127) throw new ArgumentOutOfRangeException(nameof(payloadType));
        if (csrcs.Length > 15) throw new ArgumentOutOfRangeException(nameof(csrcs));
        int fixedLength = RtpPacketReader.FixedHeaderLength + 4 * csrcs.Length;
        if (destination.Length < fixedLength) throw new ArgumentException("Destination too small.", nameof(destination));
        _buffer = destination;
        _buffer[0] = (byte)(0x80 | csrcs.Length);
        _buffer[1] = (byte)((marker ? 0x80 : 0) | payloadType);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[8..], ssrc);
        for (int i = 0; i < csrcs.Length; i++)
            BinaryPrimitives.WriteUInt32BigEndian(_buffer[(12 + 4 * i)..], csrcs[i]);
        _extensionStart = fixedLength;
        _position = fixedLength;
        _finished = false;
    }

    /// <summary>Header length for the given CSRC count and one-byte extension value lengths.</summary>
    public static int GetSerializedLength(int csrcCount, ReadOnlySpan<int> extensionValueLengths)
    {
        int length = RtpPacketReader.FixedHeaderLength + 4 * csrcCount;
        if (extensionValueLengths.IsEmpty) return length;
        int ext = 0;
        foreach (int l in extensionValueLengths) ext += 1 + l;
        return length + 4 + ((ext + 3) & ~3);
    }

    /// <summary>Appends a one-byte-form element (id 1-14, value 1-16 bytes).</summary>
    public void AddExtension(int id, scoped ReadOnlySpan<byte> value)
    {
        if (_finished) throw new InvalidOperationException("Header already finished.");
        if (id is < 1 or > 14) throw new ArgumentOutOfRangeException(nameof(id));
        if (value.Length is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(value));
        if (_position == _extensionStart) _position += 4; // room for the 0xBEDE header
        if (_buffer.Length < _position + 1 + value.Length) throw new ArgumentException("Destination too small.");
        _buffer[_position] = (byte)((id << 4) | (value.Length - 1));
        value.CopyTo(_buffer[(_position + 1)..]);
        _position += 1 + value.Length;
    }

    /// <summary>Completes the header and returns its length.</summary>
    public int Finish()
    {
        if (_finished) return _position;
        _finished = true;
        if (_position == _extensionStart) return _position;
        int dataLength = _position - _extensionStart - 4;
        int padded = (dataLength + 3) & ~3;
        if (_buffer.Length < _extensionStart + 4 + padded) throw new ArgumentException("Destination too small.");
        _buffer.Slice(_position, padded - dataLength).Clear();
        _buffer[0] |= 0x10;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_extensionStart..], RtpPacketReader.OneByteExtensionProfile);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_extensionStart + 2)..], (ushort)(padded / 4));
        _position = _extensionStart + 4 + padded;
        return _position;
    }

    /// <summary>
    /// Appends RFC 3550 §5.1 padding after a payload that ends at <paramref name="packetLength"/>, sets the
    /// P bit and returns the new packet length.
    /// </summary>
    public static int AddPadding(Span<byte> packet, int packetLength, int paddingLength)
    {
        if (paddingLength is < 1 or > 255) throw new ArgumentOutOfRangeException(nameof(paddingLength));
        packet.Slice(packetLength, paddingLength - 1).Clear();
        packet[packetLength + paddingLength - 1] = (byte)paddingLength;
        packet[0] |= 0x20;
        return packetLength + paddingLength;
    }
}
