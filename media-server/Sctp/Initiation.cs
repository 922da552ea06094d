namespace TeleRehab.Media.Sctp;

/// <summary>
/// Initiation (INIT) chunk, RFC 9260 §3.3.2: Initiate Tag, Advertised Receiver Window Credit, Number of Outbound
/// and Inbound Streams, Initial TSN, then parameters. Reads the State Cookie (§3.3.3.1), Supported
/// Extensions (RFC 5061 §4.2.7) and Forward-TSN-Supported (RFC 3758 §3.1) parameters; other known
/// parameters are skipped, unknown ones follow the high-bit rules of §3.2.1. Checks such as a zero
/// Initiate Tag or zero stream counts (answered with an ABORT) belong to the association, not here.
/// </summary>
public readonly ref struct Initiation : ISctpChunkWriter
{
    public Initiation(uint initiateTag, uint advertisedReceiverWindowCredit, ushort outboundStreams, ushort inboundStreams,
        uint initialTsn, ReadOnlySpan<byte> supportedExtensions = default, bool forwardTsnSupported = false)
    {
        InitiateTag = initiateTag;
        AdvertisedReceiverWindowCredit = advertisedReceiverWindowCredit;
        OutboundStreams = outboundStreams;
        InboundStreams = inboundStreams;
        InitialTsn = initialTsn;
        SupportedExtensions = supportedExtensions;
        ForwardTsnSupported = forwardTsnSupported;
        Parameters = default;
        HasUnrecognizedParametersToReport = false;
    }

    private Initiation(InitiationFields.Parsed p)
    {
        InitiateTag = p.InitiateTag;
        AdvertisedReceiverWindowCredit = p.AdvertisedReceiverWindowCredit;
        OutboundStreams = p.OutboundStreams;
        InboundStreams = p.InboundStreams;
        InitialTsn = p.InitialTsn;
        SupportedExtensions = p.SupportedExtensions;
        ForwardTsnSupported = p.ForwardTsnSupported;
        Parameters = p.Parameters;
        HasUnrecognizedParametersToReport = p.HasUnrecognizedParametersToReport;
    }

    public uint InitiateTag { get; }
    public uint AdvertisedReceiverWindowCredit { get; }
    public ushort OutboundStreams { get; }
    public ushort InboundStreams { get; }
    public uint InitialTsn { get; }

    /// <summary>Chunk types listed in Supported Extensions (RFC 5061 §4.2.7), one byte each; empty when absent.</summary>
    public ReadOnlySpan<byte> SupportedExtensions { get; }

    /// <summary>Whether the Forward-TSN-Supported parameter (RFC 3758 §3.1) is present.</summary>
    public bool ForwardTsnSupported { get; }

    /// <summary>All parameters as received (empty when built), for the association to re-walk with <see cref="SctpTlvReader"/>.</summary>
    public ReadOnlySpan<byte> Parameters { get; }

    /// <summary>An unknown parameter whose type asks for a report (§3.2.1) was met.</summary>
    public bool HasUnrecognizedParametersToReport { get; }

    /// <summary>True when this chunk lists <paramref name="type"/> in Supported Extensions.</summary>
    public bool SupportsExtension(SctpChunkType type) => SupportedExtensions.Contains((byte)type);

    public static bool TryParse(SctpChunk chunk, out Initiation result)
    {
        result = default;
        if (!InitiationFields.TryParse(chunk, SctpChunkType.Init, out var parsed)) return false;
        result = new Initiation(parsed);
        return true;
    }

    public int GetSerializedLength() =>
        InitiationFields.GetSerializedLength(false, default, SupportedExtensions, ForwardTsnSupported);

    public int WriteTo(Span<byte> destination) =>
        InitiationFields.Write(destination, SctpChunkType.Init, InitiateTag, AdvertisedReceiverWindowCredit, OutboundStreams,
            InboundStreams, InitialTsn, false, default, SupportedExtensions, ForwardTsnSupported);
}
