using System.Security.Cryptography;
using System.Text;
using CsCheck;
using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.Tests.Srtp;

/// <summary>The SRTP HMAC-SHA1 (precomputed pad states) on every backend this machine has.</summary>
public class HmacSha1Tests
{
    /// <summary>All backends usable here: libcrypto only where it loads, the IncrementalHash fallback always.</summary>
    public static TheoryData<string> Backends
    {
        get
        {
            var data = new TheoryData<string> { nameof(HmacSha1Backend.IncrementalHash) };
            if (LibCryptoSha1.IsAvailable) data.Add(nameof(HmacSha1Backend.LibCrypto));
            return data;
        }
    }

    private static HmacSha1Backend Parse(string name) => Enum.Parse<HmacSha1Backend>(name);

    private static byte[] Hex(string s) => Convert.FromHexString(s);

    private static byte[] Repeat(byte value, int count) => Enumerable.Repeat(value, count).ToArray();

    /// <summary>RFC 2202 §3, HMAC-SHA1 test cases 1-7 (key, data, digest).</summary>
    public static IEnumerable<(byte[] Key, byte[] Data, string Digest)> Rfc2202Cases()
    {
        yield return (Repeat(0x0B, 20), Encoding.ASCII.GetBytes("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00");
        yield return (Encoding.ASCII.GetBytes("Jefe"), Encoding.ASCII.GetBytes("what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        yield return (Repeat(0xAA, 20), Repeat(0xDD, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
        yield return (Enumerable.Range(1, 25).Select(i => (byte)i).ToArray(), Repeat(0xCD, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da");
        yield return (Repeat(0x0C, 20), Encoding.ASCII.GetBytes("Test With Truncation"), "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04");
        yield return (Repeat(0xAA, 80), Encoding.ASCII.GetBytes("Test Using Larger Than Block-Size Key - Hash Key First"),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
        yield return (Repeat(0xAA, 80),
            Encoding.ASCII.GetBytes("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
            "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Rfc2202TestCases1To7(string backend)
    {
        int count = 0;
        foreach (var (key, data, digest) in Rfc2202Cases())
        {
            using var hmac = new HmacSha1(key, Parse(backend));
            byte[] mac = new byte[HmacSha1.HashSize];
            hmac.Compute(data, mac);
            Assert.Equal(Hex(digest), mac);
            // RFC 2202 test case 5 also lists the 96-bit truncation; SRTP truncates the same way (to 80 or 32 bits).
            if (count == 4) Assert.Equal(Hex("4c1a03424b55e07fe7f27be1"), mac[..12]);
            count++;
        }
        Assert.Equal(7, count);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void MatchesIncrementalHashForRandomKeysAndInputs(string backend)
    {
        Gen.Select(Gen.Byte.Array[0, 150], Gen.Byte.Array[0, 3000]).Sample((key, data) =>
        {
            using var reference = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, key);
            reference.AppendData(data);
            byte[] expected = reference.GetHashAndReset();
            using var hmac = new HmacSha1(key, Parse(backend));
            byte[] mac = new byte[HmacSha1.HashSize];
            hmac.Compute(data, mac);
            Assert.Equal(expected, mac);
            // The precomputed pad states are not consumed: a second MAC with the same instance is identical.
            Array.Clear(mac);
            hmac.Compute(data, mac);
            Assert.Equal(expected, mac);
        }, iter: 300);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void MatchesIncrementalHashAroundBlockAndPaddingBoundaries(string backend)
    {
        byte[] key = Enumerable.Range(0, 20).Select(i => (byte)(i * 7 + 1)).ToArray();
        using var hmac = new HmacSha1(key, Parse(backend));
        byte[] mac = new byte[HmacSha1.HashSize];
        for (int length = 0; length <= 2 * LibCryptoSha1.SuppressedUpdateLimit + 130; length++)
        {
            if (length > 200 && length % 61 != 0 && Math.Abs(length - LibCryptoSha1.SuppressedUpdateLimit) > 2) continue;
            byte[] data = Enumerable.Range(0, length).Select(i => (byte)(i * 31 + length)).ToArray();
            hmac.Compute(data, mac);
            Assert.Equal(HMACSHA1.HashData(key, data), mac);
        }
    }

    [Fact]
    public void LibCryptoIsTheDefaultOnLinux()
    {
        // libcrypto.so.3 is what .NET's own cryptography loads on Linux, so the fast path must be found there.
        if (!OperatingSystem.IsLinux())
        {
            Assert.NotEqual(HmacSha1Backend.Auto, HmacSha1.DefaultBackend);
            return;
        }
        Assert.True(LibCryptoSha1.IsAvailable);
        Assert.Equal(HmacSha1Backend.LibCrypto, HmacSha1.DefaultBackend);
        using var ctx = SrtpContext.CreateForProtect(SrtpProfile.AesCm128HmacSha1_80, new byte[16], new byte[14]);
        Assert.Equal(HmacSha1Backend.LibCrypto, ctx.HmacBackend);
        using var portable = SrtpContext.CreatePortable(SrtpProfile.AesCm128HmacSha1_80, new byte[16], new byte[14]);
        Assert.Equal(HmacSha1Backend.IncrementalHash, portable.HmacBackend);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ComputeDoesNotAllocate(string backend)
    {
        using var hmac = new HmacSha1(new byte[20], Parse(backend));
        byte[] data = new byte[1216];
        byte[] mac = new byte[HmacSha1.HashSize];
        for (int i = 0; i < 100; i++) hmac.Compute(data, mac);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) hmac.Compute(data, mac);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ShortMacBufferIsRejected(string backend)
    {
        using var hmac = new HmacSha1(new byte[20], Parse(backend));
        Assert.Throws<ArgumentException>(() => hmac.Compute(new byte[10], new byte[19]));
    }
}
