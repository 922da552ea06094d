using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TeleRehab.Media.Stun;

/// <summary>
/// Builds a STUN message into a caller's buffer. The header's length field is kept up to date after every
/// attribute. Finish with <see cref="AddMessageIntegrity"/> then <see cref="AddFingerprint"/> (or <see cref="Complete"/>).
/// Running out of buffer space is a caller bug and throws <see cref="ArgumentException"/>; size buffers with
/// <see cref="GetAttributeLength"/> or use 1500 bytes (more than any ICE check needs).
/// </summary>
public ref struct StunMessageWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public StunMessageWriter(Span<byte> buffer, StunMessageType type, StunTransactionId transactionId)
    {
        if (buffer.Length < StunMessage.HeaderLength) throw new ArgumentException("Buffer too small for a STUN header.", nameof(buffer));
        _buffer = buffer;
        BinaryPrimitives.WriteUInt16BigEndian(buffer, type.Value);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], StunMessage.MagicCookie);
        transactionId.WriteTo(buffer[8..]);
        _length = StunMessage.HeaderLength;
        PaddingByte = 0;
    }

    public StunMessageWriter(Span<byte> buffer, StunMessageType type, scoped ReadOnlySpan<byte> transactionId)
        : this(buffer, type, StunTransactionId.Read(transactionId))
    {
    }

    /// <summary>The byte used to pad attribute values to 4 bytes (RFC 8489 §14: any value; receivers ignore it). Default 0.</summary>
    public byte PaddingByte { get; set; }

    /// <summary>Bytes written so far; the message is always well formed at this length.</summary>
    public readonly int Length => _length;

    /// <summary>The message written so far.</summary>
    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>Size on the wire of an attribute with a value of <paramref name="valueLength"/> bytes.</summary>
    public static int GetAttributeLength(int valueLength) => 4 + StunMessage.Pad4(valueLength);

    public void AddAttribute(StunAttributeType type, scoped ReadOnlySpan<byte> value)
    {
        Span<byte> target = Reserve(type, value.Length);
        value.CopyTo(target);
    }

    public void AddUsername(scoped ReadOnlySpan<byte> username) => AddAttribute(StunAttributeType.Username, username);

    public void AddSoftware(scoped ReadOnlySpan<byte> software) => AddAttribute(StunAttributeType.Software, software);

    public void AddPriority(uint priority) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(StunAttributeType.Priority, 4), priority);

    public void AddUseCandidate() => Reserve(StunAttributeType.UseCandidate, 0);

    public void AddIceControlling(ulong tieBreaker) => BinaryPrimitives.WriteUInt64BigEndian(Reserve(StunAttributeType.IceControlling, 8), tieBreaker);

    public void AddIceControlled(ulong tieBreaker) => BinaryPrimitives.WriteUInt64BigEndian(Reserve(StunAttributeType.IceControlled, 8), tieBreaker);

    /// <summary>ERROR-CODE (RFC 8489 §14.8). An empty reason uses the recommended phrase.</summary>
    public void AddErrorCode(int code, scoped ReadOnlySpan<byte> reason = default)
    {
        if (code < 300 || code > 699) throw new ArgumentOutOfRangeException(nameof(code));
        if (reason.IsEmpty) reason = StunErrorCodes.ReasonPhrase(code);
        Span<byte> v = Reserve(StunAttributeType.ErrorCode, 4 + reason.Length);
        v[0] = 0;
        v[1] = 0;
        v[2] = (byte)(code / 100);
        v[3] = (byte)(code % 100);
        reason.CopyTo(v[4..]);
    }

    /// <summary>XOR-MAPPED-ADDRESS (RFC 8489 §14.2) from 4 (IPv4) or 16 (IPv6) address bytes.</summary>
    public void AddXorMappedAddress(scoped ReadOnlySpan<byte> address, ushort port)
    {
        if (address.Length is not (4 or 16)) throw new ArgumentException("Address must be 4 or 16 bytes.", nameof(address));
        Span<byte> v = Reserve(StunAttributeType.XorMappedAddress, 4 + address.Length);
        v[0] = 0;
        v[1] = address.Length == 4 ? (byte)0x01 : (byte)0x02;
        BinaryPrimitives.WriteUInt16BigEndian(v[2..], (ushort)(port ^ (StunMessage.MagicCookie >> 16)));
        ReadOnlySpan<byte> key = _buffer.Slice(4, 16); // magic cookie || transaction ID
        for (int i = 0; i < address.Length; i++)
            v[4 + i] = (byte)(address[i] ^ key[i]);
    }

    /// <summary>XOR-MAPPED-ADDRESS from a socket address (IPv4-mapped IPv6 is written as IPv4). No allocation.</summary>
    public void AddXorMappedAddress(SocketAddress socketAddress)
    {
        Span<byte> address = stackalloc byte[16];
        if (!SocketAddressHelper.TryGetAddress(socketAddress, address, out int length, out ushort port))
            throw new ArgumentException("Only IPv4/IPv6 socket addresses are supported.", nameof(socketAddress));
        AddXorMappedAddress(address[..length], port);
    }

    public void AddXorMappedAddress(IPEndPoint endPoint)
    {
        IPAddress ip = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        Span<byte> address = stackalloc byte[16];
        if (!ip.TryWriteBytes(address, out int length)) throw new ArgumentException("Unsupported address.", nameof(endPoint));
        AddXorMappedAddress(address[..length], (ushort)endPoint.Port);
    }

    /// <summary>MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 with <paramref name="key"/> (short-term: UTF-8 password).</summary>
    public void AddMessageIntegrity(scoped ReadOnlySpan<byte> key)
    {
        int start = _length;
        EnsureCapacity(StunMessage.MessageIntegrityAttributeLength);
        Span<byte> hash = stackalloc byte[StunMessage.MessageIntegrityLength];
        StunMessage.ComputeIntegrity(_buffer[..start], key, hash);
        Span<byte> v = Reserve(StunAttributeType.MessageIntegrity, StunMessage.MessageIntegrityLength);
        hash.CopyTo(v);
    }

    /// <summary>MESSAGE-INTEGRITY with a reusable key (faster than the span overload).</summary>
    public void AddMessageIntegrity(StunIntegrityKey key)
    {
        int start = _length;
        EnsureCapacity(StunMessage.MessageIntegrityAttributeLength);
        Span<byte> hash = stackalloc byte[StunMessage.MessageIntegrityLength];
        key.Compute(_buffer[..start], hash);
        Span<byte> v = Reserve(StunAttributeType.MessageIntegrity, StunMessage.MessageIntegrityLength);
        hash.CopyTo(v);
    }

    /// <summary>FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message so far (length counting FINGERPRINT) XOR 0x5354554e.</summary>
    public void AddFingerprint()
    {
        int start = _length;
        Span<byte> v = Reserve(StunAttributeType.Fingerprint, 4); // updates the header length first
        uint crc = Crc32.Compute(_buffer[..start]) ^ StunMessage.FingerprintXor;
        BinaryPrimitives.WriteUInt32BigEndian(v, crc);
    }

    /// <summary>Appends MESSAGE-INTEGRITY and FINGERPRINT and returns the total message length.</summary>
    public int Complete(scoped ReadOnlySpan<byte> integrityKey)
    {
        AddMessageIntegrity(integrityKey);
        AddFingerprint();
        return _length;
    }

    /// <inheritdoc cref="Complete(ReadOnlySpan{byte})"/>
    public int Complete(StunIntegrityKey integrityKey)
    {
        AddMessageIntegrity(integrityKey);
        AddFingerprint();
        return _length;
    }

    /// <summary>Appends FINGERPRINT only (e.g. for 400/401 responses, which carry no MESSAGE-INTEGRITY) and returns the length.</summary>
    public int CompleteWithoutIntegrity()
    {
        AddFingerprint();
        return _length;
    }

    private void EnsureCapacity(int bytes)
    {
        if (_buffer.Length - _length < bytes)
            throw new ArgumentException("The STUN output buffer is too small.");
    }

    private Span<byte> Reserve(StunAttributeType type, int valueLength)
    {
        if (valueLength > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(valueLength));
        int total = GetAttributeLength(valueLength);
        EnsureCapacity(total);
        if (_length - StunMessage.HeaderLength + total > ushort.MaxValue) throw new ArgumentException("STUN message too long.");
        Span<byte> attr = _buffer.Slice(_length, total);
        BinaryPrimitives.WriteUInt16BigEndian(attr, (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(attr[2..], (ushort)valueLength);
        attr[(4 + valueLength)..].Fill(PaddingByte);
        _length += total;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)(_length - StunMessage.HeaderLength));
        return attr.Slice(4, valueLength);
    }
}
