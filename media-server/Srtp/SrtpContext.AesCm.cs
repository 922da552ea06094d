using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace TeleRehab.Media.Srtp;

// AES_CM_128_HMAC_SHA1_80 / _32 (RFC 3711 §4.1.1 AES counter mode, §4.2.1 HMAC-SHA1).
public sealed partial class SrtpContext
{
    private int CmProtectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index)
    {
        ApplyKeystream(_rtpAesNi, _rtpEcb, _rtpSaltHigh, _rtpSaltLow, ssrc, index, packet[headerLength..length]);
        // Tag = leftmost bytes of HMAC-SHA1(authenticated portion || ROC) (RFC 3711 §4.2, §4.2.1). The ROC is
        // written into the tag space (>= 4 bytes) so the HMAC runs over one contiguous span; the tag overwrites it.
        Span<byte> mac = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32BigEndian(packet[length..], (uint)(index >> 16));
        _rtpHmac!.Compute(packet[..(length + 4)], mac);
        mac[.._rtpTagLength].CopyTo(packet.Slice(length, _rtpTagLength));
        return length + _rtpTagLength;
    }

    private bool CmUnprotectRtp(Span<byte> packet, int authLength, int headerLength, uint ssrc, ulong index,
        ref SrtpReplayState state, bool known)
    {
        // 1. authenticate (constant-time compare), 2. replay check, 3. decrypt (RFC 3711 §3.3 steps 4-6).
        // The received tag is saved and the ROC written in its place, so the HMAC input is contiguous.
        Span<byte> mac = stackalloc byte[20];
        Span<byte> tag = stackalloc byte[16];
        packet.Slice(authLength, _rtpTagLength).CopyTo(tag);
        BinaryPrimitives.WriteUInt32BigEndian(packet[authLength..], (uint)(index >> 16));
        _rtpHmac!.Compute(packet[..(authLength + 4)], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[.._rtpTagLength], tag[.._rtpTagLength]))
            return false;
        if (known && !state.IsFresh(index)) return false;
        ApplyKeystream(_rtpAesNi, _rtpEcb, _rtpSaltHigh, _rtpSaltLow, ssrc, index, packet[headerLength..authLength]);
        return true;
    }

    private int CmProtectRtcp(Span<byte> packet, int length, uint ssrc, uint index)
    {
        ApplyKeystream(_rtcpAesNi, _rtcpEcb, _rtcpSaltHigh, _rtcpSaltLow, ssrc, index, packet[8..length]);
        BinaryPrimitives.WriteUInt32BigEndian(packet[length..], 0x8000_0000u | index); // E = 1 (§3.4)
        int authLength = length + 4;
        Span<byte> mac = stackalloc byte[20];
        _rtcpHmac!.Compute(packet[..authLength], mac);
        mac[.._rtcpTagLength].CopyTo(packet.Slice(authLength, _rtcpTagLength));
        return authLength + _rtcpTagLength;
    }

    private bool CmUnprotectRtcp(Span<byte> packet, int authLength, uint ssrc, ref SrtpReplayState state, bool known, out uint index)
    {
        Span<byte> mac = stackalloc byte[20];
        _rtcpHmac!.Compute(packet[..authLength], mac);
        uint word = BinaryPrimitives.ReadUInt32BigEndian(packet[(authLength - 4)..]);
        index = word & 0x7FFF_FFFF;
        if (!CryptographicOperations.FixedTimeEquals(mac[.._rtcpTagLength], packet.Slice(authLength, _rtcpTagLength)))
            return false;
        if (known && !state.IsFresh(index)) return false;
        if ((word & 0x8000_0000u) != 0) // E flag: the packet was encrypted
            ApplyKeystream(_rtcpAesNi, _rtcpEcb, _rtcpSaltHigh, _rtcpSaltLow, ssrc, index, packet[8..(authLength - 4)]);
        return true;
    }

    /// <summary>
    /// XORs <paramref name="data"/> with the AES-CM keystream for (SSRC, index) (RFC 3711 §4.1.1):
    /// IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16); block j = E(k_e, IV + j). The counter blocks are
    /// generated with AES-NI intrinsics when available; otherwise written into a per-context buffer and
    /// encrypted with one AES-ECB call (TransformBlock) per 2 KiB chunk.
    /// </summary>
    private void ApplyKeystream(AesNi? aesNi, ICryptoTransform? ecb, ulong saltHigh, ulong saltLow, uint ssrc, ulong index, Span<byte> data)
    {
        // Big-endian 128-bit IV as two 64-bit halves; the low 16 bits of the IV are zero, j fills them.
        ulong ivHigh = saltHigh ^ ssrc;
        ulong ivLow = saltLow ^ (index << 16);
        if (aesNi is not null)
        {
            aesNi.CtrXor(data, Vector128.Create(BinaryPrimitives.ReverseEndianness(ivHigh), BinaryPrimitives.ReverseEndianness(ivLow)).AsByte());
            return;
        }
        ulong highBytes = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(ivHigh) : ivHigh;
        ref byte counters = ref MemoryMarshal.GetArrayDataReference(_counterBlocks);
        int blockBase = 0;
        for (int offset = 0; offset < data.Length; offset += KeystreamChunk)
        {
            int chunk = Math.Min(KeystreamChunk, data.Length - offset);
            int blocks = (chunk + 15) >> 4;
            for (int j = 0; j < blocks; j++)
            {
                ulong low = ivLow | (ushort)(blockBase + j);
                ref byte block = ref Unsafe.Add(ref counters, j << 4);
                Unsafe.WriteUnaligned(ref block, highBytes);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref block, 8), BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(low) : low);
            }
            int bytes = blocks << 4;
            ecb!.TransformBlock(_counterBlocks, 0, bytes, _keystream, 0);
            Xor(data.Slice(offset, chunk), _keystream);
            blockBase += blocks;
        }
    }

    private static void Xor(Span<byte> data, byte[] keystream)
    {
        ref byte d = ref MemoryMarshal.GetReference(data);
        ref byte k = ref MemoryMarshal.GetArrayDataReference(keystream);
        nuint n = (nuint)data.Length;
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 32 <= n; i += 32)
                (Vector256.LoadUnsafe(ref d, i) ^ Vector256.LoadUnsafe(ref k, i)).StoreUnsafe(ref d, i);
        }
        for (; i + 16 <= n; i += 16)
            (Vector128.LoadUnsafe(ref d, i) ^ Vector128.LoadUnsafe(ref k, i)).StoreUnsafe(ref d, i);
        for (; i < n; i++)
            Unsafe.Add(ref d, i) ^= Unsafe.Add(ref k, i);
    }
}
