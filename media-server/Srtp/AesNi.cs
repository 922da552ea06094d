using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace TeleRehab.Media.Srtp;

/// <summary>
/// AES-128 encryption with the .NET AES-NI hardware intrinsics, for the per-packet counter-mode keystream
/// (SRTP AES-CM, RFC 3711 §4.1.1, and the GCM CTR part, NIST SP 800-38D) without a native call per packet.
/// Only used when <see cref="IsSupported"/>; otherwise the contexts use System.Security.Cryptography.
/// Verified against System.Security.Cryptography.Aes in the tests.
/// </summary>
[SkipLocalsInit]
internal sealed class AesNi
{
    private readonly Vector128<byte>[] _roundKeys = new Vector128<byte>[11];

    public static bool IsSupported => X86Aes.IsSupported && Sse2.IsSupported && Ssse3.IsSupported;

    public AesNi(ReadOnlySpan<byte> key)
    {
        if (key.Length != 16) throw new ArgumentException("AES-128 key must be 16 bytes.", nameof(key));
        if (!IsSupported) throw new PlatformNotSupportedException();
        var k = Vector128.Create(key);
        _roundKeys[0] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x01)); _roundKeys[1] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x02)); _roundKeys[2] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x04)); _roundKeys[3] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x08)); _roundKeys[4] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x10)); _roundKeys[5] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x20)); _roundKeys[6] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x40)); _roundKeys[7] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x80)); _roundKeys[8] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x1B)); _roundKeys[9] = k;
        k = Expand(k, X86Aes.KeygenAssist(k, 0x36)); _roundKeys[10] = k;
    }

    private static Vector128<byte> Expand(Vector128<byte> key, Vector128<byte> assist)
    {
        assist = Sse2.Shuffle(assist.AsUInt32(), 0xFF).AsByte();
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        return key ^ assist;
    }

    public Vector128<byte> EncryptBlock(Vector128<byte> block)
    {
        Vector128<byte>[] rk = _roundKeys;
        block ^= rk[0];
        block = X86Aes.Encrypt(block, rk[1]);
        block = X86Aes.Encrypt(block, rk[2]);
        block = X86Aes.Encrypt(block, rk[3]);
        block = X86Aes.Encrypt(block, rk[4]);
        block = X86Aes.Encrypt(block, rk[5]);
        block = X86Aes.Encrypt(block, rk[6]);
        block = X86Aes.Encrypt(block, rk[7]);
        block = X86Aes.Encrypt(block, rk[8]);
        block = X86Aes.Encrypt(block, rk[9]);
        return X86Aes.EncryptLast(block, rk[10]);
    }

    /// <summary>
    /// XORs <paramref name="data"/> with the counter-mode keystream E(k, C_j), where C_0 = <paramref name="iv"/> and
    /// C_j increments the last 32 bits (big-endian) of the block by j. For SRTP the low 16 bits of the IV are zero,
    /// so this equals IV + j (RFC 3711 §4.1.1); for GCM it is inc32 (SP 800-38D §6.5).
    /// </summary>
    public void CtrXor(Span<byte> data, Vector128<byte> iv)
    {
        Vector128<byte>[] rk = _roundKeys;
        Vector128<byte> k0 = rk[0], k1 = rk[1], k2 = rk[2], k3 = rk[3], k4 = rk[4], k5 = rk[5],
            k6 = rk[6], k7 = rk[7], k8 = rk[8], k9 = rk[9], k10 = rk[10];
        Vector128<uint> baseBlock = iv.AsUInt32();
        uint counter = BinaryPrimitives.ReverseEndianness(baseBlock.GetElement(3));
        ref byte d = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        for (; i + 64 <= length; i += 64, counter += 4)
        {
            var b0 = (baseBlock.WithElement(3, BinaryPrimitives.ReverseEndianness(counter)).AsByte()) ^ k0;
            var b1 = (baseBlock.WithElement(3, BinaryPrimitives.ReverseEndianness(counter + 1)).AsByte()) ^ k0;
            var b2 = (baseBlock.WithElement(3, BinaryPrimitives.ReverseEndianness(counter + 2)).AsByte()) ^ k0;
            var b3 = (baseBlock.WithElement(3, BinaryPrimitives.ReverseEndianness(counter + 3)).AsByte()) ^ k0;
            b0 = X86Aes.Encrypt(b0, k1); b1 = X86Aes.Encrypt(b1, k1); b2 = X86Aes.Encrypt(b2, k1); b3 = X86Aes.Encrypt(b3, k1);
            b0 = X86Aes.Encrypt(b0, k2); b1 = X86Aes.Encrypt(b1, k2); b2 = X86Aes.Encrypt(b2, k2); b3 = X86Aes.Encrypt(b3, k2);
            b0 = X86Aes.Encrypt(b0, k3); b1 = X86Aes.Encrypt(b1, k3); b2 = X86Aes.Encrypt(b2, k3); b3 = X86Aes.Encrypt(b3, k3);
            b0 = X86Aes.Encrypt(b0, k4); b1 = X86Aes.Encrypt(b1, k4); b2 = X86Aes.Encrypt(b2, k4); b3 = X86Aes.Encrypt(b3, k4);
            b0 = X86Aes.Encrypt(b0, k5); b1 = X86Aes.Encrypt(b1, k5); b2 = X86Aes.Encrypt(b2, k5); b3 = X86Aes.Encrypt(b3, k5);
            b0 = X86Aes.Encrypt(b0, k6); b1 = X86Aes.Encrypt(b1, k6); b2 = X86Aes.Encrypt(b2, k6); b3 = X86Aes.Encrypt(b3, k6);
            b0 = X86Aes.Encrypt(b0, k7); b1 = X86Aes.Encrypt(b1, k7); b2 = X86Aes.Encrypt(b2, k7); b3 = X86Aes.Encrypt(b3, k7);
            b0 = X86Aes.Encrypt(b0, k8); b1 = X86Aes.Encrypt(b1, k8); b2 = X86Aes.Encrypt(b2, k8); b3 = X86Aes.Encrypt(b3, k8);
            b0 = X86Aes.Encrypt(b0, k9); b1 = X86Aes.Encrypt(b1, k9); b2 = X86Aes.Encrypt(b2, k9); b3 = X86Aes.Encrypt(b3, k9);
            b0 = X86Aes.EncryptLast(b0, k10); b1 = X86Aes.EncryptLast(b1, k10); b2 = X86Aes.EncryptLast(b2, k10); b3 = X86Aes.EncryptLast(b3, k10);
            (Vector128.LoadUnsafe(ref d, i) ^ b0).StoreUnsafe(ref d, i);
            (Vector128.LoadUnsafe(ref d, i + 16) ^ b1).StoreUnsafe(ref d, i + 16);
            (Vector128.LoadUnsafe(ref d, i + 32) ^ b2).StoreUnsafe(ref d, i + 32);
            (Vector128.LoadUnsafe(ref d, i + 48) ^ b3).StoreUnsafe(ref d, i + 48);
        }
        Span<byte> tail = stackalloc byte[16];
        for (; i < length; i += 16, counter++)
        {
            var b = EncryptBlock(baseBlock.WithElement(3, BinaryPrimitives.ReverseEndianness(counter)).AsByte());
            nuint remaining = length - i;
            if (remaining >= 16)
            {
                (Vector128.LoadUnsafe(ref d, i) ^ b).StoreUnsafe(ref d, i);
            }
            else
            {
                b.CopyTo(tail);
                for (nuint t = 0; t < remaining; t++) Unsafe.Add(ref d, i + t) ^= tail[(int)t];
            }
        }
    }
}
