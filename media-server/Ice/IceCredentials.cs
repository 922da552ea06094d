using System.Security.Cryptography;
using System.Text;

namespace TeleRehab.Media.Ice;

/// <summary>
/// ICE username fragment and password (RFC 8839 §5.4): ice-char = ALPHA / DIGIT / "+" / "/";
/// ufrag 4-256 characters, password 22-256 characters. The UTF-8 bytes are cached so that the
/// per-packet paths never encode strings.
/// </summary>
public sealed class IceCredentials : IEquatable<IceCredentials>
{
    public const int MinUfragLength = 4;
    public const int MinPasswordLength = 22;
    public const int MaxLength = 256;

    private const string IceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    private readonly byte[] _ufragBytes;
    private readonly byte[] _passwordBytes;

    public IceCredentials(string ufrag, string password)
    {
        if (!IsValidUfrag(ufrag)) throw new ArgumentException("ice-ufrag must be 4-256 ice-chars (RFC 8839 §5.4).", nameof(ufrag));
        if (!IsValidPassword(password)) throw new ArgumentException("ice-pwd must be 22-256 ice-chars (RFC 8839 §5.4).", nameof(password));
        Ufrag = ufrag;
        Password = password;
        _ufragBytes = Encoding.ASCII.GetBytes(ufrag);
        _passwordBytes = Encoding.ASCII.GetBytes(password);
    }

    public string Ufrag { get; }
    public string Password { get; }

    /// <summary>UTF-8 (ASCII) bytes of the ufrag.</summary>
    public ReadOnlySpan<byte> UfragBytes => _ufragBytes;

    /// <summary>The short-term credential HMAC key: the UTF-8 password (RFC 8489 §9.1.1, RFC 8445 §7.2.2).</summary>
    public ReadOnlySpan<byte> PasswordBytes => _passwordBytes;

    /// <summary>
    /// Random credentials: an 8-character ufrag (48 bits, above the 24 required) and a 24-character password
    /// (144 bits, above the 128 required by RFC 8445 §5.3).
    /// </summary>
    public static IceCredentials Generate(int ufragLength = 8, int passwordLength = 24)
    {
        if (ufragLength is < MinUfragLength or > MaxLength) throw new ArgumentOutOfRangeException(nameof(ufragLength));
        if (passwordLength is < MinPasswordLength or > MaxLength) throw new ArgumentOutOfRangeException(nameof(passwordLength));
        return new IceCredentials(RandomIceString(ufragLength), RandomIceString(passwordLength));
    }

    public static bool IsValidUfrag(string? value) => value is { Length: >= MinUfragLength and <= MaxLength } && AllIceChars(value);

    public static bool IsValidPassword(string? value) => value is { Length: >= MinPasswordLength and <= MaxLength } && AllIceChars(value);

    private static bool AllIceChars(string value)
    {
        foreach (char c in value)
            if (!char.IsAsciiLetterOrDigit(c) && c != '+' && c != '/') return false;
        return true;
    }

    private static string RandomIceString(int length) => RandomNumberGenerator.GetString(IceChars, length);

    public bool Equals(IceCredentials? other) => other is not null && Ufrag == other.Ufrag && Password == other.Password;
    public override bool Equals(object? obj) => Equals(obj as IceCredentials);
    public override int GetHashCode() => HashCode.Combine(Ufrag, Password);
    public override string ToString() => $"ufrag={Ufrag}";
}
