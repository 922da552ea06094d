using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.Bench;

/// <summary>
/// SRTP protect / unprotect of one RTP packet with a 12-byte header and a 1,200-byte payload.
/// <para>ProtectRtp: each op copies the plain packet into the work buffer (a 1.2 KB memcpy, ~20 ns, included)
/// and protects it; the sequence number advances every op like a real sender.</para>
/// <para>UnprotectRtp: a fresh copy of one pre-protected packet is unprotected each op. So that the replay
/// window does not reject the repeat, the unprotect context's receive state is reset every op
/// (<c>ResetReceiveState</c>: a Dictionary.Clear of one entry, and re-adding it on success). The measured time is
/// therefore memcpy + auth + replay check + decrypt + first-packet state insert for the SSRC.</para>
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class SrtpBenchmarks
{
    private const int PayloadLength = 1200;
    private const int PlainLength = 12 + PayloadLength;

    [Params(SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AeadAes128Gcm)]
    public SrtpProfile Profile { get; set; }

    private SrtpContext _protect = null!;
    private SrtpContext _unprotect = null!;
    private readonly byte[] _plain = new byte[PlainLength];
    private readonly byte[] _protected = new byte[PlainLength + 32];
    private readonly byte[] _work = new byte[PlainLength + 32];
    private int _protectedLength;
    private ushort _seq;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        byte[] key = new byte[Profile.GetMasterKeyLength()];
        byte[] salt = new byte[Profile.GetMasterSaltLength()];
        random.NextBytes(key);
        random.NextBytes(salt);
        _protect = SrtpContext.CreateForProtect(Profile, key, salt);
        _unprotect = SrtpContext.CreateForUnprotect(Profile, key, salt);
        random.NextBytes(_plain);
        _plain[0] = 0x80;
        _plain[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(_plain.AsSpan(2), 1000);
        BinaryPrimitives.WriteUInt32BigEndian(_plain.AsSpan(8), 0x1234_5678);
        _plain.CopyTo(_protected, 0);
        using var sender = SrtpContext.CreateForProtect(Profile, key, salt);
        _protectedLength = sender.ProtectRtp(_protected, PlainLength);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _protect.Dispose();
        _unprotect.Dispose();
    }

    [Benchmark]
    public int ProtectRtp()
    {
        _plain.AsSpan().CopyTo(_work);
        BinaryPrimitives.WriteUInt16BigEndian(_work.AsSpan(2), _seq++);
        return _protect.ProtectRtp(_work, PlainLength);
    }

    [Benchmark]
    public int UnprotectRtp()
    {
        _protected.AsSpan(0, _protectedLength).CopyTo(_work);
        _unprotect.ResetReceiveState();
        if (!_unprotect.TryUnprotectRtp(_work, _protectedLength, out int plainLength))
            throw new InvalidOperationException("unprotect failed");
        return plainLength;
    }
}

/// <summary>
/// The HMAC-SHA1 backends of the AES-CM profiles side by side: one HMAC over 1,216 bytes (a 12-byte header,
/// 1,200-byte payload and the 4-byte ROC, as SRTP authenticates it), and a full AES_CM_128_HMAC_SHA1_80 protect.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class SrtpHmacSha1Benchmarks
{
    private const int PlainLength = 12 + 1200;

    [Params("LibCrypto", "IncrementalHash")]
    public string Backend { get; set; } = "LibCrypto";

    private HmacSha1 _hmac = null!;
    private SrtpContext _protect = null!;
    private readonly byte[] _plain = new byte[PlainLength];
    private readonly byte[] _work = new byte[PlainLength + 32];
    private readonly byte[] _mac = new byte[HmacSha1.HashSize];
    private ushort _seq;

    [GlobalSetup]
    public void Setup()
    {
        var backend = Enum.Parse<HmacSha1Backend>(Backend);
        var random = new Random(42);
        byte[] key = new byte[20], masterKey = new byte[16], masterSalt = new byte[14];
        random.NextBytes(key);
        random.NextBytes(masterKey);
        random.NextBytes(masterSalt);
        random.NextBytes(_plain);
        _plain[0] = 0x80;
        _hmac = new HmacSha1(key, backend);
        _protect = SrtpContext.CreateWithHmacBackend(SrtpProfile.AesCm128HmacSha1_80, masterKey, masterSalt, backend);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _hmac.Dispose();
        _protect.Dispose();
    }

    [Benchmark]
    public byte Hmac1216()
    {
        _hmac.Compute(_work.AsSpan(0, PlainLength + 4), _mac);
        return _mac[0];
    }

    [Benchmark]
    public int ProtectRtpAesCm80()
    {
        _plain.AsSpan().CopyTo(_work);
        BinaryPrimitives.WriteUInt16BigEndian(_work.AsSpan(2), _seq++);
        return _protect.ProtectRtp(_work, PlainLength);
    }
}
