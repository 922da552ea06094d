using CsCheck;
using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.Tests.Dtls;

public class DtlsFingerprintTests
{
    [Fact]
    public void Certificate_is_self_signed_ecdsa_p256_with_sha256_fingerprint()
    {
        var cert = DtlsTestPair.ServerCertificate;
        Assert.Equal("1.2.840.10045.4.3.2", cert.Certificate.SigAlgOid); // ecdsa-with-SHA256
        cert.Certificate.Verify(cert.Certificate.GetPublicKey());
        var key = Assert.IsType<Org.BouncyCastle.Crypto.Parameters.ECPublicKeyParameters>(cert.Certificate.GetPublicKey());
        Assert.Equal(256, key.Parameters.N.BitLength);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(cert.Der), cert.Fingerprint.Value.ToArray());
    }

    [Fact]
    public void Sdp_format_is_uppercase_colon_separated_hex()
    {
        string sdp = DtlsTestPair.ServerCertificate.SdpFingerprint;
        Assert.Matches("^sha-256 [0-9A-F]{2}(:[0-9A-F]{2}){31}$", sdp);
        var hash = System.Security.Cryptography.SHA256.HashData(DtlsTestPair.ServerCertificate.Der);
        Assert.Equal("sha-256 " + BitConverter.ToString(hash).Replace('-', ':'), sdp);
    }

    [Fact]
    public void Parse_round_trips_and_matches_the_certificate()
    {
        var cert = DtlsTestPair.ClientCertificate;
        var parsed = DtlsFingerprint.Parse(cert.SdpFingerprint);
        Assert.Equal(cert.Fingerprint, parsed);
        Assert.True(parsed.Matches(cert.Der));
        Assert.False(parsed.Matches(DtlsTestPair.ServerCertificate.Der));

        // Lowercase hex, uppercase hash name and the a= prefix are accepted (RFC 8122 §5: case-insensitive).
        var lower = DtlsFingerprint.Parse("a=fingerprint:SHA-256 " + cert.SdpFingerprint[8..].ToLowerInvariant());
        Assert.Equal(parsed, lower);
    }

    [Theory]
    [InlineData(DtlsFingerprintAlgorithm.Sha1, "sha-1", 20)]
    [InlineData(DtlsFingerprintAlgorithm.Sha256, "sha-256", 32)]
    [InlineData(DtlsFingerprintAlgorithm.Sha384, "sha-384", 48)]
    [InlineData(DtlsFingerprintAlgorithm.Sha512, "sha-512", 64)]
    public void Other_hash_functions_are_supported(DtlsFingerprintAlgorithm algorithm, string name, int length)
    {
        var cert = DtlsTestPair.ClientCertificate;
        var fp = cert.GetFingerprint(algorithm);
        string text = fp.ToString();
        Assert.StartsWith(name + " ", text);
        Assert.Equal(length * 3 - 1, text.Length - name.Length - 1);
        Assert.True(DtlsFingerprint.TryParse(text, out var parsed));
        Assert.Equal(algorithm, parsed!.Algorithm);
        Assert.True(parsed.Matches(cert.Der));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha-256")]
    [InlineData("md5 AB:CD")]
    [InlineData("sha-256 AB:CD")]
    [InlineData("sha-256 AB-CD-EF")]
    [InlineData("sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:3G")]
    [InlineData("sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:")]
    [InlineData("sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22;33")]
    public void Malformed_fingerprints_are_rejected(string text)
    {
        Assert.False(DtlsFingerprint.TryParse(text, out var fp));
        Assert.Null(fp);
        Assert.Throws<FormatException>(() => DtlsFingerprint.Parse(text));
    }

    [Fact]
    public void Random_text_never_throws()
    {
        Gen.String.Sample(s => { DtlsFingerprint.TryParse(s, out _); }, iter: 2000);
        Gen.Char["0123456789ABCDEFabcdef:- sha"].Array[0, 120]
            .Select(chars => "sha-256 " + new string(chars))
            .Sample(s => { DtlsFingerprint.TryParse(s, out _); }, iter: 2000);
    }

    [Fact]
    public async Task Handshake_accepts_a_sha512_remote_fingerprint()
    {
        var options = new DtlsSessionOptions { HandshakeTimeout = TimeSpan.FromSeconds(30) };
        using var scheduler = new DtlsHandshakeScheduler(2);
        using var pair = new DtlsTestPair(options, options, scheduler, scheduler,
            clientExpects: DtlsTestPair.ServerCertificate.GetFingerprint(DtlsFingerprintAlgorithm.Sha512),
            serverExpects: DtlsTestPair.ClientCertificate.GetFingerprint(DtlsFingerprintAlgorithm.Sha1));
        var (client, server) = await pair.RunAsync();
        Assert.True(client.Success && server.Success, client + " / " + server);
    }
}
