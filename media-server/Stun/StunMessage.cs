using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TeleRehab.Media.Stun;

/// <summary>STUN (RFC 8489) parsing, integrity and fingerprint checks over spans.</summary>
public static class StunMessage
{
    public const int HeaderLength = 20;
    public const uint MagicCookie = 0x2112A442;
    /// <summary>RFC 8489 §14.7: the CRC-32 is XOR'ed with 0x5354554e ("STUN").</summary>
    public const uint FingerprintXor = 0x5354554E;
    public const int MessageIntegrityLength = 20;
    /// <summary>Size of a MESSAGE-INTEGRITY attribute including its header.</summary>
    public const int MessageIntegrityAttributeLength = 24;
    /// <summary>Size of a FINGERPRINT attribute including its header.</summary>
    public const int FingerprintAttributeLength = 8;

    private const int StackCopyLimit = 1024;

    internal static int Pad4(int length) => (length + 3) & ~3;

    /// <summary>
    /// Cheap check (no attribute walk) that a datagram looks like an RFC 5389/8489 STUN message:
    /// first two bits zero, magic cookie, length field a multiple of 4 matching the buffer.
    /// </summary>
    public static bool IsStunMessage(ReadOnlySpan<byte> data) =>
        data.Length >= HeaderLength
        && (data[0] & 0xC0) == 0
        && BinaryPrimitives.ReadUInt32BigEndian(data[4..]) == MagicCookie
        && BinaryPrimitives.ReadUInt16BigEndian(data[2..]) is var length
        && (length & 3) == 0
        && HeaderLength + length == data.Length;

    /// <summary>
    /// Validates the header and the attribute layout of a complete STUN message (the span must be exactly one message).
    /// Never throws; malformed or truncated input returns false.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out StunMessageReader reader)
    {
        reader = default;
        if (!IsStunMessage(data)) return false;

        int integrityOffset = -1;
        int fingerprintOffset = -1;
        int offset = HeaderLength;
        while (offset < data.Length)
        {
            if (fingerprintOffset >= 0) return false; // RFC 8489 §14.7: FINGERPRINT must be the last attribute.
            if (data.Length - offset < 4) return false;
            var type = (StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(data[offset..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 2)..]);
            int padded = Pad4(length);
            if (padded > data.Length - offset - 4) return false;
            if (type == StunAttributeType.MessageIntegrity && integrityOffset < 0)
            {
                if (length != MessageIntegrityLength) return false;
                integrityOffset = offset;
            }
            else if (type == StunAttributeType.Fingerprint)
            {
                if (length != 4) return false;
                fingerprintOffset = offset;
            }
            offset += 4 + padded;
        }

        reader = new StunMessageReader(data, integrityOffset, fingerprintOffset);
        return true;
    }

    /// <summary>
    /// RFC 8489 §14.5 / §9.1.3: verifies MESSAGE-INTEGRITY (HMAC-SHA1). The HMAC covers the message up to (excluding)
    /// the attribute, with the header length adjusted to end just after MESSAGE-INTEGRITY. For short-term credentials
    /// the key is the UTF-8 password. Allocation-free. False if absent, malformed or wrong.
    /// </summary>
    public static bool VerifyMessageIntegrity(ReadOnlySpan<byte> message, ReadOnlySpan<byte> key) =>
        TryParse(message, out var reader) && VerifyMessageIntegrity(reader, key);

    /// <inheritdoc cref="VerifyMessageIntegrity(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>
    public static bool VerifyMessageIntegrity(in StunMessageReader reader, ReadOnlySpan<byte> key)
    {
        int offset = reader.IntegrityOffset;
        if (offset < 0) return false;
        ReadOnlySpan<byte> message = reader.Message;
        Span<byte> hash = stackalloc byte[MessageIntegrityLength];
        ComputeIntegrity(message[..offset], key, hash);
        return CryptographicOperations.FixedTimeEquals(hash, message.Slice(offset + 4, MessageIntegrityLength));
    }

    /// <summary>As <see cref="VerifyMessageIntegrity(in StunMessageReader, ReadOnlySpan{byte})"/> with a reusable (faster) key.</summary>
    public static bool VerifyMessageIntegrity(in StunMessageReader reader, StunIntegrityKey key)
    {
        int offset = reader.IntegrityOffset;
        if (offset < 0) return false;
        ReadOnlySpan<byte> message = reader.Message;
        Span<byte> hash = stackalloc byte[MessageIntegrityLength];
        key.Compute(message[..offset], hash);
        return CryptographicOperations.FixedTimeEquals(hash, message.Slice(offset + 4, MessageIntegrityLength));
    }

    /// <summary>
    /// HMAC-SHA1 of <paramref name="prefix"/> (header + attributes before MESSAGE-INTEGRITY) with the header's length
    /// field replaced by the length the message has once MESSAGE-INTEGRITY is appended.
    /// </summary>
    internal static void ComputeIntegrity(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> key, Span<byte> destination)
    {
        int length = prefix.Length;
        byte[]? rented = null;
        Span<byte> copy = length <= StackCopyLimit
            ? stackalloc byte[StackCopyLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        copy = copy[..length];
        prefix.CopyTo(copy);
        BinaryPrimitives.WriteUInt16BigEndian(copy[2..], (ushort)(length - HeaderLength + MessageIntegrityAttributeLength));
        HMACSHA1.HashData(key, copy, destination);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>RFC 8489 §14.7: verifies FINGERPRINT. False if absent or wrong. Allocation-free.</summary>
    public static bool VerifyFingerprint(ReadOnlySpan<byte> message) =>
        TryParse(message, out var reader) && VerifyFingerprint(reader);

    /// <inheritdoc cref="VerifyFingerprint(ReadOnlySpan{byte})"/>
    public static bool VerifyFingerprint(in StunMessageReader reader)
    {
        int offset = reader.FingerprintOffset;
        if (offset < 0) return false;
        // FINGERPRINT is last, so the header length already counts it as §14.7 requires.
        uint expected = Crc32.Compute(reader.Message[..offset]) ^ FingerprintXor;
        return BinaryPrimitives.ReadUInt32BigEndian(reader.Message[(offset + 4)..]) == expected;
    }

    /// <summary>
    /// For a UDP demultiplexer: the local ufrag (the part before ':') of the USERNAME of an unverified
    /// Binding request (RFC 8445 §7.2.2: USERNAME = "receiver-ufrag:sender-ufrag"). No allocation.
    /// </summary>
    public static bool TryGetLocalUfrag(ReadOnlySpan<byte> message, out ReadOnlySpan<byte> ufrag)
    {
        ufrag = default;
        if (!TryParse(message, out var reader) || !reader.TryGetUsername(out var username)) return false;
        int colon = username.IndexOf((byte)':');
        if (colon <= 0) return false;
        ufrag = username[..colon];
        return true;
    }
}
