using System.Buffers.Binary;
using System.Net;

namespace TeleRehab.Media.Stun;

/// <summary>
/// A validated, read-only view over one STUN message (RFC 8489). Obtain it with
/// <see cref="StunMessage.TryParse(ReadOnlySpan{byte}, out StunMessageReader)"/>.
/// </summary>
/// <remarks>
/// Attribute look-ups ignore attributes that follow MESSAGE-INTEGRITY, except FINGERPRINT
/// (RFC 8489 §14.5: "with the exception of the MESSAGE-INTEGRITY-SHA256 and FINGERPRINT attributes,
/// agents MUST ignore all other attributes that follow MESSAGE-INTEGRITY").
/// </remarks>
public readonly ref struct StunMessageReader
{
    private readonly ReadOnlySpan<byte> _message;
    private readonly int _integrityOffset;   // offset of the MESSAGE-INTEGRITY attribute header, or -1
    private readonly int _fingerprintOffset; // offset of the FINGERPRINT attribute header, or -1

    internal StunMessageReader(ReadOnlySpan<byte> message, int integrityOffset, int fingerprintOffset)
    {
        _message = message;
        _integrityOffset = integrityOffset;
        _fingerprintOffset = fingerprintOffset;
    }

    /// <summary>The whole message (header and attributes).</summary>
    public ReadOnlySpan<byte> Message => _message;

    public StunMessageType MessageType => StunMessageType.FromValue(BinaryPrimitives.ReadUInt16BigEndian(_message));
    public StunMethod Method => MessageType.Method;
    public StunClass Class => MessageType.Class;

    /// <summary>The 12-byte transaction ID as a slice of the message.</summary>
    public ReadOnlySpan<byte> TransactionIdBytes => _message.Slice(8, StunTransactionId.Length);
    public StunTransactionId TransactionId => StunTransactionId.Read(TransactionIdBytes);

    public bool HasMessageIntegrity => _integrityOffset >= 0;
    public bool HasFingerprint => _fingerprintOffset >= 0;
    internal int IntegrityOffset => _integrityOffset;
    internal int FingerprintOffset => _fingerprintOffset;

    /// <summary>Enumerates all attributes in order, including any after MESSAGE-INTEGRITY.</summary>
    public StunAttributeEnumerator GetEnumerator() => new(_message[StunMessage.HeaderLength..]);

    /// <summary>The value of the first attribute of this type (ignoring those after MESSAGE-INTEGRITY).</summary>
    public bool TryGetAttribute(StunAttributeType type, out ReadOnlySpan<byte> value)
    {
        if (type == StunAttributeType.Fingerprint && _fingerprintOffset >= 0)
        {
            value = _message.Slice(_fingerprintOffset + 4, 4);
            return true;
        }
        int end = _integrityOffset >= 0 ? _integrityOffset + 24 : _message.Length;
        foreach (var attribute in new StunAttributeEnumerator(_message[StunMessage.HeaderLength..end]))
        {
            if (attribute.Type == type)
            {
                value = attribute.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    public bool HasAttribute(StunAttributeType type) => TryGetAttribute(type, out _);

    public bool TryGetUsername(out ReadOnlySpan<byte> username) => TryGetAttribute(StunAttributeType.Username, out username);

    public bool HasUseCandidate => TryGetAttribute(StunAttributeType.UseCandidate, out _);

    public bool TryGetPriority(out uint priority) => TryGetUInt32(StunAttributeType.Priority, out priority);

    public bool TryGetIceControlling(out ulong tieBreaker) => TryGetUInt64(StunAttributeType.IceControlling, out tieBreaker);

    public bool TryGetIceControlled(out ulong tieBreaker) => TryGetUInt64(StunAttributeType.IceControlled, out tieBreaker);

    /// <summary>ERROR-CODE (RFC 8489 §14.8): code = class * 100 + number; reason is UTF-8.</summary>
    public bool TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason)
    {
        code = 0;
        reason = default;
        if (!TryGetAttribute(StunAttributeType.ErrorCode, out var v) || v.Length < 4) return false;
        int errorClass = v[2] & 0x07;
        int number = v[3];
        if (errorClass < 3 || errorClass > 6 || number > 99) return false;
        code = errorClass * 100 + number;
        reason = v[4..];
        return true;
    }

    /// <summary>XOR-MAPPED-ADDRESS (RFC 8489 §14.2) without allocation: writes 4 or 16 address bytes.</summary>
    public bool TryGetXorMappedAddress(Span<byte> address, out int addressLength, out ushort port)
    {
        addressLength = 0;
        port = 0;
        if (!TryGetAttribute(StunAttributeType.XorMappedAddress, out var v) || v.Length < 4) return false;
        int family = v[1];
        int length = family switch { 0x01 => 4, 0x02 => 16, _ => -1 };
        if (length < 0 || v.Length != 4 + length || address.Length < length) return false;
        port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(v[2..]) ^ (StunMessage.MagicCookie >> 16));
        // The XOR key is the magic cookie followed by the transaction ID: exactly bytes 4..20 of the header.
        ReadOnlySpan<byte> key = _message.Slice(4, 16);
        for (int i = 0; i < length; i++)
            address[i] = (byte)(v[4 + i] ^ key[i]);
        addressLength = length;
        return true;
    }

    /// <summary>XOR-MAPPED-ADDRESS as an <see cref="IPEndPoint"/> (allocates).</summary>
    public bool TryGetXorMappedAddress(out IPEndPoint? endPoint)
    {
        Span<byte> address = stackalloc byte[16];
        if (!TryGetXorMappedAddress(address, out int length, out ushort port))
        {
            endPoint = null;
            return false;
        }
        endPoint = new IPEndPoint(new IPAddress(address[..length]), port);
        return true;
    }

    private bool TryGetUInt32(StunAttributeType type, out uint value)
    {
        if (TryGetAttribute(type, out var v) && v.Length == 4)
        {
            value = BinaryPrimitives.ReadUInt32BigEndian(v);
            return true;
        }
        value = 0;
        return false;
    }

    private bool TryGetUInt64(StunAttributeType type, out ulong value)
    {
        if (TryGetAttribute(type, out var v) && v.Length == 8)
        {
            value = BinaryPrimitives.ReadUInt64BigEndian(v);
            return true;
        }
        value = 0;
        return false;
    }
}

/// <summary>One attribute: type and (unpadded) value.</summary>
public readonly ref struct StunAttribute
{
    public StunAttribute(StunAttributeType type, ReadOnlySpan<byte> value)
    {
        Type = type;
        Value = value;
    }

    public StunAttributeType Type { get; }
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>Comprehension-required attributes are 0x0000-0x7FFF (RFC 8489 §14).</summary>
    public bool IsComprehensionRequired => (ushort)Type < 0x8000;
}

/// <summary>Enumerates attributes of an already validated attribute region.</summary>
public ref struct StunAttributeEnumerator
{
    private ReadOnlySpan<byte> _remaining;
    private StunAttribute _current;

    internal StunAttributeEnumerator(ReadOnlySpan<byte> attributes)
    {
        _remaining = attributes;
        _current = default;
    }

    public readonly StunAttribute Current => _current;

    public readonly StunAttributeEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_remaining.Length < 4) return false;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(_remaining);
        int length = BinaryPrimitives.ReadUInt16BigEndian(_remaining[2..]);
        int padded = StunMessage.Pad4(length);
        if (4 + padded > _remaining.Length) return false;
        _current = new StunAttribute((StunAttributeType)type, _remaining.Slice(4, length));
        _remaining = _remaining[(4 + padded)..];
        return true;
    }
}
