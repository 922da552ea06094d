namespace TeleRehab.Media.Srtp;

/// <summary>
/// Splits the DTLS exporter output ("EXTRACTOR-dtls_srtp", RFC 5764 §4.2), laid out as
/// client_write_SRTP_master_key | server_write_SRTP_master_key | client_write_SRTP_master_salt |
/// server_write_SRTP_master_salt, into the local (protect) and remote (unprotect) master key and salt.
/// </summary>
public sealed class SrtpKeyingMaterial
{
    private SrtpKeyingMaterial(SrtpProfile profile, byte[] localKey, byte[] localSalt, byte[] remoteKey, byte[] remoteSalt)
    {
        Profile = profile;
        LocalMasterKey = localKey;
        LocalMasterSalt = localSalt;
        RemoteMasterKey = remoteKey;
        RemoteMasterSalt = remoteSalt;
    }

    public SrtpProfile Profile { get; }

    /// <summary>Master key this endpoint protects (sends) with.</summary>
    public ReadOnlyMemory<byte> LocalMasterKey { get; }

    /// <summary>Master salt this endpoint protects (sends) with.</summary>
    public ReadOnlyMemory<byte> LocalMasterSalt { get; }

    /// <summary>Master key the peer protects with (this endpoint unprotects with it).</summary>
    public ReadOnlyMemory<byte> RemoteMasterKey { get; }

    /// <summary>Master salt the peer protects with.</summary>
    public ReadOnlyMemory<byte> RemoteMasterSalt { get; }

    /// <summary>Exporter output length to request for <paramref name="profile"/>: 2 * (key + salt).</summary>
    public static int GetExporterLength(SrtpProfile profile) => profile.GetKeyingMaterialLength();

    /// <summary>
    /// Splits <paramref name="exporterOutput"/> for the DTLS role of this endpoint. The DTLS client
    /// sends with the client_write key and salt; the server with the server_write ones.
    /// </summary>
    public static SrtpKeyingMaterial FromDtlsExporter(SrtpProfile profile, ReadOnlySpan<byte> exporterOutput, bool isDtlsClient)
    {
        if (!profile.IsSupported()) throw new ArgumentOutOfRangeException(nameof(profile));
        int k = profile.GetMasterKeyLength(), s = profile.GetMasterSaltLength();
        if (exporterOutput.Length != 2 * (k + s))
            throw new ArgumentException($"Exporter output must be {2 * (k + s)} bytes for {profile}.", nameof(exporterOutput));
        byte[] clientKey = exporterOutput[..k].ToArray();
        byte[] serverKey = exporterOutput.Slice(k, k).ToArray();
        byte[] clientSalt = exporterOutput.Slice(2 * k, s).ToArray();
        byte[] serverSalt = exporterOutput.Slice(2 * k + s, s).ToArray();
        return isDtlsClient
            ? new SrtpKeyingMaterial(profile, clientKey, clientSalt, serverKey, serverSalt)
            : new SrtpKeyingMaterial(profile, serverKey, serverSalt, clientKey, clientSalt);
    }

    /// <summary>A context that protects this endpoint's outgoing RTP/RTCP.</summary>
    public SrtpContext CreateProtectContext() => SrtpContext.CreateForProtect(Profile, LocalMasterKey.Span, LocalMasterSalt.Span);

    /// <summary>A context that unprotects the peer's incoming SRTP/SRTCP.</summary>
    public SrtpContext CreateUnprotectContext() => SrtpContext.CreateForUnprotect(Profile, RemoteMasterKey.Span, RemoteMasterSalt.Span);
}
