using System.Buffers.Binary;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// Answers a subscriber's Generic NACKs (RFC 4585 §6.2.1) for one outgoing stream: maps each lost outgoing seq
/// back to the source packet through the stream's <see cref="RtpStreamRewriter"/>, fetches it from the
/// publication's <see cref="IRetransmissionSource"/> and writes the packet to resend into a caller buffer,
/// rewritten exactly as it was forwarded (SSRC, seq, timestamp, payload type, extension ids) or, when the
/// subscriber negotiated RTX for that payload type, as an RTX packet (RFC 4588 §4). A seq is resent at most
/// once per <see cref="MinResendInterval"/>. Single-threaded, no allocation after construction.
/// <example><code>
/// foreach (ushort seq in nack.LostSequenceNumbers)
/// {
///     int n = responder.TryBuildRetransmission(seq, buffer, now, scratch);
///     if (n > 0) peer.SendRtp(scratch[..n]);
/// }
/// </code></example>
/// </summary>
public sealed class NackResponder
{
    private const int HistorySize = 1024; // power of two
    private const byte NoRtx = 0xFF;

    private readonly RtpStreamRewriter _rewriter;
    private readonly PayloadTypeMap? _payloadTypes;
    private readonly ExtensionIdMap? _extensionIds;
    private readonly byte[] _rtxPayloadType = new byte[128];
    private readonly ushort[] _sentSeq = new ushort[HistorySize];
    private readonly long[] _sentAt = new long[HistorySize]; // ticks + 1 (0 = never)
    private readonly ushort[] _requestedSeq = new ushort[HistorySize];
    private readonly bool[] _requested = new bool[HistorySize];

    /// <param name="rewriter">The rewriter of the subscriber's outgoing stream.</param>
    /// <param name="payloadTypes">Publisher-to-subscriber payload type map, if the forward path applies one.</param>
    /// <param name="extensionIds">Publisher-to-subscriber extension id map, if the forward path applies one.</param>
    public NackResponder(RtpStreamRewriter rewriter, PayloadTypeMap? payloadTypes = null, ExtensionIdMap? extensionIds = null)
    {
        _rewriter = rewriter;
        _payloadTypes = payloadTypes;
        _extensionIds = extensionIds;
        Array.Fill(_rtxPayloadType, NoRtx);
    }

    /// <summary>Minimum interval between two resends of one seq: about the subscriber's RTT (default 100 ms).</summary>
    public TimeSpan MinResendInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>RTX SSRC negotiated by the subscriber (a=ssrc-group:FID), or null to resend on the media SSRC.</summary>
    public uint? RtxSsrc { get; private set; }

    /// <summary>Next RTX sequence number (RTX has its own sequence space, RFC 4588 §4).</summary>
    public ushort RtxSequenceNumber { get; set; }

    /// <summary>Packets written by <see cref="TryBuildRetransmission"/>.</summary>
    public long RetransmittedCount { get; private set; }

    /// <summary>
    /// Enables RTX towards the subscriber: <paramref name="rtxSsrc"/> and, per subscriber media payload type, the
    /// RTX payload type (apt) from <paramref name="pairs"/>. Media payload types without a pair are resent plain.
    /// </summary>
    public void EnableRtx(uint rtxSsrc, IEnumerable<(byte MediaPayloadType, byte RtxPayloadType)> pairs, ushort initialRtxSequenceNumber = 0)
    {
        RtxSsrc = rtxSsrc;
        RtxSequenceNumber = initialRtxSequenceNumber;
        foreach (var (media, rtx) in pairs)
        {
            if (media > 127 || rtx > 127) throw new ArgumentOutOfRangeException(nameof(pairs));
            _rtxPayloadType[media] = rtx;
        }
    }

    /// <summary>
    /// Builds the retransmission of outgoing seq <paramref name="outSeq"/> into <paramref name="destination"/> and
    /// returns its length, or 0 if there is nothing to send: unknown seq, packet no longer buffered, resent within
    /// <see cref="MinResendInterval"/>, codec not mapped, or <paramref name="destination"/> too small.
    /// </summary>
    public int TryBuildRetransmission(ushort outSeq, IRetransmissionSource source, TimeSpan now, Span<byte> destination) =>
        TryBuild(outSeq, source, now, destination, probe: false);

    /// <summary>
    /// An RTX copy of outgoing seq <paramref name="outSeq"/> used as bandwidth-probe payload (RFC 4588 allows sending
    /// an RTX packet unasked; the receiver drops a duplicate): full-size probe packets, so a probe measures the path and
    /// not a shaper's burst allowance. Only with RTX negotiated; not counted as a retransmission.
    /// </summary>
    public int TryBuildProbe(ushort outSeq, IRetransmissionSource source, TimeSpan now, Span<byte> destination) =>
        RtxSsrc is null ? 0 : TryBuild(outSeq, source, now, destination, probe: true);

    /// <summary>Notes that the receiver NACKed outgoing seq <paramref name="outSeq"/>, and returns true if this is the
    /// first time (within the last <c>HistorySize</c> seqs): browsers NACK a packet again every round trip until it
    /// arrives or they give up, and a repeat is not a new loss.</summary>
    public bool NoteRequest(ushort outSeq)
    {
        int slot = outSeq & (HistorySize - 1);
        if (_requested[slot] && _requestedSeq[slot] == outSeq) return false;
        _requested[slot] = true;
        _requestedSeq[slot] = outSeq;
        return true;
    }

    private int TryBuild(ushort outSeq, IRetransmissionSource source, TimeSpan now, Span<byte> destination, bool probe)
    {
        int slot = outSeq & (HistorySize - 1);
        if (!probe && _sentAt[slot] != 0 && _sentSeq[slot] == outSeq && now.Ticks + 1 - _sentAt[slot] < MinResendInterval.Ticks) return 0;
        if (!_rewriter.TryMapToSource(outSeq, out uint ssrc, out ushort sourceSeq, out uint tsOffset)) return 0;
        if (!source.TryGet(ssrc, sourceSeq, now, out var original)) return 0;
        if (!RtpPacketReader.TryParse(original, out var reader)) return 0;

        byte payloadType = reader.PayloadType;
        if (_payloadTypes is not null && !_payloadTypes.TryMap(payloadType, out payloadType)) return 0;
        uint timestamp = reader.Timestamp + tsOffset;
        byte rtxPt = RtxSsrc.HasValue ? _rtxPayloadType[payloadType] : NoRtx;

        int length;
        if (rtxPt == NoRtx)
        {
            if (destination.Length < original.Length) return 0;
            original.CopyTo(destination);
            length = original.Length;
            destination[1] = (byte)((destination[1] & 0x80) | payloadType);
            RtpPacketRewriter.SetSequenceNumber(destination, outSeq);
            RtpPacketRewriter.SetSsrc(destination, _rewriter.OutgoingSsrc);
        }
        else
        {
            // RFC 4588 §4: same header (marker, CSRCs, extensions, timestamp) with the RTX SSRC, PT and sequence
            // number; the payload is the original sequence number as the subscriber knows it (OSN) followed by the
            // original payload, without its padding.
            length = RtxPacket.Wrap(reader, outSeq, RtxSsrc!.Value, rtxPt, RtxSequenceNumber, destination);
            if (length == 0) return 0;
            RtxSequenceNumber++;
        }
        RtpPacketRewriter.SetTimestamp(destination, timestamp);
        if (_extensionIds is not null && !_extensionIds.TryRewrite(destination[..length])) return 0;

        if (probe) return length;
        _sentSeq[slot] = outSeq;
        _sentAt[slot] = now.Ticks + 1;
        RetransmittedCount++;
        return length;
    }
}
