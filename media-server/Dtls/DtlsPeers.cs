using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Org.BouncyCastle.X509;

namespace TeleRehab.Media.Dtls;

/// <summary>State shared by one session and its BouncyCastle peer object during the handshake.</summary>
internal sealed class DtlsHandshakeContext
{
    internal static readonly BcTlsCrypto Crypto = new(new SecureRandom());

    internal const string ExporterLabel = "EXTRACTOR-dtls_srtp";

    public required DtlsCertificate LocalCertificate { get; init; }
    public required DtlsFingerprint ExpectedRemoteFingerprint { get; init; }
    public required DtlsSessionOptions Options { get; init; }

    /// <summary>What is left of the overall handshake timeout when BouncyCastle starts (time queued counts).</summary>
    public int HandshakeTimeoutMillis;

    // Outcome (written by the handshake thread before the protocol call returns).
    public int SelectedProfile;
    public byte[]? KeyingMaterial;
    public DtlsFingerprint? RemoteFingerprint;
    public DtlsFailureReason Failure;
    public string? FailureMessage;
    public string? LastAlertRaised;

    public TlsCertificate LocalTlsCertificate()
        => new BcTlsCertificate(Crypto, LocalCertificate.Certificate.CertificateStructure);

    public TlsCredentialedSigner CreateSigner(TlsContext context)
        => new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), Crypto, LocalCertificate.PrivateKey,
            new Certificate([LocalTlsCertificate()]),
            SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));

    /// <summary>Checks the peer's end-entity certificate against the SDP fingerprint (RFC 5763 §5).</summary>
    public void VerifyPeerCertificate(Certificate? certificate)
    {
        if (certificate is null || certificate.IsEmpty)
        {
            Fail(DtlsFailureReason.NoPeerCertificate, "The peer presented no certificate.");
            throw new TlsFatalAlert(AlertDescription.handshake_failure);
        }
        byte[] der = certificate.GetCertificateAt(0).GetEncoded();
        if (!ExpectedRemoteFingerprint.Matches(der))
        {
            var actual = DtlsFingerprint.Compute(ExpectedRemoteFingerprint.Algorithm, der);
            Fail(DtlsFailureReason.FingerprintMismatch,
                $"Peer certificate fingerprint mismatch: expected '{ExpectedRemoteFingerprint}', got '{actual}'.");
            throw new TlsFatalAlert(AlertDescription.bad_certificate);
        }
        RemoteFingerprint = DtlsFingerprint.Compute(DtlsFingerprintAlgorithm.Sha256, der);
    }

    public void Fail(DtlsFailureReason reason, string message)
    {
        if (Failure == DtlsFailureReason.None)
        {
            Failure = reason;
            FailureMessage = message;
        }
    }

    public void ExportKeys(TlsContext context)
    {
        // RFC 5764 §4.2: 2 * (SRTPSecurityParams.master_key_len + SRTPSecurityParams.master_salt_len) bytes.
        int length = SrtpProtectionProfiles.GetKeyingMaterialLength(SelectedProfile);
        KeyingMaterial = context.ExportKeyingMaterial(ExporterLabel, null, length);
    }

    public static ProtocolVersion[] Versions => ProtocolVersion.DTLSv12.Only();
}

/// <summary>DTLS server side (we are passive): ECDSA certificate, mandatory client certificate, use_srtp.</summary>
internal sealed class DtlsSrtpServer(DtlsHandshakeContext state) : DefaultTlsServer(DtlsHandshakeContext.Crypto)
{
    private static readonly int[] s_cipherSuites =
    [
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    ];

    protected override ProtocolVersion[] GetSupportedVersions() => DtlsHandshakeContext.Versions;

    protected override int[] GetSupportedCipherSuites() => s_cipherSuites;

    public override int GetHandshakeTimeoutMillis() => state.HandshakeTimeoutMillis;

    public override int GetHandshakeResendTimeMillis() => (int)state.Options.InitialRetransmitTimeout.TotalMilliseconds;

    // Lets the session poll the record layer without blocking (see DtlsSession); RFC 6347 §4.1.2.7 also
    // says invalid records should be silently discarded.
    public override bool IgnoreCorruptDtlsRecords => true;

    protected override TlsCredentialedSigner GetECDsaSignerCredentials() => state.CreateSigner(m_context);

    public override CertificateRequest GetCertificateRequest()
    {
        // The client's certificate is what its SDP fingerprint authenticates (RFC 5763 §5): always request it.
        short[] types = [ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign];
        var algorithms = TlsUtilities.GetDefaultSupportedSignatureAlgorithms(m_context);
        return new CertificateRequest(types, algorithms, null);
    }

    public override void NotifyClientCertificate(Certificate clientCertificate)
        => state.VerifyPeerCertificate(clientCertificate);

    public override void ProcessClientExtensions(IDictionary<int, byte[]> clientExtensions)
    {
        base.ProcessClientExtensions(clientExtensions);
        UseSrtpData? offered = TlsSrtpUtilities.GetUseSrtpExtension(clientExtensions);
        if (offered is null)
        {
            state.Fail(DtlsFailureReason.NoSrtpProfile, "The client did not offer the use_srtp extension.");
            throw new TlsFatalAlert(AlertDescription.handshake_failure);
        }
        // RFC 5764 §4.1.2: the server picks one of the client's profiles; we apply our own preference order.
        foreach (int profile in state.Options.SrtpProfiles)
        {
            if (Array.IndexOf(offered.ProtectionProfiles, profile) >= 0)
            {
                state.SelectedProfile = profile;
                return;
            }
        }
        state.Fail(DtlsFailureReason.NoSrtpProfile, "No common SRTP protection profile.");
        throw new TlsFatalAlert(AlertDescription.handshake_failure);
    }

    public override IDictionary<int, byte[]> GetServerExtensions()
    {
        var extensions = base.GetServerExtensions();
        // We support no MKI: answer with an empty srtp_mki (RFC 5764 §4.1.1).
        TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData([state.SelectedProfile], TlsUtilities.EmptyBytes));
        return extensions;
    }

    public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause)
        => state.LastAlertRaised = AlertDescription.GetText(alertDescription) + (message is null ? "" : ": " + message);

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        state.ExportKeys(m_context);
    }
}

/// <summary>DTLS client side (we are active): offers use_srtp and presents our certificate.</summary>
internal sealed class DtlsSrtpClient(DtlsHandshakeContext state) : DefaultTlsClient(DtlsHandshakeContext.Crypto)
{
    private static readonly int[] s_cipherSuites =
    [
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    ];

    protected override ProtocolVersion[] GetSupportedVersions() => DtlsHandshakeContext.Versions;

    protected override int[] GetSupportedCipherSuites() => s_cipherSuites;

    public override int GetHandshakeTimeoutMillis() => state.HandshakeTimeoutMillis;

    public override int GetHandshakeResendTimeMillis() => (int)state.Options.InitialRetransmitTimeout.TotalMilliseconds;

    public override bool IgnoreCorruptDtlsRecords => true;

    public override IDictionary<int, byte[]> GetClientExtensions()
    {
        var extensions = base.GetClientExtensions() ?? new Dictionary<int, byte[]>();
        TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData(state.Options.SrtpProfiles, TlsUtilities.EmptyBytes));
        return extensions;
    }

    public override void ProcessServerExtensions(IDictionary<int, byte[]> serverExtensions)
    {
        base.ProcessServerExtensions(serverExtensions);
        UseSrtpData? chosen = serverExtensions is null ? null : TlsSrtpUtilities.GetUseSrtpExtension(serverExtensions);
        // RFC 5764 §4.1.2: the server's extension carries exactly one of our profiles.
        if (chosen is null || chosen.ProtectionProfiles.Length != 1
            || Array.IndexOf(state.Options.SrtpProfiles, chosen.ProtectionProfiles[0]) < 0)
        {
            state.Fail(DtlsFailureReason.NoSrtpProfile, chosen is null
                ? "The server did not accept the use_srtp extension."
                : "The server selected an SRTP protection profile we did not offer.");
            throw new TlsFatalAlert(chosen is null ? AlertDescription.handshake_failure : AlertDescription.illegal_parameter);
        }
        // An MKI we did not offer must not be echoed back (RFC 5764 §4.1.1).
        if (chosen.Mki.Length != 0)
        {
            state.Fail(DtlsFailureReason.NoSrtpProfile, "The server returned an unexpected srtp_mki.");
            throw new TlsFatalAlert(AlertDescription.illegal_parameter);
        }
        state.SelectedProfile = chosen.ProtectionProfiles[0];
    }

    public override TlsAuthentication GetAuthentication() => new Authentication(state, this);

    public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause)
        => state.LastAlertRaised = AlertDescription.GetText(alertDescription) + (message is null ? "" : ": " + message);

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        state.ExportKeys(m_context);
    }

    private TlsContext Context => m_context;

    private sealed class Authentication(DtlsHandshakeContext state, DtlsSrtpClient client) : TlsAuthentication
    {
        public void NotifyServerCertificate(TlsServerCertificate serverCertificate)
            => state.VerifyPeerCertificate(serverCertificate?.Certificate);

        public TlsCredentials GetClientCredentials(CertificateRequest certificateRequest)
            => state.CreateSigner(client.Context);
    }
}
