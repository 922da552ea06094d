namespace TeleRehab.Media.Sctp;

/// <summary>
/// Initiation Acknowledgement (INIT ACK) chunk, RFC 9260 §3.3.3: Initiate Tag, Advertised Receiver Window Credit, Number of Outbound
/// and Inbound Streams, Initial TSN, then parameters. Reads the State Cookie (§3.3.3.1), Supported
/// Extensions (RFC 5061 §4.2.7) and Forward-TSN-Supported (RFC 3758 §3.1) parameters; other known
/// parameters are skipped, unknown ones follow the high-bit rules of §3.2.1. Checks such as a zero
/// Initiate Tag or zero stream counts (answered with an ABORT) belong to the association, not here.
/// </summary>
public readonly ref struct InitiationAcknowledgement : ISctpChunkWriter
{
    public InitiationAcknowledgement(uint initiateTag, uint advertisedReceiverWindowCredit, ushort outboundStreams, ushort inboundStreams,
        uint initialTsn, ReadOnlySpan<byte> supportedExtensions = default, bool forwardTsnSupported = false,
        ReadOnlySpan<byte> stateCookie = default)
    {
        InitiateTag = initiateTag;
        AdvertisedReceiverWindowCredit = advertisedReceiverWindowCredit;
        OutboundStreams = outboundStreams;
        InboundStreams = inboundStreams;
        InitialTsn = initialTsn;
        SupportedExtensions = supportedExtensions;
        ForwardTsnSupported = forwardTsnSupported;
        StateCookie = stateCookie;
        HasStateCookie = true;
        Parameters = default;
        HasUnrecognizedParametersToReport = false;
    }

    private InitiationAcknowledgement(InitiationFields.Parsed p)
    {
        InitiateTag = p.InitiateTag;
        AdvertisedReceiverWindowCredit = p.AdvertisedReceiverWindowCredit;
        OutboundStreams = p.OutboundStreams;
        InboundStreams = p.InboundStreams;
        InitialTsn = p.InitialTsn;
        SupportedExtensions = p.SupportedExtensions;
        ForwardTsnSupported = p.ForwardTsnSupported;
        StateCookie = p.StateCookie;
        HasStateCookie = p.HasStateCookie;
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

    /// <summary>The State Cookie parameter's value (§3.3.3.1); mandatory, see <see cref="HasStateCookie"/>.</summary>
    public ReadOnlySpan<byte> StateCookie { get; }

    /// <summary>False when a parsed INIT ACK lacks its mandatory State Cookie (the association reports Missing Mandatory Parameter).</summary>
    public bool HasStateCookie { get; }

    /// <summary>All parameters as received (empty when built), for the association to re-walk with <see cref="SctpTlvReader"/>.</summary>
    public ReadOnlySpan<byte> Parameters { get; }

    /// <summary>An unknown parameter whose type asks for a report (§3.2.1) was met.</summary>
    public bool HasUnrecognizedParametersToReport { get; }

    /// <summary>True when this chunk lists <paramref name="type"/> in Supported Extensions.</summary>
    public bool SupportsExtension(SctpChunkType type) => SupportedExtensions.Contains((byte)type);

    public static bool TryParse(SctpChunk chunk, out InitiationAcknowledgement result)
    {
        result = default;
        if (!InitiationFields.TryParse(chunk, SctpChunkType.InitAck, out var parsed)) return false;
        result = new InitiationAcknowledgement(parsed);
        return true;
    }

    public int GetSerializedLength() =>
        InitiationFields.GetSerializedLength(HasStateCookie, StateCookie, SupportedExtensions, ForwardTsnSupported);

    public int WriteTo(Span<byte> destination) =>
        InitiationFields.Write(destination, SctpChunkType.InitAck, InitiateTag, AdvertisedReceiverWindowCredit, OutboundStreams,
            InboundStreams, InitialTsn, HasStateCookie, StateCookie, SupportedExtensions, ForwardTsnSupported);
}
