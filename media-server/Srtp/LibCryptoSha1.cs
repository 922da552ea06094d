using System.Runtime.InteropServices;

namespace TeleRehab.Media.Srtp;

/// <summary>
/// OpenSSL's <c>SHA_CTX</c> (24 32-bit words: h0..h4, Nl, Nh, data[16], num; 96 bytes, unchanged since
/// OpenSSL 0.9.8). Kept by value so a precomputed state is copied with a plain struct copy.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
internal unsafe struct OpenSslShaCtx
{
    public const int Size = 96;
    private fixed uint _words[Size / 4];
}

/// <summary>
/// The low-level SHA-1 of the system's OpenSSL 3 libcrypto (<c>SHA1_Init/Update/Final</c>), which uses the
/// CPU's SHA extensions (SHA-NI) where present; .NET exposes no SHA intrinsics. The library is the one .NET's
/// own System.Security.Cryptography already loads on Linux. <see cref="IsAvailable"/> is false when it cannot be
/// loaded, lacks the (deprecated but exported) functions, or fails a known-answer self-test; callers then fall back.
/// </summary>
/// <remarks>
/// The calls are made through unmanaged function pointers marked <c>SuppressGCTransition</c>: they are short,
/// never block, never call back into the runtime and touch only memory the caller passes. Updates longer than
/// <see cref="SuppressedUpdateLimit"/> bytes go through the ordinary (GC-transitioning) pointer instead, so a huge
/// input never holds off a garbage collection for long.
/// </remarks>
internal static unsafe class LibCryptoSha1
{
    /// <summary>Largest update made without a GC transition (about a microsecond of hashing).</summary>
    public const int SuppressedUpdateLimit = 2048;

    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<OpenSslShaCtx*, int> s_init;
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<OpenSslShaCtx*, byte*, nuint, int> s_update;
    private static readonly delegate* unmanaged[Cdecl]<OpenSslShaCtx*, byte*, nuint, int> s_updateLong;
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, OpenSslShaCtx*, int> s_final;

    public static readonly bool IsAvailable;

    static LibCryptoSha1()
    {
        try
        {
            if (!TryLoad(out IntPtr lib)) return;
            if (!NativeLibrary.TryGetExport(lib, "SHA1_Init", out IntPtr init)
                || !NativeLibrary.TryGetExport(lib, "SHA1_Update", out IntPtr update)
                || !NativeLibrary.TryGetExport(lib, "SHA1_Final", out IntPtr final))
                return;
            s_init = (delegate* unmanaged[Cdecl, SuppressGCTransition]<OpenSslShaCtx*, int>)init;
            s_update = (delegate* unmanaged[Cdecl, SuppressGCTransition]<OpenSslShaCtx*, byte*, nuint, int>)update;
            s_updateLong = (delegate* unmanaged[Cdecl]<OpenSslShaCtx*, byte*, nuint, int>)update;
            s_final = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, OpenSslShaCtx*, int>)final;
            IsAvailable = SelfTest();
        }
        catch (Exception)
        {
            IsAvailable = false; // any loader surprise: use the managed fallback
        }
    }

    private static bool TryLoad(out IntPtr lib)
    {
        lib = IntPtr.Zero;
        if (!OperatingSystem.IsLinux()) return false; // elsewhere .NET does not use OpenSSL 3 under this name
        return NativeLibrary.TryLoad("libcrypto.so.3", out lib);
    }

    /// <summary>SHA-1("abc") (FIPS 180-2 appendix A.1), checking also that nothing is written past the 96-byte context.</summary>
    private static bool SelfTest()
    {
        const int Guard = 64;
        byte* buffer = stackalloc byte[OpenSslShaCtx.Size + Guard];
        new Span<byte>(buffer, OpenSslShaCtx.Size + Guard).Fill(0xA5);
        var ctx = (OpenSslShaCtx*)buffer;
        byte* abc = stackalloc byte[] { (byte)'a', (byte)'b', (byte)'c' };
        byte* digest = stackalloc byte[20];
        if (s_init(ctx) != 1 || s_update(ctx, abc, 3) != 1 || s_final(digest, ctx) != 1) return false;
        ReadOnlySpan<byte> expected =
        [
            0xA9, 0x99, 0x3E, 0x36, 0x47, 0x06, 0x81, 0x6A, 0xBA, 0x3E,
            0x25, 0x71, 0x78, 0x50, 0xC2, 0x6C, 0x9C, 0xD0, 0xD8, 0x9D,
        ];
        return new ReadOnlySpan<byte>(digest, 20).SequenceEqual(expected)
            && !new ReadOnlySpan<byte>(buffer + OpenSslShaCtx.Size, Guard).ContainsAnyExcept((byte)0xA5);
    }

    public static void Init(OpenSslShaCtx* ctx) => s_init(ctx);

    public static void Update(OpenSslShaCtx* ctx, byte* data, nuint length)
    {
        if (length <= SuppressedUpdateLimit) s_update(ctx, data, length);
        else s_updateLong(ctx, data, length);
    }

    public static void Final(byte* digest, OpenSslShaCtx* ctx) => s_final(digest, ctx);
}
