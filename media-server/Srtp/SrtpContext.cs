using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace TeleRehab.Media.Srtp;

/// <summary>
/// One direction of one SRTP session (RFC 3711; RFC 7714 for AEAD_AES_128_GCM): protects outgoing, or
/// unprotects incoming, RTP and RTCP packets in place in the caller's buffer.
/// </summary>
/// <remarks>
/// <para>Create one context per direction: <see cref="CreateForProtect"/> with the local master key and salt,
/// <see cref="CreateForUnprotect"/> with the remote ones (see <see cref="SrtpKeyingMaterial"/>). The protect and
/// unprotect per-SSRC states are kept apart, so a context only ever used one way behaves as RFC 3711 describes.</para>
/// <para>Threading: a context is NOT thread-safe and takes no locks. It must be used by one thread at a time
/// (e.g. the single I/O loop that owns the transport); concurrent use corrupts its scratch buffers and state.</para>
/// <para>Per packet, protect and unprotect allocate nothing on the managed heap. The first packet of a new SSRC
/// adds a dictionary entry (an allocation only when the dictionary grows).</para>
/// <para>Unprotect never throws for malformed, truncated, forged or replayed input: it returns false. When it
/// returns false the bytes of the packet buffer are unspecified (an AEAD failure may have overwritten them).</para>
/// </remarks>
[SkipLocalsInit]
public sealed partial class SrtpContext : IDisposable
{
    /// <summary>Largest keystream produced by one AES-ECB call; longer payloads are processed in chunks.</summary>
    private const int KeystreamChunk = 2048;

    private readonly SrtpProfile _profile;
    private readonly int _rtpTagLength;
    private readonly int _rtcpTagLength;

    // AES-CM / HMAC-SHA1 profiles.
    private readonly Aes? _rtpAes;
    private readonly Aes? _rtcpAes;
    private readonly ICryptoTransform? _rtpEcb;
    private readonly ICryptoTransform? _rtcpEcb;
    private readonly AesNi? _rtpAesNi;
    private readonly AesNi? _rtcpAesNi;
    private readonly HmacSha1? _rtpHmac;
    private readonly HmacSha1? _rtcpHmac;
    private readonly byte[] _counterBlocks = [];
    private readonly byte[] _keystream = [];
    private readonly ulong _rtpSaltHigh, _rtpSaltLow, _rtcpSaltHigh, _rtcpSaltLow;

    // AEAD_AES_128_GCM.
    private readonly AesGcm? _rtpGcm;
    private readonly AesGcm? _rtcpGcm;
    private readonly AesGcmNi? _rtpGcmNi;
    private readonly AesGcmNi? _rtcpGcmNi;
    private readonly byte[] _rtpSalt;
    private readonly byte[] _rtcpSalt;

    private readonly Dictionary<uint, SrtpReplayState> _rtpSend = new();
    private readonly Dictionary<uint, SrtpReplayState> _rtpReceive = new();
    private readonly Dictionary<uint, SrtpReplayState> _rtcpReceive = new();
    private uint _nextSrtcpIndex;
    private bool _disposed;

    private SrtpContext(SrtpProfile profile, SrtpSessionKeys keys, bool allowIntrinsics = true,
        HmacSha1Backend hmacBackend = HmacSha1Backend.Auto)
    {
        _profile = profile;
        _rtpTagLength = profile.GetRtpAuthTagLength();
        _rtcpTagLength = profile.GetRtcpAuthTagLength();
        _rtpSalt = keys.RtpSalt;
        _rtcpSalt = keys.RtcpSalt;
        if (profile.IsAead())
        {
            // The AES-NI/PCLMULQDQ GCM avoids a native call (and its per-call key setup) per packet; the
            // System.Security.Cryptography AesGcm is the fallback on other CPUs.
            if (allowIntrinsics && AesGcmNi.IsSupported)
            {
                _rtpGcmNi = new AesGcmNi(keys.RtpKey);
                _rtcpGcmNi = new AesGcmNi(keys.RtcpKey);
            }
            else
            {
                _rtpGcm = new AesGcm(keys.RtpKey, 16);
                _rtcpGcm = new AesGcm(keys.RtcpKey, 16);
            }
        }
        else
        {
            if (allowIntrinsics && AesNi.IsSupported)
            {
                _rtpAesNi = new AesNi(keys.RtpKey);
                _rtcpAesNi = new AesNi(keys.RtcpKey);
            }
            else
            {
                // An ECB encryptor keeps its native cipher context (and key schedule) across calls, unlike the
                // Aes.EncryptEcb one-shot, which re-creates it (and copies the key) on every call.
                (_rtpAes, _rtpEcb) = CreateEcb(keys.RtpKey);
                (_rtcpAes, _rtcpEcb) = CreateEcb(keys.RtcpKey);
                _counterBlocks = GC.AllocateUninitializedArray<byte>(KeystreamChunk, pinned: true);
                _keystream = GC.AllocateUninitializedArray<byte>(KeystreamChunk, pinned: true);
            }
            // HMAC-SHA1 with precomputed pad states over OpenSSL's SHA-NI SHA-1 where available (HmacSha1).
            if (!allowIntrinsics && hmacBackend == HmacSha1Backend.Auto) hmacBackend = HmacSha1Backend.IncrementalHash;
            _rtpHmac = new HmacSha1(keys.RtpAuthKey, hmacBackend);
            _rtcpHmac = new HmacSha1(keys.RtcpAuthKey, hmacBackend);
            (_rtpSaltHigh, _rtpSaltLow) = SplitSalt(keys.RtpSalt);
            (_rtcpSaltHigh, _rtcpSaltLow) = SplitSalt(keys.RtcpSalt);
        }
    }

    /// <summary>A context that protects outgoing packets with the given (local) master key and salt.</summary>
    public static SrtpContext CreateForProtect(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt) =>
        new(profile, SrtpSessionKeys.Derive(profile, masterKey, masterSalt));

    /// <summary>A context that unprotects incoming packets with the given (remote) master key and salt.</summary>
    public static SrtpContext CreateForUnprotect(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt) =>
        new(profile, SrtpSessionKeys.Derive(profile, masterKey, masterSalt));

    /// <summary>Builds a context straight from session keys (for the RFC test vectors, which give session keys).</summary>
    internal static SrtpContext CreateFromSessionKeys(SrtpProfile profile, SrtpSessionKeys keys, bool allowIntrinsics = true,
        HmacSha1Backend hmacBackend = HmacSha1Backend.Auto) =>
        new(profile, keys, allowIntrinsics, hmacBackend);

    /// <summary>A context whose HMAC-SHA1 uses the given backend (tests run every path, including the fallback).</summary>
    internal static SrtpContext CreateWithHmacBackend(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt,
        HmacSha1Backend hmacBackend) =>
        new(profile, SrtpSessionKeys.Derive(profile, masterKey, masterSalt), hmacBackend: hmacBackend);

    /// <summary>The HMAC-SHA1 backend of an AES-CM context (null for GCM).</summary>
    internal HmacSha1Backend? HmacBackend => _rtpHmac?.Backend;

    /// <summary>
    /// A context that never uses the AES-NI/PCLMULQDQ paths nor the libcrypto SHA-1 (tests the
    /// System.Security.Cryptography fallback).
    /// </summary>
    internal static SrtpContext CreatePortable(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt) =>
        new(profile, SrtpSessionKeys.Derive(profile, masterKey, masterSalt), allowIntrinsics: false);

    public SrtpProfile Profile => _profile;

    /// <summary>Bytes <see cref="ProtectRtp"/> appends (the authentication tag).</summary>
    public int RtpOverhead => _rtpTagLength;

    /// <summary>Bytes <see cref="ProtectRtcp"/> appends (E flag + SRTCP index, and the tag).</summary>
    public int RtcpOverhead => 4 + _rtcpTagLength;

    /// <summary>Room a caller must leave after the packet for either protect call.</summary>
    public int MaxOverhead => Math.Max(RtpOverhead, RtcpOverhead);

    /// <summary>The SRTCP index the next <see cref="ProtectRtcp"/> will use (31 bits; starts at 0, RFC 3711 §3.4).</summary>
    internal uint NextSrtcpIndex
    {
        get => _nextSrtcpIndex;
        set => _nextSrtcpIndex = value & 0x7FFF_FFFF;
    }

    /// <summary>The receive-side rollover counter of <paramref name="ssrc"/>, if a packet of it was accepted.</summary>
    internal bool TryGetReceiveRoc(uint ssrc, out uint roc)
    {
        bool found = _rtpReceive.TryGetValue(ssrc, out var state);
        roc = state.Roc;
        return found;
    }

    /// <summary>The send-side rollover counter of <paramref name="ssrc"/>, if a packet of it was protected.</summary>
    internal bool TryGetSendRoc(uint ssrc, out uint roc)
    {
        bool found = _rtpSend.TryGetValue(ssrc, out var state);
        roc = state.Roc;
        return found;
    }

    /// <summary>Forgets the receive replay windows (all SSRCs). Meant for benchmarks and tests.</summary>
    internal void ResetReceiveState()
    {
        _rtpReceive.Clear();
        _rtcpReceive.Clear();
    }

    /// <summary>
    /// Protects the RTP packet in <paramref name="packet"/>[0..<paramref name="length"/>] in place and returns the
    /// SRTP length (length + <see cref="RtpOverhead"/>). Throws <see cref="ArgumentException"/> if the packet is
    /// not a valid RTP packet or the buffer has no room for the tag; <see cref="TryProtectRtp"/> returns false instead.
    /// </summary>
    public int ProtectRtp(Span<byte> packet, int length)
    {
        if (!TryProtectRtp(packet, length, out int protectedLength))
            throw new ArgumentException("Not a valid RTP packet, or the buffer has no room for the SRTP tag.", nameof(packet));
        return protectedLength;
    }

    /// <summary>Protects an RTP packet in place; false when it is malformed or the buffer is too small.</summary>
    public bool TryProtectRtp(Span<byte> packet, int length, out int protectedLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        protectedLength = 0;
        if ((uint)length > (uint)packet.Length || packet.Length - length < _rtpTagLength) return false;
        if (!TryGetRtpHeaderLength(packet[..length], out int headerLength)) return false;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);

        // The sender's ROC (RFC 3711 §3.3.1) follows the highest sequence it has sent; estimating from it
        // (Appendix A) also keeps retransmitted / reordered sends on the right ROC across a wrap.
        ref SrtpReplayState state = ref CollectionsMarshal.GetValueRefOrAddDefault(_rtpSend, ssrc, out bool exists);
        ulong index;
        if (!exists)
        {
            index = seq;
            state = SrtpReplayState.First(index);
        }
        else
        {
            if (!state.TryEstimateIndex(seq, out index)) index = seq;
            if (index > state.HighestIndex) state.Accept(index);
        }

        protectedLength = _profile.IsAead()
            ? GcmProtectRtp(packet, length, headerLength, ssrc, index)
            : CmProtectRtp(packet, length, headerLength, ssrc, index);
        return true;
    }

    /// <summary>
    /// Unprotects the SRTP packet in <paramref name="packet"/>[0..<paramref name="length"/>] in place: authenticates
    /// it (constant-time tag compare), rejects replays (64-packet window per SSRC), then decrypts. On success
    /// <paramref name="plainLength"/> is the RTP length. Returns false, never throws, for any bad input.
    /// </summary>
    public bool TryUnprotectRtp(Span<byte> packet, int length, out int plainLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        plainLength = 0;
        if ((uint)length > (uint)packet.Length) return false;
        int authLength = length - _rtpTagLength;
        if (authLength < 12) return false;
        if (!TryGetRtpHeaderLength(packet[..authLength], out int headerLength)) return false;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);

        ref SrtpReplayState state = ref CollectionsMarshal.GetValueRefOrNullRef(_rtpReceive, ssrc);
        bool known = !Unsafe.IsNullRef(ref state);
        ulong index = seq; // first packet of a stream: ROC 0, s_l = SEQ (RFC 3711 §3.3.1)
        if (known && !state.TryEstimateIndex(seq, out index)) return false;

        bool ok = _profile.IsAead()
            ? GcmUnprotectRtp(packet, authLength, headerLength, ssrc, index, ref state, known)
            : CmUnprotectRtp(packet, authLength, headerLength, ssrc, index, ref state, known);
        if (!ok) return false;

        if (known) state.Accept(index);
        else _rtpReceive[ssrc] = SrtpReplayState.First(index);
        plainLength = authLength;
        return true;
    }

    /// <summary>
    /// Protects the RTCP (compound) packet in place: encrypts it after the first 8 bytes, appends E=1 and the
    /// 31-bit SRTCP index (a per-context counter, RFC 3711 §3.4) and the tag. Returns the SRTCP length.
    /// </summary>
    public int ProtectRtcp(Span<byte> packet, int length)
    {
        if (!TryProtectRtcp(packet, length, out int protectedLength))
            throw new ArgumentException("Not a valid RTCP packet, or the buffer has no room for the SRTCP trailer.", nameof(packet));
        return protectedLength;
    }

    /// <summary>Protects an RTCP packet in place; false when it is malformed or the buffer is too small.</summary>
    public bool TryProtectRtcp(Span<byte> packet, int length, out int protectedLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        protectedLength = 0;
        if ((uint)length > (uint)packet.Length || packet.Length - length < RtcpOverhead) return false;
        if (length < 8 || (packet[0] >> 6) != 2) return false;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        uint index = _nextSrtcpIndex;
        _nextSrtcpIndex = (index + 1) & 0x7FFF_FFFF;
        protectedLength = _profile.IsAead()
            ? GcmProtectRtcp(packet, length, ssrc, index)
            : CmProtectRtcp(packet, length, ssrc, index);
        return true;
    }

    /// <summary>
    /// Unprotects an SRTCP packet in place (authenticate, replay check per SSRC on the SRTCP index, decrypt if
    /// the E flag is set). On success <paramref name="plainLength"/> is the RTCP length. Never throws for bad input.
    /// </summary>
    public bool TryUnprotectRtcp(Span<byte> packet, int length, out int plainLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        plainLength = 0;
        if ((uint)length > (uint)packet.Length) return false;
        int authLength = length - _rtcpTagLength; // includes the 4-byte E||index word
        if (authLength < 8 + 4 || (packet[0] >> 6) != 2) return false;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);

        ref SrtpReplayState state = ref CollectionsMarshal.GetValueRefOrNullRef(_rtcpReceive, ssrc);
        bool known = !Unsafe.IsNullRef(ref state);
        bool ok = _profile.IsAead()
            ? GcmUnprotectRtcp(packet, length, ssrc, ref state, known, out uint index)
            : CmUnprotectRtcp(packet, authLength, ssrc, ref state, known, out index);
        if (!ok) return false;

        if (known) state.Accept(index);
        else _rtcpReceive[ssrc] = SrtpReplayState.First(index);
        plainLength = authLength - 4;
        return true;
    }

    /// <summary>
    /// Length of the RTP header including CSRCs and the header extension (RFC 3550 §5.1, §5.3.1): the part
    /// SRTP leaves in the clear. False if the packet is not version 2 or is shorter than its header.
    /// </summary>
    internal static bool TryGetRtpHeaderLength(ReadOnlySpan<byte> packet, out int headerLength)
    {
        headerLength = 0;
        if (packet.Length < 12 || (packet[0] >> 6) != 2) return false;
        int length = 12 + 4 * (packet[0] & 0x0F);
        if ((packet[0] & 0x10) != 0)
        {
            if (packet.Length < length + 4) return false;
            length += 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(length + 2)..]);
        }
        if (length > packet.Length) return false;
        headerLength = length;
        return true;
    }

    private static (Aes Aes, ICryptoTransform Encryptor) CreateEcb(byte[] key)
    {
        var aes = Aes.Create();
        aes.Key = key;
        aes.Mode = CipherMode.ECB;
        aes.Padding = PaddingMode.None;
        return (aes, aes.CreateEncryptor());
    }

    private static (ulong High, ulong Low) SplitSalt(byte[] salt14)
    {
        Span<byte> padded = stackalloc byte[16];
        padded.Clear();
        salt14.CopyTo(padded);
        return (BinaryPrimitives.ReadUInt64BigEndian(padded), BinaryPrimitives.ReadUInt64BigEndian(padded[8..]));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _rtpEcb?.Dispose();
        _rtcpEcb?.Dispose();
        _rtpAes?.Dispose();
        _rtcpAes?.Dispose();
        _rtpHmac?.Dispose();
        _rtcpHmac?.Dispose();
        _rtpGcm?.Dispose();
        _rtcpGcm?.Dispose();
    }
}
