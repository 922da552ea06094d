using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace TeleRehab.Media.Srtp;

/// <summary>The five 32-bit chaining words H0..H4 of a SHA-1 computation (FIPS 180-4 §6.1).</summary>
internal struct Sha1State
{
    public uint H0, H1, H2, H3, H4;

    /// <summary>The SHA-1 initial hash value H(0) (FIPS 180-4 §5.3.1).</summary>
    public static Sha1State Initial => new() { H0 = 0x67452301u, H1 = 0xEFCDAB89u, H2 = 0x98BADCFEu, H3 = 0x10325476u, H4 = 0xC3D2E1F0u };
}

/// <summary>
/// A portable, allocation-free SHA-1 (FIPS 180-4 §6.1.2) in plain scalar C#: the compression function and a
/// finaliser that continues from a given chaining state, which is what HMAC with precomputed pad states needs.
/// </summary>
[SkipLocalsInit]
internal static class Sha1Managed
{
    public const int BlockSize = 64;
    public const int HashSize = 20;

    /// <summary>
    /// Finishes a SHA-1 whose first <paramref name="prefixBytes"/> (a multiple of 64) bytes are already folded into
    /// <paramref name="state"/>: hashes <paramref name="data"/>, pads (FIPS 180-4 §5.1.1) and writes the 20-byte digest.
    /// </summary>
    public static void Finish(Sha1State state, ulong prefixBytes, ReadOnlySpan<byte> data, Span<byte> digest)
    {
        if (digest.Length < HashSize) throw new ArgumentException("Digest buffer too small.", nameof(digest));
        int full = data.Length & ~(BlockSize - 1);
        if (full > 0) Compress(ref state, data[..full]);
        int rest = data.Length - full;
        Span<byte> tail = stackalloc byte[2 * BlockSize];
        tail.Clear();
        data[full..].CopyTo(tail);
        tail[rest] = 0x80;
        int tailLength = rest < BlockSize - 8 ? BlockSize : 2 * BlockSize;
        BinaryPrimitives.WriteUInt64BigEndian(tail[(tailLength - 8)..], (prefixBytes + (ulong)data.Length) << 3);
        Compress(ref state, tail[..tailLength]);
        WriteDigest(in state, digest);
    }

    public static void WriteDigest(in Sha1State state, Span<byte> digest)
    {
        BinaryPrimitives.WriteUInt32BigEndian(digest, state.H0);
        BinaryPrimitives.WriteUInt32BigEndian(digest[4..], state.H1);
        BinaryPrimitives.WriteUInt32BigEndian(digest[8..], state.H2);
        BinaryPrimitives.WriteUInt32BigEndian(digest[12..], state.H3);
        BinaryPrimitives.WriteUInt32BigEndian(digest[16..], state.H4);
    }

    /// <summary>Applies the compression function to each 64-byte block of <paramref name="blocks"/> (length a multiple of 64).</summary>
    public static void Compress(ref Sha1State state, ReadOnlySpan<byte> blocks)
    {
        if ((blocks.Length & (BlockSize - 1)) != 0) throw new ArgumentException("Not a whole number of blocks.", nameof(blocks));
        ref byte block = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(blocks);
        uint h0 = state.H0, h1 = state.H1, h2 = state.H2, h3 = state.H3, h4 = state.H4;
        for (int n = blocks.Length / BlockSize; n > 0; n--)
        {
            uint a = h0, b = h1, c = h2, d = h3, e = h4;
            uint w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15;
            // 80 rounds, unrolled so that the a..e renaming costs nothing; W[t] kept in a 16-word ring (§6.1.3).
            e += BitOperations.RotateLeft(a, 5) + ((b & (c ^ d)) ^ d) + 0x5A827999u + (w0 = Load(ref block, 0)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + ((a & (b ^ c)) ^ c) + 0x5A827999u + (w1 = Load(ref block, 4)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + ((e & (a ^ b)) ^ b) + 0x5A827999u + (w2 = Load(ref block, 8)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + ((d & (e ^ a)) ^ a) + 0x5A827999u + (w3 = Load(ref block, 12)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + ((c & (d ^ e)) ^ e) + 0x5A827999u + (w4 = Load(ref block, 16)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + ((b & (c ^ d)) ^ d) + 0x5A827999u + (w5 = Load(ref block, 20)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + ((a & (b ^ c)) ^ c) + 0x5A827999u + (w6 = Load(ref block, 24)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + ((e & (a ^ b)) ^ b) + 0x5A827999u + (w7 = Load(ref block, 28)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + ((d & (e ^ a)) ^ a) + 0x5A827999u + (w8 = Load(ref block, 32)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + ((c & (d ^ e)) ^ e) + 0x5A827999u + (w9 = Load(ref block, 36)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + ((b & (c ^ d)) ^ d) + 0x5A827999u + (w10 = Load(ref block, 40)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + ((a & (b ^ c)) ^ c) + 0x5A827999u + (w11 = Load(ref block, 44)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + ((e & (a ^ b)) ^ b) + 0x5A827999u + (w12 = Load(ref block, 48)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + ((d & (e ^ a)) ^ a) + 0x5A827999u + (w13 = Load(ref block, 52)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + ((c & (d ^ e)) ^ e) + 0x5A827999u + (w14 = Load(ref block, 56)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + ((b & (c ^ d)) ^ d) + 0x5A827999u + (w15 = Load(ref block, 60)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + ((a & (b ^ c)) ^ c) + 0x5A827999u + (w0 = BitOperations.RotateLeft(w13 ^ w8 ^ w2 ^ w0, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + ((e & (a ^ b)) ^ b) + 0x5A827999u + (w1 = BitOperations.RotateLeft(w14 ^ w9 ^ w3 ^ w1, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + ((d & (e ^ a)) ^ a) + 0x5A827999u + (w2 = BitOperations.RotateLeft(w15 ^ w10 ^ w4 ^ w2, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + ((c & (d ^ e)) ^ e) + 0x5A827999u + (w3 = BitOperations.RotateLeft(w0 ^ w11 ^ w5 ^ w3, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0x6ED9EBA1u + (w4 = BitOperations.RotateLeft(w1 ^ w12 ^ w6 ^ w4, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0x6ED9EBA1u + (w5 = BitOperations.RotateLeft(w2 ^ w13 ^ w7 ^ w5, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0x6ED9EBA1u + (w6 = BitOperations.RotateLeft(w3 ^ w14 ^ w8 ^ w6, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0x6ED9EBA1u + (w7 = BitOperations.RotateLeft(w4 ^ w15 ^ w9 ^ w7, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0x6ED9EBA1u + (w8 = BitOperations.RotateLeft(w5 ^ w0 ^ w10 ^ w8, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0x6ED9EBA1u + (w9 = BitOperations.RotateLeft(w6 ^ w1 ^ w11 ^ w9, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0x6ED9EBA1u + (w10 = BitOperations.RotateLeft(w7 ^ w2 ^ w12 ^ w10, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0x6ED9EBA1u + (w11 = BitOperations.RotateLeft(w8 ^ w3 ^ w13 ^ w11, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0x6ED9EBA1u + (w12 = BitOperations.RotateLeft(w9 ^ w4 ^ w14 ^ w12, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0x6ED9EBA1u + (w13 = BitOperations.RotateLeft(w10 ^ w5 ^ w15 ^ w13, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0x6ED9EBA1u + (w14 = BitOperations.RotateLeft(w11 ^ w6 ^ w0 ^ w14, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0x6ED9EBA1u + (w15 = BitOperations.RotateLeft(w12 ^ w7 ^ w1 ^ w15, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0x6ED9EBA1u + (w0 = BitOperations.RotateLeft(w13 ^ w8 ^ w2 ^ w0, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0x6ED9EBA1u + (w1 = BitOperations.RotateLeft(w14 ^ w9 ^ w3 ^ w1, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0x6ED9EBA1u + (w2 = BitOperations.RotateLeft(w15 ^ w10 ^ w4 ^ w2, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0x6ED9EBA1u + (w3 = BitOperations.RotateLeft(w0 ^ w11 ^ w5 ^ w3, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0x6ED9EBA1u + (w4 = BitOperations.RotateLeft(w1 ^ w12 ^ w6 ^ w4, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0x6ED9EBA1u + (w5 = BitOperations.RotateLeft(w2 ^ w13 ^ w7 ^ w5, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0x6ED9EBA1u + (w6 = BitOperations.RotateLeft(w3 ^ w14 ^ w8 ^ w6, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0x6ED9EBA1u + (w7 = BitOperations.RotateLeft(w4 ^ w15 ^ w9 ^ w7, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + ((b & c) | (d & (b | c))) + 0x8F1BBCDCu + (w8 = BitOperations.RotateLeft(w5 ^ w0 ^ w10 ^ w8, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + ((a & b) | (c & (a | b))) + 0x8F1BBCDCu + (w9 = BitOperations.RotateLeft(w6 ^ w1 ^ w11 ^ w9, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + ((e & a) | (b & (e | a))) + 0x8F1BBCDCu + (w10 = BitOperations.RotateLeft(w7 ^ w2 ^ w12 ^ w10, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + ((d & e) | (a & (d | e))) + 0x8F1BBCDCu + (w11 = BitOperations.RotateLeft(w8 ^ w3 ^ w13 ^ w11, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + ((c & d) | (e & (c | d))) + 0x8F1BBCDCu + (w12 = BitOperations.RotateLeft(w9 ^ w4 ^ w14 ^ w12, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + ((b & c) | (d & (b | c))) + 0x8F1BBCDCu + (w13 = BitOperations.RotateLeft(w10 ^ w5 ^ w15 ^ w13, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + ((a & b) | (c & (a | b))) + 0x8F1BBCDCu + (w14 = BitOperations.RotateLeft(w11 ^ w6 ^ w0 ^ w14, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + ((e & a) | (b & (e | a))) + 0x8F1BBCDCu + (w15 = BitOperations.RotateLeft(w12 ^ w7 ^ w1 ^ w15, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + ((d & e) | (a & (d | e))) + 0x8F1BBCDCu + (w0 = BitOperations.RotateLeft(w13 ^ w8 ^ w2 ^ w0, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + ((c & d) | (e & (c | d))) + 0x8F1BBCDCu + (w1 = BitOperations.RotateLeft(w14 ^ w9 ^ w3 ^ w1, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + ((b & c) | (d & (b | c))) + 0x8F1BBCDCu + (w2 = BitOperations.RotateLeft(w15 ^ w10 ^ w4 ^ w2, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + ((a & b) | (c & (a | b))) + 0x8F1BBCDCu + (w3 = BitOperations.RotateLeft(w0 ^ w11 ^ w5 ^ w3, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + ((e & a) | (b & (e | a))) + 0x8F1BBCDCu + (w4 = BitOperations.RotateLeft(w1 ^ w12 ^ w6 ^ w4, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + ((d & e) | (a & (d | e))) + 0x8F1BBCDCu + (w5 = BitOperations.RotateLeft(w2 ^ w13 ^ w7 ^ w5, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + ((c & d) | (e & (c | d))) + 0x8F1BBCDCu + (w6 = BitOperations.RotateLeft(w3 ^ w14 ^ w8 ^ w6, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + ((b & c) | (d & (b | c))) + 0x8F1BBCDCu + (w7 = BitOperations.RotateLeft(w4 ^ w15 ^ w9 ^ w7, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + ((a & b) | (c & (a | b))) + 0x8F1BBCDCu + (w8 = BitOperations.RotateLeft(w5 ^ w0 ^ w10 ^ w8, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + ((e & a) | (b & (e | a))) + 0x8F1BBCDCu + (w9 = BitOperations.RotateLeft(w6 ^ w1 ^ w11 ^ w9, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + ((d & e) | (a & (d | e))) + 0x8F1BBCDCu + (w10 = BitOperations.RotateLeft(w7 ^ w2 ^ w12 ^ w10, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + ((c & d) | (e & (c | d))) + 0x8F1BBCDCu + (w11 = BitOperations.RotateLeft(w8 ^ w3 ^ w13 ^ w11, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0xCA62C1D6u + (w12 = BitOperations.RotateLeft(w9 ^ w4 ^ w14 ^ w12, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0xCA62C1D6u + (w13 = BitOperations.RotateLeft(w10 ^ w5 ^ w15 ^ w13, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0xCA62C1D6u + (w14 = BitOperations.RotateLeft(w11 ^ w6 ^ w0 ^ w14, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0xCA62C1D6u + (w15 = BitOperations.RotateLeft(w12 ^ w7 ^ w1 ^ w15, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0xCA62C1D6u + (w0 = BitOperations.RotateLeft(w13 ^ w8 ^ w2 ^ w0, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0xCA62C1D6u + (w1 = BitOperations.RotateLeft(w14 ^ w9 ^ w3 ^ w1, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0xCA62C1D6u + (w2 = BitOperations.RotateLeft(w15 ^ w10 ^ w4 ^ w2, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0xCA62C1D6u + (w3 = BitOperations.RotateLeft(w0 ^ w11 ^ w5 ^ w3, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0xCA62C1D6u + (w4 = BitOperations.RotateLeft(w1 ^ w12 ^ w6 ^ w4, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0xCA62C1D6u + (w5 = BitOperations.RotateLeft(w2 ^ w13 ^ w7 ^ w5, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0xCA62C1D6u + (w6 = BitOperations.RotateLeft(w3 ^ w14 ^ w8 ^ w6, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0xCA62C1D6u + (w7 = BitOperations.RotateLeft(w4 ^ w15 ^ w9 ^ w7, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0xCA62C1D6u + (w8 = BitOperations.RotateLeft(w5 ^ w0 ^ w10 ^ w8, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0xCA62C1D6u + (w9 = BitOperations.RotateLeft(w6 ^ w1 ^ w11 ^ w9, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0xCA62C1D6u + (w10 = BitOperations.RotateLeft(w7 ^ w2 ^ w12 ^ w10, 1)); c = BitOperations.RotateLeft(c, 30);
            e += BitOperations.RotateLeft(a, 5) + (b ^ c ^ d) + 0xCA62C1D6u + (w11 = BitOperations.RotateLeft(w8 ^ w3 ^ w13 ^ w11, 1)); b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + (a ^ b ^ c) + 0xCA62C1D6u + (w12 = BitOperations.RotateLeft(w9 ^ w4 ^ w14 ^ w12, 1)); a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + (e ^ a ^ b) + 0xCA62C1D6u + (w13 = BitOperations.RotateLeft(w10 ^ w5 ^ w15 ^ w13, 1)); e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + (d ^ e ^ a) + 0xCA62C1D6u + (w14 = BitOperations.RotateLeft(w11 ^ w6 ^ w0 ^ w14, 1)); d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + (c ^ d ^ e) + 0xCA62C1D6u + (w15 = BitOperations.RotateLeft(w12 ^ w7 ^ w1 ^ w15, 1)); c = BitOperations.RotateLeft(c, 30);
            h0 += a; h1 += b; h2 += c; h3 += d; h4 += e;
            block = ref Unsafe.Add(ref block, BlockSize);
        }
        state.H0 = h0; state.H1 = h1; state.H2 = h2; state.H3 = h3; state.H4 = h4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Load(ref byte block, int offset)
    {
        uint v = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, offset));
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(v) : v;
    }
}
