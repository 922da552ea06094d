using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// The fixed fields and parameters shared by INIT (RFC 9260 §3.3.2) and INIT ACK (§3.3.3), read and
/// written by <see cref="Initiation"/> and <see cref="InitiationAcknowledgement"/>.
/// </summary>
internal static class InitiationFields
{
    /// <summary>Chunk header + Initiate Tag, a_rwnd, outbound streams, inbound streams, initial TSN.</summary>
    public const int FixedSize = SctpChunk.HeaderSize + 16;

    public ref struct Parsed
    {
        public uint InitiateTag;
        public uint AdvertisedReceiverWindowCredit;
        public ushort OutboundStreams;
        public ushort InboundStreams;
        public uint InitialTsn;
        public ReadOnlySpan<byte> Parameters;
        public ReadOnlySpan<byte> StateCookie;
        public ReadOnlySpan<byte> SupportedExtensions;
        public bool HasStateCookie;
        public bool ForwardTsnSupported;
        public bool HasUnrecognizedParametersToReport;
    }

    /// <summary>
    /// Reads the fixed fields and walks the parameters. Known ones are recorded; unknown ones follow the
    /// high-bit rules of §3.2.1 (a "stop" type ends the walk; "report" types set a flag so the
    /// association can send Unrecognized Parameters). A malformed parameter makes the chunk malformed.
    /// </summary>
    public static bool TryParse(SctpChunk chunk, SctpChunkType type, out Parsed parsed)
    {
        parsed = default;
        if (chunk.Type != type || chunk.Length < FixedSize) return false;
        var v = chunk.Value;
        parsed.InitiateTag = BinaryPrimitives.ReadUInt32BigEndian(v);
        parsed.AdvertisedReceiverWindowCredit = BinaryPrimitives.ReadUInt32BigEndian(v[4..]);
        parsed.OutboundStreams = BinaryPrimitives.ReadUInt16BigEndian(v[8..]);
        parsed.InboundStreams = BinaryPrimitives.ReadUInt16BigEndian(v[10..]);
        parsed.InitialTsn = BinaryPrimitives.ReadUInt32BigEndian(v[12..]);
        parsed.Parameters = v[16..];
        if (!SctpTlvReader.IsWellFormed(parsed.Parameters)) return false;

        var reader = new SctpTlvReader(parsed.Parameters);
        while (reader.TryReadNext(out var p))
        {
            switch ((SctpParameterType)p.Type)
            {
                case SctpParameterType.StateCookie:
                    parsed.StateCookie = p.Value;
                    parsed.HasStateCookie = true;
                    break;
                case SctpParameterType.SupportedExtensions:
                    parsed.SupportedExtensions = p.Value;
                    break;
                case SctpParameterType.ForwardTsnSupported:
                    parsed.ForwardTsnSupported = true;
                    break;
                case SctpParameterType.Ipv4Address:
                case SctpParameterType.Ipv6Address:
                case SctpParameterType.CookiePreservative:
                case SctpParameterType.HostNameAddress:
                case SctpParameterType.SupportedAddressTypes:
                case SctpParameterType.UnrecognizedParameter:
                    break; // recognized, not used by WebRTC
                default:
                    var action = SctpUnrecognized.ForParameter(p.Type);
                    if (action.Reports()) parsed.HasUnrecognizedParametersToReport = true;
                    if (!action.Continues()) return true;
                    break;
            }
        }
        return true;
    }

    public static int GetSerializedLength(bool hasStateCookie, ReadOnlySpan<byte> stateCookie, ReadOnlySpan<byte> supportedExtensions, bool forwardTsnSupported) =>
        FixedSize
        + (hasStateCookie ? SctpTlv.GetSerializedLength(stateCookie.Length) : 0)
        + (supportedExtensions.IsEmpty ? 0 : SctpTlv.GetSerializedLength(supportedExtensions.Length))
        + (forwardTsnSupported ? SctpTlv.HeaderSize : 0);

    public static int Write(Span<byte> destination, SctpChunkType type, uint initiateTag, uint arwnd, ushort outboundStreams,
        ushort inboundStreams, uint initialTsn, bool hasStateCookie, ReadOnlySpan<byte> stateCookie,
        ReadOnlySpan<byte> supportedExtensions, bool forwardTsnSupported)
    {
        int total = GetSerializedLength(hasStateCookie, stateCookie, supportedExtensions, forwardTsnSupported);
        // Every parameter is padded; the Chunk Length excludes only the last parameter's padding (§3.2).
        int lastPadding = forwardTsnSupported ? 0
            : !supportedExtensions.IsEmpty ? SctpChunk.PaddedLength(supportedExtensions.Length) - supportedExtensions.Length
            : hasStateCookie ? SctpChunk.PaddedLength(stateCookie.Length) - stateCookie.Length
            : 0;
        SctpChunk.WriteHeader(destination, (byte)type, 0, total - lastPadding);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], initiateTag);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], arwnd);
        BinaryPrimitives.WriteUInt16BigEndian(destination[12..], outboundStreams);
        BinaryPrimitives.WriteUInt16BigEndian(destination[14..], inboundStreams);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], initialTsn);
        int offset = FixedSize;
        if (hasStateCookie) offset += SctpTlv.Write(destination[offset..], (ushort)SctpParameterType.StateCookie, stateCookie);
        if (!supportedExtensions.IsEmpty) offset += SctpTlv.Write(destination[offset..], (ushort)SctpParameterType.SupportedExtensions, supportedExtensions);
        if (forwardTsnSupported) offset += SctpTlv.Write(destination[offset..], (ushort)SctpParameterType.ForwardTsnSupported, default);
        return offset;
    }
}
