using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TeleRehab.Media.Srtp;

// AEAD_AES_128_GCM (RFC 7714 §8 SRTP, §9 SRTCP).
public sealed partial class SrtpContext
{
    private const int GcmTagLength = 16;

    private int GcmProtectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index)
    {
        Span<byte> nonce = stackalloc byte[12];
        RtpNonce(nonce, ssrc, index);
        Span<byte> payload = packet[headerLength..length];
        // AAD = the RTP header incl. CSRCs and extension (§8.2); tag appended after the ciphertext.
        Seal(_rtpGcmNi, _rtpGcm, nonce, payload, packet[..headerLength], packet.Slice(length, GcmTagLength));
        return length + GcmTagLength;
    }

    private bool GcmUnprotectRtp(Span<byte> packet, int authLength, int headerLength, uint ssrc, ulong index,
        ref SrtpReplayState state, bool known)
    {
        Span<byte> nonce = stackalloc byte[12];
        RtpNonce(nonce, ssrc, index);
        Span<byte> payload = packet[headerLength..authLength];
        bool fresh = !known || state.IsFresh(index);
        return Open(_rtpGcmNi, _rtpGcm, nonce, payload, packet[..headerLength], packet.Slice(authLength, GcmTagLength), fresh);
    }

    private int GcmProtectRtcp(Span<byte> packet, int length, uint ssrc, uint index)
    {
        Span<byte> nonce = stackalloc byte[12];
        RtcpNonce(nonce, ssrc, index);
        uint word = 0x8000_0000u | index; // E = 1
        // AAD = first 8 bytes of the RTCP header || E || SRTCP index (§9.2, §17); the packet is
        // header || ciphertext || tag || E||index, so the AAD is assembled in a small stack buffer.
        Span<byte> aad = stackalloc byte[12];
        packet[..8].CopyTo(aad);
        BinaryPrimitives.WriteUInt32BigEndian(aad[8..], word);
        Span<byte> body = packet[8..length];
        Seal(_rtcpGcmNi, _rtcpGcm, nonce, body, aad, packet.Slice(length, GcmTagLength));
        BinaryPrimitives.WriteUInt32BigEndian(packet[(length + GcmTagLength)..], word);
        return length + GcmTagLength + 4;
    }

    private bool GcmUnprotectRtcp(Span<byte> packet, int length, uint ssrc, ref SrtpReplayState state, bool known, out uint index)
    {
        // length >= 8 + 16 + 4 was checked by the caller (tag length 16 for GCM).
        uint word = BinaryPrimitives.ReadUInt32BigEndian(packet[(length - 4)..]);
        index = word & 0x7FFF_FFFF;
        bool fresh = !known || state.IsFresh(index);
        Span<byte> nonce = stackalloc byte[12];
        RtcpNonce(nonce, ssrc, index);
        int tagStart = length - 4 - GcmTagLength;
        if ((word & 0x8000_0000u) != 0)
        {
            Span<byte> aad = stackalloc byte[12];
            packet[..8].CopyTo(aad);
            BinaryPrimitives.WriteUInt32BigEndian(aad[8..], word);
            Span<byte> body = packet[8..tagStart];
            return Open(_rtcpGcmNi, _rtcpGcm, nonce, body, aad, packet.Slice(tagStart, GcmTagLength), fresh);
        }

        // E = 0 (§9.3): nothing encrypted, the whole RTCP packet || E||index is AAD. Move the tag aside and the
        // index word next to the packet so the AAD is contiguous.
        Span<byte> tag = stackalloc byte[GcmTagLength];
        packet.Slice(tagStart, GcmTagLength).CopyTo(tag);
        BinaryPrimitives.WriteUInt32BigEndian(packet[tagStart..], word);
        return Open(_rtcpGcmNi, _rtcpGcm, nonce, [], packet[..(tagStart + 4)], tag, fresh);
    }

    private static void Seal(AesGcmNi? gcmNi, AesGcm? gcm, ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> aad, Span<byte> tag)
    {
        if (gcmNi is not null) gcmNi.Seal(nonce, data, aad, tag);
        else gcm!.Encrypt(nonce, data, data, tag, aad);
    }

    /// <summary>
    /// Authenticates, applies the replay verdict <paramref name="fresh"/>, then decrypts in place (RFC 3711 §3.3
    /// order). The System AesGcm fallback verifies and decrypts in one call, so there the replay verdict is applied
    /// first; either way nothing is committed unless both pass.
    /// </summary>
    private static bool Open(AesGcmNi? gcmNi, AesGcm? gcm, ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> aad,
        ReadOnlySpan<byte> tag, bool fresh)
    {
        if (gcmNi is not null)
        {
            if (!gcmNi.Verify(nonce, data, aad, tag) || !fresh) return false;
            gcmNi.Decrypt(nonce, data);
            return true;
        }
        if (!fresh) return false;
        try
        {
            gcm!.Decrypt(nonce, data, tag, data, aad);
            return true;
        }
        catch (CryptographicException)
        {
            // AuthenticationTagMismatchException: a forged or corrupted packet. AesGcm has no non-throwing
            // decrypt; the exception stays inside this method.
            return false;
        }
    }

    /// <summary>IV = (0x0000 || SSRC || ROC || SEQ) XOR salt (RFC 7714 §8.1).</summary>
    private void RtpNonce(Span<byte> nonce, uint ssrc, ulong index)
    {
        nonce[0] = 0;
        nonce[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(nonce[2..], ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[6..], (uint)(index >> 16));
        BinaryPrimitives.WriteUInt16BigEndian(nonce[10..], (ushort)index);
        XorSalt(nonce, _rtpSalt);
    }

    /// <summary>IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) XOR salt (RFC 7714 §9.1).</summary>
    private void RtcpNonce(Span<byte> nonce, uint ssrc, uint index)
    {
        nonce[0] = 0;
        nonce[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(nonce[2..], ssrc);
        nonce[6] = 0;
        nonce[7] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], index & 0x7FFF_FFFF);
        XorSalt(nonce, _rtcpSalt);
    }

    private static void XorSalt(Span<byte> nonce, byte[] salt)
    {
        ulong a = BinaryPrimitives.ReadUInt64LittleEndian(nonce) ^ BinaryPrimitives.ReadUInt64LittleEndian(salt);
        uint b = BinaryPrimitives.ReadUInt32LittleEndian(nonce[8..]) ^ BinaryPrimitives.ReadUInt32LittleEndian(salt.AsSpan(8));
        BinaryPrimitives.WriteUInt64LittleEndian(nonce, a);
        BinaryPrimitives.WriteUInt32LittleEndian(nonce[8..], b);
    }
}
