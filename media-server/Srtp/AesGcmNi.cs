using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TeleRehab.Media.Srtp;

/// <summary>
/// AES-128-GCM (NIST SP 800-38D) with a 96-bit IV and 16-byte tag, built on <see cref="AesNi"/> and a PCLMULQDQ
/// GHASH with 4-block aggregated reduction. In-place, allocation-free and exception-free: <see cref="TryOpen"/>
/// verifies the tag (constant time) before anything is decrypted. Used for AEAD_AES_128_GCM (RFC 7714) when the
/// CPU supports it; verified against System.Security.Cryptography.AesGcm in the tests.
/// </summary>
[SkipLocalsInit]
internal sealed class AesGcmNi
{
    public const int TagLength = 16;

    private static readonly Vector128<byte> ByteReverse = Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);

    private readonly AesNi _aes;
    // Powers of the hash key H = E(K, 0^128), byte-reflected for the carry-less multiply.
    private readonly Vector128<ulong> _h1, _h2, _h3, _h4;
    // H^8..H^1 in pairs for the 256-bit VPCLMULQDQ path (lane 0 multiplies the earlier block).
    private readonly Vector256<ulong> _h87, _h65, _h43, _h21;
    private static readonly Vector256<byte> ByteReverse256 = Vector256.Create(ByteReverse, ByteReverse);

    public static bool IsSupported => AesNi.IsSupported && Pclmulqdq.IsSupported;

    public AesGcmNi(ReadOnlySpan<byte> key)
    {
        _aes = new AesNi(key);
        _h1 = Ssse3.Shuffle(_aes.EncryptBlock(Vector128<byte>.Zero), ByteReverse).AsUInt64();
        _h2 = Multiply(_h1, _h1);
        _h3 = Multiply(_h2, _h1);
        _h4 = Multiply(_h3, _h1);
        var h5 = Multiply(_h4, _h1);
        var h6 = Multiply(h5, _h1);
        var h7 = Multiply(h6, _h1);
        var h8 = Multiply(h7, _h1);
        _h87 = Vector256.Create(h8, h7);
        _h65 = Vector256.Create(h6, h5);
        _h43 = Vector256.Create(_h4, _h3);
        _h21 = Vector256.Create(_h2, _h1);
    }

    private static bool Wide => Pclmulqdq.V256.IsSupported && Avx2.IsSupported;

    /// <summary>Encrypts <paramref name="data"/> in place and writes the tag over (aad, ciphertext).</summary>
    public void Seal(ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> aad, Span<byte> tag)
    {
        Vector128<byte> j0 = CounterBlock(nonce, 1);
        _aes.CtrXor(data, CounterBlock(nonce, 2));
        Vector128<byte> s = Ghash(aad, data) ^ _aes.EncryptBlock(j0);
        s.CopyTo(tag);
    }

    /// <summary>Verifies the tag over (aad, ciphertext) and, only if it matches, decrypts <paramref name="data"/> in place.</summary>
    public bool TryOpen(ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> tag)
    {
        if (!Verify(nonce, data, aad, tag)) return false;
        Decrypt(nonce, data);
        return true;
    }

    /// <summary>Checks the tag over (aad, ciphertext) in constant time without decrypting anything.</summary>
    public bool Verify(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> tag)
    {
        if (tag.Length != TagLength) return false;
        Vector128<byte> expected = Ghash(aad, ciphertext) ^ _aes.EncryptBlock(CounterBlock(nonce, 1));
        // A full-width vector compare: no data-dependent early exit (constant time like FixedTimeEquals).
        return (expected ^ Vector128.Create(tag)) == Vector128<byte>.Zero;
    }

    /// <summary>Decrypts in place (CTR from inc32(J0)); call only after <see cref="Verify"/> succeeded.</summary>
    public void Decrypt(ReadOnlySpan<byte> nonce, Span<byte> data) => _aes.CtrXor(data, CounterBlock(nonce, 2));

    /// <summary>IV (96 bits) || counter (32 bits, big-endian), SP 800-38D §7.1.</summary>
    private static Vector128<byte> CounterBlock(ReadOnlySpan<byte> nonce, uint counter)
    {
        ulong low = BinaryPrimitives.ReadUInt64LittleEndian(nonce);
        ulong high = BinaryPrimitives.ReadUInt32LittleEndian(nonce[8..12]) | ((ulong)BinaryPrimitives.ReverseEndianness(counter) << 32);
        return Vector128.Create(low, high).AsByte();
    }

    /// <summary>GHASH_H(A || pad || C || pad || [len(A)]64 || [len(C)]64), returned in normal byte order.</summary>
    private Vector128<byte> Ghash(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext)
    {
        Vector128<ulong> y = Vector128<ulong>.Zero;
        y = Absorb(y, aad);
        y = Absorb(y, ciphertext);
        Vector128<byte> lengths = Vector128.Create(
            BinaryPrimitives.ReverseEndianness((ulong)aad.Length * 8),
            BinaryPrimitives.ReverseEndianness((ulong)ciphertext.Length * 8)).AsByte();
        y = Multiply(y ^ Ssse3.Shuffle(lengths, ByteReverse).AsUInt64(), _h1);
        return Ssse3.Shuffle(y.AsByte(), ByteReverse);
    }

    private Vector128<ulong> Absorb(Vector128<ulong> y, ReadOnlySpan<byte> input)
    {
        ref byte p = ref MemoryMarshal.GetReference(input);
        nuint length = (nuint)input.Length, i = 0;
        Vector128<ulong> h1 = _h1, h2 = _h2, h3 = _h3, h4 = _h4;
        if (Wide && length >= 128)
        {
            Vector256<ulong> h87 = _h87, h65 = _h65, h43 = _h43, h21 = _h21;
            for (; i + 128 <= length; i += 128)
            {
                // Eight blocks, two per 256-bit register: Y' = sum (X_k [^ Y for k=1]) * H^(9-k), one reduction.
                var x12 = Avx2.Shuffle(Vector256.LoadUnsafe(ref p, i), ByteReverse256).AsUInt64() ^ Vector256.Create(y, Vector128<ulong>.Zero);
                var x34 = Avx2.Shuffle(Vector256.LoadUnsafe(ref p, i + 32), ByteReverse256).AsUInt64();
                var x56 = Avx2.Shuffle(Vector256.LoadUnsafe(ref p, i + 64), ByteReverse256).AsUInt64();
                var x78 = Avx2.Shuffle(Vector256.LoadUnsafe(ref p, i + 96), ByteReverse256).AsUInt64();
                var t0 = Pclmulqdq.V256.CarrylessMultiply(x12, h87, 0x00) ^ Pclmulqdq.V256.CarrylessMultiply(x34, h65, 0x00)
                    ^ Pclmulqdq.V256.CarrylessMultiply(x56, h43, 0x00) ^ Pclmulqdq.V256.CarrylessMultiply(x78, h21, 0x00);
                var t1 = Pclmulqdq.V256.CarrylessMultiply(x12, h87, 0x11) ^ Pclmulqdq.V256.CarrylessMultiply(x34, h65, 0x11)
                    ^ Pclmulqdq.V256.CarrylessMultiply(x56, h43, 0x11) ^ Pclmulqdq.V256.CarrylessMultiply(x78, h21, 0x11);
                var t2 = Pclmulqdq.V256.CarrylessMultiply(x12, h87, 0x10) ^ Pclmulqdq.V256.CarrylessMultiply(x12, h87, 0x01)
                    ^ Pclmulqdq.V256.CarrylessMultiply(x34, h65, 0x10) ^ Pclmulqdq.V256.CarrylessMultiply(x34, h65, 0x01)
                    ^ Pclmulqdq.V256.CarrylessMultiply(x56, h43, 0x10) ^ Pclmulqdq.V256.CarrylessMultiply(x56, h43, 0x01)
                    ^ Pclmulqdq.V256.CarrylessMultiply(x78, h21, 0x10) ^ Pclmulqdq.V256.CarrylessMultiply(x78, h21, 0x01);
                var lo0 = t0.GetLower() ^ t0.GetUpper();
                var hi0 = t1.GetLower() ^ t1.GetUpper();
                var mid = t2.GetLower() ^ t2.GetUpper();
                y = Reduce(lo0 ^ Sse2.ShiftLeftLogical128BitLane(mid, 8), hi0 ^ Sse2.ShiftRightLogical128BitLane(mid, 8));
            }
        }
        for (; i + 64 <= length; i += 64)
        {
            // Y' = (Y ^ X1)·H^4 ^ X2·H^3 ^ X3·H^2 ^ X4·H: four unreduced products, one reduction.
            var x1 = Ssse3.Shuffle(Vector128.LoadUnsafe(ref p, i), ByteReverse).AsUInt64() ^ y;
            var x2 = Ssse3.Shuffle(Vector128.LoadUnsafe(ref p, i + 16), ByteReverse).AsUInt64();
            var x3 = Ssse3.Shuffle(Vector128.LoadUnsafe(ref p, i + 32), ByteReverse).AsUInt64();
            var x4 = Ssse3.Shuffle(Vector128.LoadUnsafe(ref p, i + 48), ByteReverse).AsUInt64();
            ClMul(x1, h4, out var lo, out var hi);
            ClMul(x2, h3, out var lo2, out var hi2);
            ClMul(x3, h2, out var lo3, out var hi3);
            ClMul(x4, h1, out var lo4, out var hi4);
            y = Reduce(lo ^ lo2 ^ lo3 ^ lo4, hi ^ hi2 ^ hi3 ^ hi4);
        }
        for (; i + 16 <= length; i += 16)
            y = Multiply(y ^ Ssse3.Shuffle(Vector128.LoadUnsafe(ref p, i), ByteReverse).AsUInt64(), h1);
        if (i < length)
        {
            Span<byte> last = stackalloc byte[16];
            last.Clear();
            input[(int)i..].CopyTo(last);
            y = Multiply(y ^ Ssse3.Shuffle(Vector128.Create((ReadOnlySpan<byte>)last), ByteReverse).AsUInt64(), h1);
        }
        return y;
    }

    private static Vector128<ulong> Multiply(Vector128<ulong> a, Vector128<ulong> b)
    {
        ClMul(a, b, out var lo, out var hi);
        return Reduce(lo, hi);
    }

    /// <summary>256-bit carry-less product hi:lo of two 128-bit values (schoolbook, four PCLMULQDQ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ClMul(Vector128<ulong> a, Vector128<ulong> b, out Vector128<ulong> lo, out Vector128<ulong> hi)
    {
        var t0 = Pclmulqdq.CarrylessMultiply(a, b, 0x00);
        var t1 = Pclmulqdq.CarrylessMultiply(a, b, 0x11);
        var t2 = Pclmulqdq.CarrylessMultiply(a, b, 0x10) ^ Pclmulqdq.CarrylessMultiply(a, b, 0x01);
        lo = t0 ^ Sse2.ShiftLeftLogical128BitLane(t2, 8);
        hi = t1 ^ Sse2.ShiftRightLogical128BitLane(t2, 8);
    }

    /// <summary>
    /// Reduces a 256-bit product of byte-reflected operands modulo x^128 + x^7 + x^2 + x + 1 in GCM's bit-reflected
    /// convention: shift the product left by one bit, then fold the low half in (the Intel CLMUL-for-GCM method).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Reduce(Vector128<ulong> lo, Vector128<ulong> hi)
    {
        var l = lo.AsUInt32();
        var h = hi.AsUInt32();
        // (hi:lo) <<= 1 across the full 256 bits.
        var carryLo = Sse2.ShiftRightLogical(l, 31);
        var carryHi = Sse2.ShiftRightLogical(h, 31);
        l = Sse2.ShiftLeftLogical(l, 1);
        h = Sse2.ShiftLeftLogical(h, 1);
        var crossing = Sse2.ShiftRightLogical128BitLane(carryLo, 12);
        carryHi = Sse2.ShiftLeftLogical128BitLane(carryHi, 4);
        carryLo = Sse2.ShiftLeftLogical128BitLane(carryLo, 4);
        l |= carryLo;
        h |= carryHi | crossing;
        // First phase of the reduction.
        var a = Sse2.ShiftLeftLogical(l, 31) ^ Sse2.ShiftLeftLogical(l, 30) ^ Sse2.ShiftLeftLogical(l, 25);
        var carry = Sse2.ShiftRightLogical128BitLane(a, 4);
        a = Sse2.ShiftLeftLogical128BitLane(a, 12);
        l ^= a;
        // Second phase.
        var b = Sse2.ShiftRightLogical(l, 1) ^ Sse2.ShiftRightLogical(l, 2) ^ Sse2.ShiftRightLogical(l, 7) ^ carry;
        l ^= b;
        return (h ^ l).AsUInt64();
    }
}
