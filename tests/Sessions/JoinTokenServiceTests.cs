using System.Buffers.Text;
using CsCheck;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Media.Tests.Sessions;

public sealed class JoinTokenServiceTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static JoinTokenService Create(TimeProvider time, byte[]? key = null, double hours = 24) =>
        new(key ?? Key, TimeSpan.FromHours(hours), time);

    [Fact]
    public void Issued_token_round_trips_every_field()
    {
        var time = new FakeTimeProvider(Start);
        var tokens = Create(time);
        var token = tokens.Issue("sess1234abcd", "part1234abcd", ParticipantRole.Observer, "Grand-mère \"Zoë\" ✓");

        var result = tokens.Validate(token);

        Assert.True(result.IsValid, result.Reason);
        var payload = result.Payload!;
        Assert.Equal("sess1234abcd", payload.SessionId);
        Assert.Equal("part1234abcd", payload.ParticipantId);
        Assert.Equal(ParticipantRole.Observer, payload.Role);
        Assert.Equal("Grand-mère \"Zoë\" ✓", payload.DisplayName);
        Assert.Equal(Start, payload.IssuedAt);
        Assert.Equal(Start.AddHours(24), payload.ExpiresAt);
    }

    [Fact]
    public void Token_is_two_url_safe_parts()
    {
        var token = Create(new FakeTimeProvider(Start)).Issue("s", "p", ParticipantRole.Patient, "Ana");
        var parts = token.Split('.');
        Assert.Equal(2, parts.Length);
        Assert.All(token.Replace(".", ""), c => Assert.Contains(c, Base64UrlAlphabet));
        Assert.Equal(43, parts[1].Length); // 32-byte HMAC-SHA256, unpadded
    }

    [Fact]
    public void Signature_is_hmac_sha256_of_the_encoded_payload()
    {
        var token = Create(new FakeTimeProvider(Start)).Issue("s", "p", ParticipantRole.Therapist, "Dr. Lee");
        var parts = token.Split('.');
        var expected = HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(parts[0]));
        Assert.Equal(Base64Url.EncodeToString(expected), parts[1]);
        var json = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0]));
        Assert.Contains("\"role\":\"therapist\"", json);
    }

    [Fact]
    public void Changing_any_character_invalidates_the_token()
    {
        var tokens = Create(new FakeTimeProvider(Start));
        var token = tokens.Issue("sess1234abcd", "part1234abcd", ParticipantRole.Patient, "Ana");
        for (var i = 0; i < token.Length; i++)
        {
            if (token[i] == '.') continue;
            foreach (var replacement in new[] { NextChar(token[i], 1), NextChar(token[i], 32), '.', '=', '+' })
            {
                var tampered = string.Concat(token.AsSpan(0, i), replacement.ToString(), token.AsSpan(i + 1));
                var result = tokens.Validate(tampered);
                Assert.False(result.IsValid, $"position {i} -> '{replacement}' still valid");
                Assert.Null(result.Payload);
                Assert.Contains(result.Status, new[] { JoinTokenStatus.BadSignature, JoinTokenStatus.Malformed });
            }
        }
    }

    [Fact]
    public void Flipping_any_bit_of_the_decoded_bytes_invalidates_the_token()
    {
        var tokens = Create(new FakeTimeProvider(Start));
        var token = tokens.Issue("sess1234abcd", "part1234abcd", ParticipantRole.Patient, "Ana");
        var parts = token.Split('.');
        for (var part = 0; part < 2; part++)
        {
            var bytes = Base64Url.DecodeFromChars(parts[part]);
            for (var i = 0; i < bytes.Length; i++)
            {
                for (var bit = 0; bit < 8; bit++)
                {
                    var copy = (byte[])bytes.Clone();
                    copy[i] ^= (byte)(1 << bit);
                    var encoded = Base64Url.EncodeToString(copy);
                    var tampered = part == 0 ? encoded + "." + parts[1] : parts[0] + "." + encoded;
                    Assert.Equal(JoinTokenStatus.BadSignature, tokens.Validate(tampered).Status);
                }
            }
        }
    }

    [Fact]
    public void Non_canonical_trailing_bits_are_rejected()
    {
        var tokens = Create(new FakeTimeProvider(Start));
        var token = tokens.Issue("s", "p", ParticipantRole.Patient, "Ana");
        // 43 chars for 32 bytes: the last char's two low bits are unused; setting one decodes to the same bytes.
        var last = token[^1];
        var index = Base64UrlAlphabet.IndexOf(last);
        var sibling = Base64UrlAlphabet[index ^ 1];
        var result = tokens.Validate(token[..^1] + sibling);
        Assert.Equal(JoinTokenStatus.Malformed, result.Status);
    }

    [Fact]
    public void Token_from_another_key_has_a_bad_signature()
    {
        var time = new FakeTimeProvider(Start);
        var other = Create(time, RandomNumberGenerator.GetBytes(32));
        var result = Create(time).Validate(other.Issue("s", "p", ParticipantRole.Patient, "Ana"));
        Assert.Equal(JoinTokenStatus.BadSignature, result.Status);
        Assert.Contains("signature", result.Reason);
    }

    [Fact]
    public void Token_expires_after_the_configured_lifetime()
    {
        var time = new FakeTimeProvider(Start);
        var tokens = Create(time, hours: 2);
        var token = tokens.Issue("s", "p", ParticipantRole.Patient, "Ana");

        time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        Assert.True(tokens.Validate(token).IsValid);

        time.Advance(TimeSpan.FromSeconds(1));
        var result = tokens.Validate(token);
        Assert.Equal(JoinTokenStatus.Expired, result.Status);
        Assert.Contains("expired", result.Reason);
    }

    [Fact]
    public void Lifetime_comes_from_options_with_a_default_of_24_hours()
    {
        var time = new FakeTimeProvider(Start);
        var key = Convert.ToBase64String(Key);
        Assert.Equal(TimeSpan.FromHours(24), new JoinTokenService(new JoinTokenOptions { SigningKey = key }, time).Lifetime);
        var tokens = new JoinTokenService(new JoinTokenOptions { SigningKey = key, LifetimeHours = 0.5 }, time);
        var token = tokens.Issue("s", "p", ParticipantRole.Patient, "Ana");
        time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(JoinTokenStatus.Expired, tokens.Validate(token).Status);
    }

    [Fact]
    public void Token_issued_in_the_future_is_not_yet_valid()
    {
        var later = new FakeTimeProvider(Start.AddHours(1));
        var token = Create(later).Issue("s", "p", ParticipantRole.Patient, "Ana");
        var result = Create(new FakeTimeProvider(Start)).Validate(token);
        Assert.Equal(JoinTokenStatus.NotYetValid, result.Status);
        Assert.Contains("future", result.Reason);

        var withinSkew = Create(new FakeTimeProvider(Start.AddSeconds(30))).Issue("s", "p", ParticipantRole.Patient, "Ana");
        Assert.True(Create(new FakeTimeProvider(Start)).Validate(withinSkew).IsValid);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData(".abc")]
    [InlineData("abc.")]
    [InlineData("a.b.c")]
    [InlineData("eyJ9.AAAA")]
    [InlineData("e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("e30=.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("e3 0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Malformed_tokens_are_refused_with_a_reason(string? token)
    {
        var result = Create(new FakeTimeProvider(Start)).Validate(token);
        Assert.Equal(JoinTokenStatus.Malformed, result.Status);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
    }

    [Fact]
    public void Overlong_token_is_malformed()
    {
        var result = Create(new FakeTimeProvider(Start)).Validate(new string('A', JoinTokenService.MaxTokenLength) + ".AAAA");
        Assert.Equal(JoinTokenStatus.Malformed, result.Status);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"sid\":\"s\",\"pid\":\"p\",\"role\":\"admin\",\"name\":\"x\",\"iat\":1,\"exp\":2}")]
    [InlineData("{\"sid\":\"s\",\"pid\":\"p\",\"role\":\"patient\",\"name\":\"x\",\"iat\":5,\"exp\":5}")]
    [InlineData("{\"sid\":\"s\",\"pid\":\"p\",\"role\":\"patient\",\"name\":\"x\",\"iat\":1,\"exp\":2,\"admin\":true}")]
    [InlineData("not json")]
    public void Correctly_signed_but_invalid_payload_is_malformed(string json)
    {
        var encoded = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
        var mac = Base64Url.EncodeToString(HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(encoded)));
        var result = Create(new FakeTimeProvider(Start)).Validate(encoded + "." + mac);
        Assert.Equal(JoinTokenStatus.Malformed, result.Status);
    }

    [Fact]
    public void Random_input_never_validates_or_throws()
    {
        var tokens = Create(new FakeTimeProvider(Start));
        Gen.String[0, 200].Sample(text => Assert.False(tokens.Validate(text).IsValid));
        Gen.Byte.Array[0, 120].Sample(bytes =>
        {
            var text = Base64Url.EncodeToString(bytes) + "." + Base64Url.EncodeToString(bytes.Reverse().ToArray());
            Assert.False(tokens.Validate(text).IsValid);
        });
    }

    [Fact]
    public void Configured_key_must_be_base64_of_at_least_32_bytes()
    {
        var time = TimeProvider.System;
        Assert.Throws<InvalidOperationException>(() => new JoinTokenService(new JoinTokenOptions { SigningKey = "not base64!" }, time));
        Assert.Throws<InvalidOperationException>(() => new JoinTokenService(new JoinTokenOptions { SigningKey = Convert.ToBase64String(new byte[31]) }, time));
        Assert.Throws<InvalidOperationException>(() => new JoinTokenService(new JoinTokenOptions { LifetimeHours = 0 }, time));
        Assert.False(new JoinTokenService(new JoinTokenOptions { SigningKey = Convert.ToBase64String(new byte[32]) }, time).IsEphemeralKey);
    }

    [Fact]
    public void Missing_key_uses_a_random_key_and_warns()
    {
        var logger = new ListLogger<JoinTokenService>();
        var first = new JoinTokenService(new JoinTokenOptions(), TimeProvider.System, logger);
        var second = new JoinTokenService(new JoinTokenOptions(), TimeProvider.System);
        Assert.True(first.IsEphemeralKey);
        var token = first.Issue("s", "p", ParticipantRole.Patient, "Ana");
        Assert.True(first.Validate(token).IsValid);
        Assert.Equal(JoinTokenStatus.BadSignature, second.Validate(token).Status);
        Assert.Contains(logger.Messages, m => m.Level == LogLevel.Warning && m.Text.Contains("restart"));
    }

    private static char NextChar(char c, int step) =>
        Base64UrlAlphabet[(Base64UrlAlphabet.IndexOf(c) + step) % Base64UrlAlphabet.Length];
}

/// <summary>Collects log lines for assertions.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    public List<(LogLevel Level, string Text)> Messages { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Messages) Messages.Add((logLevel, formatter(state, exception)));
    }
}
