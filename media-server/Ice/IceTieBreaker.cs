using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TeleRehab.Media.Ice;

/// <summary>ICE-CONTROLLING / ICE-CONTROLLED tie breaker values (RFC 8445 §16.1: a 64-bit random number).</summary>
public static class IceTieBreaker
{
    public static ulong NewRandom()
    {
        Span<byte> b = stackalloc byte[8];
        RandomNumberGenerator.Fill(b);
        return BinaryPrimitives.ReadUInt64BigEndian(b);
    }
}
