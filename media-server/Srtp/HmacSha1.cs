using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace TeleRehab.Media.Srtp;

/// <summary>Which SHA-1 implementation an <see cref="HmacSha1"/> uses.</summary>
internal enum HmacSha1Backend
{
    /// <summary><see cref="LibCrypto"/> when available, otherwise <see cref="IncrementalHash"/>.</summary>
    Auto,
    /// <summary>OpenSSL's low-level SHA-1 (SHA-NI) with precomputed pad states.</summary>
    LibCrypto,
    /// <summary>The portable C# SHA-1 (<see cref="Sha1Managed"/>) with precomputed pad states.</summary>
    Managed,
    /// <summary>System.Security.Cryptography's IncrementalHash HMAC (the original path).</summary>
    IncrementalHash,
}

/// <summary>
/// HMAC-SHA1 (RFC 2104) for one fixed key, computed many times: the SHA-1 states after the first block,
/// H(K ^ ipad) and H(K ^ opad), are computed once, as libsrtp does; each MAC then copies the inner state, hashes the
/// message and finalises, copies the outer state, hashes the 20-byte inner digest and finalises.
/// Allocation-free per call. Not thread-safe (the IncrementalHash backend keeps state); one instance per context.
/// </summary>
[SkipLocalsInit]
internal sealed unsafe class HmacSha1 : IDisposable
{
    public const int HashSize = 20;
    private const int BlockSize = 64;

    private readonly HmacSha1Backend _backend;
    private readonly OpenSslShaCtx _nativeInner, _nativeOuter;
    private readonly Sha1State _inner, _outer;
    private readonly IncrementalHash? _incremental;

    /// <summary>The backend <see cref="HmacSha1Backend.Auto"/> resolves to on this machine.</summary>
    public static HmacSha1Backend DefaultBackend =>
        LibCryptoSha1.IsAvailable ? HmacSha1Backend.LibCrypto : HmacSha1Backend.IncrementalHash;

    public HmacSha1(ReadOnlySpan<byte> key, HmacSha1Backend backend = HmacSha1Backend.Auto)
    {
        if (backend == HmacSha1Backend.Auto) backend = DefaultBackend;
        if (backend == HmacSha1Backend.LibCrypto && !LibCryptoSha1.IsAvailable)
            throw new PlatformNotSupportedException("OpenSSL libcrypto SHA-1 is not available.");
        _backend = backend;
        if (backend == HmacSha1Backend.IncrementalHash)
        {
            _incremental = System.Security.Cryptography.IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, key);
            return;
        }

        // K0: the key, or its hash if longer than the block, zero-padded to 64 bytes (RFC 2104 §2).
        Span<byte> k0 = stackalloc byte[BlockSize];
        k0.Clear();
        if (key.Length > BlockSize) SHA1.HashData(key, k0);
        else key.CopyTo(k0);
        Span<byte> pad = stackalloc byte[BlockSize];
        for (int i = 0; i < BlockSize; i++) pad[i] = (byte)(k0[i] ^ 0x36);
        if (backend == HmacSha1Backend.LibCrypto) _nativeInner = NativeAbsorb(pad);
        else _inner = ManagedAbsorb(pad);
        for (int i = 0; i < BlockSize; i++) pad[i] = (byte)(k0[i] ^ 0x5C);
        if (backend == HmacSha1Backend.LibCrypto) _nativeOuter = NativeAbsorb(pad);
        else _outer = ManagedAbsorb(pad);
        CryptographicOperations.ZeroMemory(k0);
        CryptographicOperations.ZeroMemory(pad);
    }

    public HmacSha1Backend Backend => _backend;

    /// <summary>Writes HMAC-SHA1(key, <paramref name="data"/>) to the first 20 bytes of <paramref name="mac"/>.</summary>
    public void Compute(ReadOnlySpan<byte> data, Span<byte> mac)
    {
        if (mac.Length < HashSize) throw new ArgumentException("MAC buffer must hold 20 bytes.", nameof(mac));
        switch (_backend)
        {
            case HmacSha1Backend.LibCrypto:
                ComputeNative(data, mac);
                break;
            case HmacSha1Backend.Managed:
                Span<byte> innerDigest = stackalloc byte[HashSize];
                Sha1Managed.Finish(_inner, BlockSize, data, innerDigest);
                Sha1Managed.Finish(_outer, BlockSize, innerDigest, mac);
                break;
            default:
                _incremental!.AppendData(data);
                _incremental.GetHashAndReset(mac[..HashSize]);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ComputeNative(ReadOnlySpan<byte> data, Span<byte> mac)
    {
        OpenSslShaCtx ctx = _nativeInner; // a plain 96-byte copy of H(K ^ ipad)
        byte* innerDigest = stackalloc byte[HashSize];
        fixed (byte* p = data)
            LibCryptoSha1.Update(&ctx, p, (nuint)data.Length);
        LibCryptoSha1.Final(innerDigest, &ctx);
        ctx = _nativeOuter;
        LibCryptoSha1.Update(&ctx, innerDigest, HashSize);
        fixed (byte* m = mac)
            LibCryptoSha1.Final(m, &ctx);
    }

    private static OpenSslShaCtx NativeAbsorb(ReadOnlySpan<byte> block)
    {
        OpenSslShaCtx ctx;
        LibCryptoSha1.Init(&ctx);
        fixed (byte* p = block)
            LibCryptoSha1.Update(&ctx, p, (nuint)block.Length);
        return ctx;
    }

    private static Sha1State ManagedAbsorb(ReadOnlySpan<byte> block)
    {
        Sha1State state = Sha1State.Initial;
        Sha1Managed.Compress(ref state, block);
        return state;
    }

    public void Dispose() => _incremental?.Dispose();
}
