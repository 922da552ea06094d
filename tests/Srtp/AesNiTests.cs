using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using CsCheck;
using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.Tests.Srtp;

/// <summary>The intrinsic AES-CTR and AES-GCM paths agree with System.Security.Cryptography.</summary>
public class AesNiTests
{
    [Fact]
    public void CounterModeMatchesSystemAesEcb()
    {
        if (!AesNi.IsSupported) return; // the packet path falls back to System.Security.Cryptography
        Gen.Select(Gen.Byte.Array[16], Gen.Byte.Array[16], Gen.Byte.Array[0, 700]).Sample((key, iv, data) =>
        {
            iv[12] = 0xFF; iv[13] = 0xFF; iv[14] = 0xFF; iv[15] = 0xF0; // exercise the 32-bit counter wrap
            using var aes = System.Security.Cryptography.Aes.Create();
            aes.Key = key;
            int blocks = (data.Length + 15) / 16;
            byte[] counters = new byte[blocks * 16];
            for (int j = 0; j < blocks; j++)
            {
                iv.CopyTo(counters, j * 16);
                uint c = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(iv.AsSpan(12)) + (uint)j;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(counters.AsSpan(j * 16 + 12), c);
            }
            byte[] keystream = aes.EncryptEcb(counters, PaddingMode.None);
            byte[] expected = data.Select((b, i) => (byte)(b ^ keystream[i])).ToArray();
            byte[] actual = (byte[])data.Clone();
            new AesNi(key).CtrXor(actual, Vector128.Create(iv));
            Assert.Equal(expected, actual);
        }, iter: 300);
    }

    [Fact]
    public void GcmMatchesSystemAesGcm()
    {
        if (!AesGcmNi.IsSupported) return;
        Gen.Select(Gen.Byte.Array[16], Gen.Byte.Array[12], Gen.Byte.Array[0, 100], Gen.Byte.Array[0, 1500]).Sample((key, nonce, aad, data) =>
        {
            using var reference = new AesGcm(key, 16);
            byte[] expectedCipher = new byte[data.Length], expectedTag = new byte[16];
            reference.Encrypt(nonce, data, expectedCipher, expectedTag, aad);

            var gcm = new AesGcmNi(key);
            byte[] buffer = (byte[])data.Clone(), tag = new byte[16];
            gcm.Seal(nonce, buffer, aad, tag);
            Assert.Equal(expectedCipher, buffer);
            Assert.Equal(expectedTag, tag);

            Assert.True(gcm.TryOpen(nonce, buffer, aad, tag));
            Assert.Equal(data, buffer);

            byte[] again = (byte[])expectedCipher.Clone();
            tag[0] ^= 1;
            Assert.False(gcm.TryOpen(nonce, again, aad, tag));
            Assert.Equal(expectedCipher, again); // nothing decrypted when the tag is wrong
        }, iter: 300);
    }
}
