using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TeleRehab.Media.Stun;

/// <summary>
/// A reusable HMAC-SHA1 key for MESSAGE-INTEGRITY (RFC 8489 §14.5). Keeping the keyed hash alive is about three
/// times faster than the one-shot API. Not thread-safe: give each single-threaded owner (e.g. an ICE agent) its own.
/// </summary>
public sealed class StunIntegrityKey : IDisposable
{
    private readonly IncrementalHash _hmac;

    /// <param name="key">Short-term credentials: the UTF-8 password; long-term: MD5(username:realm:password).</param>
    public StunIntegrityKey(ReadOnlySpan<byte> key)
    {
        _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, key);
    }

    /// <summary>HMAC of the message prefix (everything before MESSAGE-INTEGRITY) with the adjusted header length.</summary>
    internal void Compute(ReadOnlySpan<byte> prefix, Span<byte> destination)
    {
        Span<byte> header = stackalloc byte[StunMessage.HeaderLength];
        prefix[..StunMessage.HeaderLength].CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..],
            (ushort)(prefix.Length - StunMessage.HeaderLength + StunMessage.MessageIntegrityAttributeLength));
        _hmac.AppendData(header);
        _hmac.AppendData(prefix[StunMessage.HeaderLength..]);
        _hmac.GetHashAndReset(destination);
    }

    public void Dispose() => _hmac.Dispose();
}
