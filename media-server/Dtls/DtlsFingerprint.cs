using System.Security.Cryptography;
using System.Text;

namespace TeleRehab.Media.Dtls;

/// <summary>Hash functions allowed in an SDP <c>a=fingerprint</c> attribute (RFC 8122 §5).</summary>
public enum DtlsFingerprintAlgorithm
{
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// <summary>
/// A certificate fingerprint as carried in SDP (<c>a=fingerprint:sha-256 AB:CD:...</c>, RFC 8122 §5):
/// the hash function name and the hash of the DER-encoded certificate.
/// </summary>
public sealed class DtlsFingerprint : IEquatable<DtlsFingerprint>
{
    private readonly byte[] _value;

    private DtlsFingerprint(DtlsFingerprintAlgorithm algorithm, byte[] value)
    {
        Algorithm = algorithm;
        _value = value;
    }

    public DtlsFingerprintAlgorithm Algorithm { get; }

    /// <summary>The raw hash bytes.</summary>
    public ReadOnlySpan<byte> Value => _value;

    /// <summary>Computes the fingerprint of a DER-encoded certificate.</summary>
    public static DtlsFingerprint Compute(DtlsFingerprintAlgorithm algorithm, ReadOnlySpan<byte> certificateDer)
        => new(algorithm, Hash(algorithm, certificateDer));

    /// <summary>Hash-function token as written in SDP ("sha-256").</summary>
    public static string GetAlgorithmName(DtlsFingerprintAlgorithm algorithm) => algorithm switch
    {
        DtlsFingerprintAlgorithm.Sha1 => "sha-1",
        DtlsFingerprintAlgorithm.Sha256 => "sha-256",
        DtlsFingerprintAlgorithm.Sha384 => "sha-384",
        DtlsFingerprintAlgorithm.Sha512 => "sha-512",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    public static int GetHashLength(DtlsFingerprintAlgorithm algorithm) => algorithm switch
    {
        DtlsFingerprintAlgorithm.Sha1 => 20,
        DtlsFingerprintAlgorithm.Sha256 => 32,
        DtlsFingerprintAlgorithm.Sha384 => 48,
        DtlsFingerprintAlgorithm.Sha512 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>
    /// Parses the value of an <c>a=fingerprint</c> attribute: <c>hash-func SP fingerprint</c>, e.g.
    /// <c>sha-256 AB:CD:...</c>. An optional leading <c>a=fingerprint:</c> or <c>fingerprint:</c> is accepted.
    /// Hash names are case-insensitive (RFC 8122 §5) and hex digits may be of either case.
    /// Returns false for anything malformed; never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DtlsFingerprint? fingerprint)
    {
        fingerprint = null;
        text = text.Trim();
        if (text.StartsWith("a=", StringComparison.OrdinalIgnoreCase))
            text = text[2..];
        if (text.StartsWith("fingerprint:", StringComparison.OrdinalIgnoreCase))
            text = text["fingerprint:".Length..].TrimStart();

        int space = text.IndexOfAny(' ', '\t');
        if (space <= 0)
            return false;
        ReadOnlySpan<char> name = text[..space];
        ReadOnlySpan<char> hex = text[(space + 1)..].Trim();

        DtlsFingerprintAlgorithm algorithm;
        if (name.Equals("sha-1", StringComparison.OrdinalIgnoreCase)) algorithm = DtlsFingerprintAlgorithm.Sha1;
        else if (name.Equals("sha-256", StringComparison.OrdinalIgnoreCase)) algorithm = DtlsFingerprintAlgorithm.Sha256;
        else if (name.Equals("sha-384", StringComparison.OrdinalIgnoreCase)) algorithm = DtlsFingerprintAlgorithm.Sha384;
        else if (name.Equals("sha-512", StringComparison.OrdinalIgnoreCase)) algorithm = DtlsFingerprintAlgorithm.Sha512;
        else return false;

        int length = GetHashLength(algorithm);
        // "XX" followed by (length-1) times ":XX" (RFC 8122 §5 fingerprint ABNF).
        if (hex.Length != length * 3 - 1)
            return false;
        var value = new byte[length];
        for (int i = 0; i < length; i++)
        {
            int p = i * 3;
            if (i > 0 && hex[p - 1] != ':')
                return false;
            int hi = HexValue(hex[p]);
            int lo = HexValue(hex[p + 1]);
            if (hi < 0 || lo < 0)
                return false;
            value[i] = (byte)((hi << 4) | lo);
        }

        fingerprint = new DtlsFingerprint(algorithm, value);
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static DtlsFingerprint Parse(string text)
        => TryParse(text, out var fp) ? fp! : throw new FormatException("Invalid SDP fingerprint: " + text);

    /// <summary>
    /// True when <paramref name="certificateDer"/> hashes (with this fingerprint's algorithm) to this value.
    /// The comparison is constant-time.
    /// </summary>
    public bool Matches(ReadOnlySpan<byte> certificateDer)
    {
        Span<byte> hash = stackalloc byte[64];
        int n = HashInto(Algorithm, certificateDer, hash);
        return CryptographicOperations.FixedTimeEquals(hash[..n], _value);
    }

    /// <summary>SDP form: <c>sha-256 AB:CD:...</c> (uppercase hex, colon separated; RFC 8122 §5).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(GetAlgorithmName(Algorithm).Length + 1 + _value.Length * 3);
        sb.Append(GetAlgorithmName(Algorithm)).Append(' ');
        for (int i = 0; i < _value.Length; i++)
        {
            if (i > 0) sb.Append(':');
            sb.Append(_value[i].ToString("X2"));
        }
        return sb.ToString();
    }

    public bool Equals(DtlsFingerprint? other)
        => other is not null && other.Algorithm == Algorithm && other._value.AsSpan().SequenceEqual(_value);

    public override bool Equals(object? obj) => Equals(obj as DtlsFingerprint);

    public override int GetHashCode() => HashCode.Combine(Algorithm, BitConverter.ToInt32(_value, 0));

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };

    private static byte[] Hash(DtlsFingerprintAlgorithm algorithm, ReadOnlySpan<byte> data)
    {
        var result = new byte[GetHashLength(algorithm)];
        HashInto(algorithm, data, result);
        return result;
    }

    private static int HashInto(DtlsFingerprintAlgorithm algorithm, ReadOnlySpan<byte> data, Span<byte> destination)
        => algorithm switch
        {
            DtlsFingerprintAlgorithm.Sha1 => SHA1.HashData(data, destination),
            DtlsFingerprintAlgorithm.Sha256 => SHA256.HashData(data, destination),
            DtlsFingerprintAlgorithm.Sha384 => SHA384.HashData(data, destination),
            DtlsFingerprintAlgorithm.Sha512 => SHA512.HashData(data, destination),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
        };
}
