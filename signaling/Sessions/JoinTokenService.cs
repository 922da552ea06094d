using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;

namespace TeleRehab.Signaling.Sessions;

/// <summary>Issues and validates join tokens: <c>base64url(JSON payload) "." base64url(HMAC-SHA256(key, first part))</c>.
/// The MAC covers the encoded payload exactly as sent (as in JWS, RFC 7515 §5.1), and both parts must be canonical
/// unpadded base64url, so no two different strings validate to the same token.</summary>
public sealed class JoinTokenService
{
    /// <summary>Longest token accepted (a token carries at most a 100-character name; this leaves ample room).</summary>
    public const int MaxTokenLength = 2048;

    /// <summary>Tolerated difference between the issuing and the validating clock for "issued in the future".</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    private const int MinKeyBytes = 32;
    private const int SignatureBytes = 32;

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    /// <summary>Builds the service from configuration; throws (at start-up) on a malformed key or lifetime.</summary>
    public JoinTokenService(JoinTokenOptions options, TimeProvider time, ILogger<JoinTokenService>? logger = null)
    {
        _time = time;
        if (!(options.LifetimeHours > 0 && options.LifetimeHours <= 24 * 365))
            throw new InvalidOperationException($"{JoinTokenOptions.Section}:LifetimeHours must be above 0 and at most 8760, not {options.LifetimeHours}.");
        Lifetime = TimeSpan.FromHours(options.LifetimeHours);

        if (string.IsNullOrWhiteSpace(options.SigningKey))
        {
            _key = RandomNumberGenerator.GetBytes(MinKeyBytes);
            IsEphemeralKey = true;
            (logger ?? NullLogger<JoinTokenService>.Instance).LogWarning(
                "{Section}:SigningKey is not set: join links are signed with a random key made at start-up and will stop working when the server restarts. " +
                "Set a base64 key of at least {Bytes} bytes (e.g. `openssl rand -base64 32`).", JoinTokenOptions.Section, MinKeyBytes);
            return;
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(options.SigningKey.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{JoinTokenOptions.Section}:SigningKey is not valid base64.");
        }
        if (key.Length < MinKeyBytes)
            throw new InvalidOperationException($"{JoinTokenOptions.Section}:SigningKey is {key.Length} bytes; it must be at least {MinKeyBytes}.");
        _key = key;
    }

    /// <summary>For tests and tools: a service with an explicit key.</summary>
    public JoinTokenService(ReadOnlySpan<byte> key, TimeSpan lifetime, TimeProvider time)
    {
        if (key.Length < MinKeyBytes) throw new ArgumentException($"The key must be at least {MinKeyBytes} bytes.", nameof(key));
        if (lifetime <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(lifetime));
        _key = key.ToArray();
        _time = time;
        Lifetime = lifetime;
    }

    public TimeSpan Lifetime { get; }

    /// <summary>True when no key was configured and links will not survive a restart.</summary>
    public bool IsEphemeralKey { get; }

    /// <summary>A token for one participant, valid from now for <see cref="Lifetime"/>.</summary>
    public string Issue(string sessionId, string participantId, ParticipantRole role, string displayName)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        ArgumentException.ThrowIfNullOrEmpty(participantId);
        ArgumentNullException.ThrowIfNull(displayName);
        // Whole seconds, so what validates is exactly what was issued.
        var now = DateTimeOffset.FromUnixTimeSeconds(_time.GetUtcNow().ToUnixTimeSeconds());
        var wire = new WirePayload
        {
            Sid = sessionId,
            Pid = participantId,
            Role = RoleName(role),
            Name = displayName,
            Iat = now.ToUnixTimeSeconds(),
            Exp = (now + Lifetime).ToUnixTimeSeconds(),
        };
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(wire, WireJson));
        Span<byte> mac = stackalloc byte[SignatureBytes];
        Sign(payload, mac);
        return payload + "." + Base64Url.EncodeToString(mac);
    }

    /// <summary>Checks structure, then the signature (constant time), then the payload and its validity window.</summary>
    public JoinTokenValidation Validate(string? token)
    {
        if (string.IsNullOrEmpty(token)) return JoinTokenValidation.Fail(JoinTokenStatus.Malformed, "the token is empty");
        if (token.Length > MaxTokenLength) return JoinTokenValidation.Fail(JoinTokenStatus.Malformed, $"the token is longer than {MaxTokenLength} characters");
        var dot = token.IndexOf('.');
        if (dot <= 0 || dot == token.Length - 1 || token.IndexOf('.', dot + 1) >= 0)
            return JoinTokenValidation.Fail(JoinTokenStatus.Malformed, "the token must be two base64url parts joined by a dot");

        var payloadText = token.AsSpan(0, dot);
        var signatureText = token.AsSpan(dot + 1);
        if (!IsCanonicalBase64Url(signatureText, out var signature) || !IsCanonicalBase64Url(payloadText, out var payloadJson))
            return JoinTokenValidation.Fail(JoinTokenStatus.Malformed, "the token is not canonical unpadded base64url");
        if (signature.Length != SignatureBytes)
            return JoinTokenValidation.Fail(JoinTokenStatus.Malformed, $"the signature must be {SignatureBytes} bytes");

        Span<byte> expected = stackalloc byte[SignatureBytes];
        Sign(payloadText, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
            return JoinTokenValidation.Fail(JoinTokenStatus.BadSignature, "the token's signature does not match (altered, or signed with another key)");

        var payload = ReadPayload(payloadJson);
        if (payload is null) return JoinTokenValidation.Fail(JoinTokenStatus.Malformed, "the token's payload is not a valid join payload");

        var now = _time.GetUtcNow();
        if (payload.IssuedAt - ClockSkew > now)
            return JoinTokenValidation.Fail(JoinTokenStatus.NotYetValid, $"the token is issued for {payload.IssuedAt:u}, which is in the future");
        if (now >= payload.ExpiresAt)
            return JoinTokenValidation.Fail(JoinTokenStatus.Expired, $"the link expired at {payload.ExpiresAt:u}");
        return new JoinTokenValidation(JoinTokenStatus.Valid, payload, "valid");
    }

    public static string RoleName(ParticipantRole role) => role switch
    {
        ParticipantRole.Therapist => "therapist",
        ParticipantRole.Patient => "patient",
        ParticipantRole.Observer => "observer",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParseRole(string? text, out ParticipantRole role)
    {
        switch (text)
        {
            case "therapist": role = ParticipantRole.Therapist; return true;
            case "patient": role = ParticipantRole.Patient; return true;
            case "observer": role = ParticipantRole.Observer; return true;
            default: role = default; return false;
        }
    }

    private void Sign(ReadOnlySpan<char> encodedPayload, Span<byte> mac)
    {
        // The encoded payload is base64url, hence ASCII: one byte per char.
        var ascii = encodedPayload.Length <= 1024 ? stackalloc byte[encodedPayload.Length] : new byte[encodedPayload.Length];
        Encoding.ASCII.GetBytes(encodedPayload, ascii);
        HMACSHA256.HashData(_key, ascii, mac);
    }

    private static bool IsCanonicalBase64Url(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_')) return false;
        }
        if (text.Length % 4 == 1) return false;
        var buffer = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        // The OperationStatus overload reports invalid input instead of throwing (TryDecodeFromChars throws on it).
        if (Base64Url.DecodeFromChars(text, buffer, out var consumed, out var written) != System.Buffers.OperationStatus.Done || consumed != text.Length)
            return false;
        // Reject encodings whose unused trailing bits are set: they would decode to the same bytes as another string.
        Span<char> again = stackalloc char[text.Length + 4];
        if (!Base64Url.TryEncodeToChars(buffer.AsSpan(0, written), again, out var charsWritten) || !again[..charsWritten].SequenceEqual(text))
            return false;
        bytes = buffer.AsSpan(0, written).ToArray();
        return true;
    }

    private static JoinTokenPayload? ReadPayload(byte[] json)
    {
        WirePayload? wire;
        try
        {
            wire = JsonSerializer.Deserialize<WirePayload>(json, WireJson);
        }
        catch (JsonException)
        {
            return null;
        }
        if (wire is null || string.IsNullOrEmpty(wire.Sid) || string.IsNullOrEmpty(wire.Pid) || wire.Name is null) return null;
        if (!TryParseRole(wire.Role, out var role)) return null;
        if (wire.Iat is not { } iat || wire.Exp is not { } exp || exp <= iat) return null;
        try
        {
            return new JoinTokenPayload(wire.Sid, wire.Pid, role, wire.Name,
                DateTimeOffset.FromUnixTimeSeconds(iat), DateTimeOffset.FromUnixTimeSeconds(exp));
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static readonly JsonSerializerOptions WireJson = new()
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>The payload on the wire: short names keep links short.</summary>
    private sealed class WirePayload
    {
        public string? Sid { get; set; }
        public string? Pid { get; set; }
        public string? Role { get; set; }
        public string? Name { get; set; }
        public long? Iat { get; set; }
        public long? Exp { get; set; }
    }
}
