using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace TeleRehab.Media.Srtp;

/// <summary>Which SHA-1 implementation an <see cref="HmacSha1"/> uses.</summary>
internal enum HmacSha1Backend
{
    /// <summary><see cref="LibCrypto"/> when available, otherwise <see cref="IncrementalHash"/>.</summary>
    Auto,
    /// <summary>OpenSSL's low-level SHA-1 (SHA-NI where the CPU has it) with precomputed pad states.</summary>
    LibCrypto,
    /// <summary>System.Security.Cryptography's IncrementalHash HMAC (the portable fallback).</summary>
    IncrementalHash,
}

/// <summary>
/// HMAC-SHA1 (RFC 2104) for one fixed key, computed once per packet (RFC 3711 §4.2.1). With libcrypto the SHA-1
/// states after the first block, H(K ^ ipad) and H(K ^ opad), are computed once, as libsrtp does; each MAC then
/// copies the inner state, hashes the message and finalises, copies the outer state, hashes the 20-byte inner
/// digest and finalises. Otherwise it falls back to an <see cref="System.Security.Cryptography.IncrementalHash"/>
/// (about 0.45 µs of fixed cost per MAC: its reset and finalisation go through EVP_MAC).
/// Allocation-free per call. Not thread-safe (the fallback keeps state): one instance per context.
/// </summary>
[SkipLocalsInit]
internal sealed unsafe class HmacSha1 : IDisposable
{
    public const int HashSize = 20;
    private const int BlockSize = 64;

    private readonly OpenSslShaCtx _inner, _outer;
    private readonly IncrementalHash? _incremental;

    /// <summary>The backend <see cref="HmacSha1Backend.Auto"/> resolves to on this machine.</summary>
    public static HmacSha1Backend DefaultBackend =>
        LibCryptoSha1.IsAvailable ? HmacSha1Backend.LibCrypto : HmacSha1Backend.IncrementalHash;

    public HmacSha1(ReadOnlySpan<byte> key, HmacSha1Backend backend = HmacSha1Backend.Auto)
    {
        if (backend == HmacSha1Backend.Auto) backend = DefaultBackend;
        if (backend == HmacSha1Backend.IncrementalHash)
        {
            _incremental = System.Security.Cryptography.IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, key);
            return;
        }
        if (!LibCryptoSha1.IsAvailable) throw new PlatformNotSupportedException("OpenSSL libcrypto SHA-1 is not available.");

        // K0: the key, or its hash if longer than the block, zero-padded to 64 bytes (RFC 2104 §2).
        Span<byte> k0 = stackalloc byte[BlockSize];
        k0.Clear();
        if (key.Length > BlockSize) SHA1.HashData(key, k0);
        else key.CopyTo(k0);
        Span<byte> pad = stackalloc byte[BlockSize];
        for (int i = 0; i < BlockSize; i++) pad[i] = (byte)(k0[i] ^ 0x36);
        _inner = Absorb(pad);
        for (int i = 0; i < BlockSize; i++) pad[i] = (byte)(k0[i] ^ 0x5C);
        _outer = Absorb(pad);
        CryptographicOperations.ZeroMemory(k0);
        CryptographicOperations.ZeroMemory(pad);
    }

    public HmacSha1Backend Backend => _incremental is null ? HmacSha1Backend.LibCrypto : HmacSha1Backend.IncrementalHash;

    /// <summary>Writes HMAC-SHA1(key, <paramref name="data"/>) to the first 20 bytes of <paramref name="mac"/>.</summary>
    public void Compute(ReadOnlySpan<byte> data, Span<byte> mac)
    {
        if (mac.Length < HashSize) throw new ArgumentException("MAC buffer must hold 20 bytes.", nameof(mac));
        if (_incremental is null)
        {
            ComputeNative(data, mac);
            return;
        }
        _incremental.AppendData(data);
        _incremental.GetHashAndReset(mac[..HashSize]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ComputeNative(ReadOnlySpan<byte> data, Span<byte> mac)
    {
        OpenSslShaCtx ctx = _inner; // a plain 96-byte copy of the state after K ^ ipad
        byte* innerDigest = stackalloc byte[HashSize];
        fixed (byte* p = data)
            LibCryptoSha1.Update(&ctx, p, (nuint)data.Length);
        LibCryptoSha1.Final(innerDigest, &ctx);
        ctx = _outer; // the state after K ^ opad
        LibCryptoSha1.Update(&ctx, innerDigest, HashSize);
        fixed (byte* m = mac)
            LibCryptoSha1.Final(m, &ctx);
    }

    private static OpenSslShaCtx Absorb(ReadOnlySpan<byte> block)
    {
        OpenSslShaCtx ctx;
        LibCryptoSha1.Init(&ctx);
        fixed (byte* p = block)
            LibCryptoSha1.Update(&ctx, p, (nuint)block.Length);
        return ctx;
    }

    public void Dispose() => _incremental?.Dispose();
}
