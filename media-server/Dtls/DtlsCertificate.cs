using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace TeleRehab.Media.Dtls;

/// <summary>
/// The local DTLS identity: an ECDSA P-256 key pair with a self-signed X.509 certificate (WebRTC style,
/// RFC 8827 §6.5), plus its SHA-256 fingerprint for the SDP <c>a=fingerprint</c> attribute.
/// Immutable and shareable by all sessions.
/// </summary>
public sealed class DtlsCertificate
{
    private readonly byte[] _der;

    private DtlsCertificate(X509Certificate certificate, AsymmetricKeyParameter privateKey)
    {
        Certificate = certificate;
        PrivateKey = privateKey;
        _der = certificate.GetEncoded();
        Fingerprint = DtlsFingerprint.Compute(DtlsFingerprintAlgorithm.Sha256, _der);
    }

    /// <summary>BouncyCastle certificate.</summary>
    public X509Certificate Certificate { get; }

    /// <summary>ECDSA P-256 private key.</summary>
    public AsymmetricKeyParameter PrivateKey { get; }

    /// <summary>DER encoding of the certificate.</summary>
    public ReadOnlySpan<byte> Der => _der;

    /// <summary>SHA-256 fingerprint of the certificate.</summary>
    public DtlsFingerprint Fingerprint { get; }

    /// <summary>SDP attribute value, e.g. <c>sha-256 AB:CD:...</c> (RFC 8122 §5).</summary>
    public string SdpFingerprint => Fingerprint.ToString();

    /// <summary>Fingerprint of this certificate with another hash function.</summary>
    public DtlsFingerprint GetFingerprint(DtlsFingerprintAlgorithm algorithm) => DtlsFingerprint.Compute(algorithm, _der);

    /// <summary>
    /// Generates a fresh ECDSA P-256 self-signed certificate (signature ecdsa-with-SHA256), valid from one day
    /// before <paramref name="now"/> (default: the current UTC time; certificate generation is start-up code,
    /// not protocol code) for <paramref name="validity"/> (default 30 days).
    /// </summary>
    public static DtlsCertificate Generate(string commonName = "TeleRehab", DateTime? now = null, TimeSpan? validity = null)
    {
        var random = new SecureRandom();
        var curve = ECNamedCurveTable.GetByName("P-256");
        var domain = new ECDomainParameters(curve.Curve, curve.G, curve.N, curve.H, curve.GetSeed());
        var keyGen = new ECKeyPairGenerator("EC");
        keyGen.Init(new ECKeyGenerationParameters(
            new ECNamedDomainParameters(X9ObjectIdentifiers.Prime256v1, domain), random));
        AsymmetricCipherKeyPair keyPair = keyGen.GenerateKeyPair();

        DateTime start = (now ?? DateTime.UtcNow).AddDays(-1);
        var name = new X509Name("CN=" + commonName);
        var gen = new X509V3CertificateGenerator();
        gen.SetSerialNumber(new BigInteger(64, random).Add(BigInteger.One));
        gen.SetIssuerDN(name);
        gen.SetSubjectDN(name);
        gen.SetNotBefore(start);
        gen.SetNotAfter(start.AddDays(1) + (validity ?? TimeSpan.FromDays(30)));
        gen.SetPublicKey(keyPair.Public);
        X509Certificate cert = gen.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", keyPair.Private, random));
        return new DtlsCertificate(cert, keyPair.Private);
    }
}
