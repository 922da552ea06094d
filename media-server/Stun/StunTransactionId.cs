using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TeleRehab.Media.Stun;

/// <summary>The 96-bit STUN transaction ID (RFC 8489 §5), stored by value.</summary>
public readonly struct StunTransactionId : IEquatable<StunTransactionId>
{
    public const int Length = 12;

    private readonly ulong _high;
    private readonly uint _low;

    private StunTransactionId(ulong high, uint low)
    {
        _high = high;
        _low = low;
    }

    /// <summary>A new cryptographically random transaction ID (RFC 8489 §6: uniformly and randomly chosen).</summary>
    public static StunTransactionId NewRandom()
    {
        Span<byte> bytes = stackalloc byte[Length];
        RandomNumberGenerator.Fill(bytes);
        return Read(bytes);
    }

    /// <summary>Reads 12 bytes; throws if fewer are given.</summary>
    public static StunTransactionId Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Length) throw new ArgumentException("A transaction ID is 12 bytes.", nameof(bytes));
        return new StunTransactionId(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], _low);
    }

    public bool Equals(StunTransactionId other) => _high == other._high && _low == other._low;
    public override bool Equals(object? obj) => obj is StunTransactionId other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(_high, _low);
    public static bool operator ==(StunTransactionId left, StunTransactionId right) => left.Equals(right);
    public static bool operator !=(StunTransactionId left, StunTransactionId right) => !left.Equals(right);
    public override string ToString() => $"{_high:x16}{_low:x8}";
}
