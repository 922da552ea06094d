using System.Buffers.Binary;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>
/// Whether one receiver that negotiated RED (RFC 2198, <c>red/48000/2</c>) gets a voice's RED packets as they are or
/// stripped to plain Opus: redundancy doubles the voice's rate, so it goes down a leg only while the loss on the way to
/// that receiver warrants it and the leg's estimate has room for it. Hysteretic, on a clock passed in; cold path (called
/// with each receiver report).
/// </summary>
public sealed class RedDownlinkGate
{
    /// <summary>Loss (of 256) at or above which RED is forwarded: 2 %.</summary>
    public const byte OnLoss = 5;

    /// <summary>Loss (of 256) below which RED may stop: 1 %.</summary>
    public const byte OffLoss = 3;

    /// <summary>How long the loss must stay below <see cref="OffLoss"/> before RED stops (receivers report audio every
    /// few seconds, and loss on mobile links comes in spells).</summary>
    public static readonly TimeSpan OffAfter = TimeSpan.FromSeconds(10);

    private TimeSpan _lossySince = TimeSpan.MinValue;

    /// <summary>True while RED goes down this leg as it came.</summary>
    public bool ForwardRed { get; private set; }

    /// <summary>Times the gate changed its mind (for statistics and tests).</summary>
    public int Switches { get; private set; }

    /// <summary>
    /// Updates the gate with the latest loss on the way to the receiver (fraction of 256: the larger of its own report's
    /// and the publisher's uplink's, since the SFU forwards the gaps a RED receiver's decoder fills itself), the leg's
    /// estimate and the RED stream's rate (both bit/s; an estimate of 0 means none yet). RED needs twice its own rate in
    /// the estimate: what it adds must not take the leg's room for the rest.
    /// </summary>
    public bool Update(byte fractionLost, long estimateBps, long redBps, TimeSpan now)
    {
        bool room = estimateBps <= 0 || estimateBps >= 2 * redBps;
        if (fractionLost >= OffLoss) _lossySince = now;
        bool next = ForwardRed
            ? room && _lossySince != TimeSpan.MinValue && now - _lossySince < OffAfter
            : room && fractionLost >= OnLoss;
        if (next != ForwardRed)
        {
            ForwardRed = next;
            Switches++;
        }
        return next;
    }
}

/// <summary>
/// Recovers voice packets lost on the publisher's uplink from the redundancy of the RED packets that follow them, for a
/// receiver that gets plain Opus: RFC 2198 §3 puts earlier frames in each packet (WebRTC sends the previous one or two,
/// oldest first), so when source sequence numbers s-k..s-1 went missing and packet s carries k redundant blocks, block
/// i of n stands for s-(n-i). The rebuilt packet has the lost sequence number and the block's timestamp
/// (<see cref="RedPayload.TryExtractRedundant"/>). One per subscription; worker thread only; allocates nothing.
/// </summary>
public sealed class RedLossRecovery
{
    /// <summary>Gaps longer than this are not filled (WebRTC sends at most two redundant blocks).</summary>
    public const int MaxRecovered = 2;

    private bool _started;
    private uint _ssrc;
    private ushort _lastSeq;
    private uint _lastTimestamp;

    /// <summary>Packets rebuilt from redundancy.</summary>
    public long Recovered { get; private set; }

    /// <summary>Notes a packet of the stream that was forwarded (as RED, stripped, or plain Opus).</summary>
    public void OnForwarded(uint ssrc, ushort sequenceNumber, uint timestamp)
    {
        if (_started && ssrc == _ssrc && (short)(ushort)(sequenceNumber - _lastSeq) <= 0) return; // late: keep the highest
        _started = true;
        _ssrc = ssrc;
        _lastSeq = sequenceNumber;
        _lastTimestamp = timestamp;
    }

    /// <summary>
    /// How many packets right before RED packet <paramref name="redPacket"/> are missing and can be rebuilt from its
    /// redundant blocks (0 when none are missing, the stream is new or changed SSRC, or the gap is longer than the
    /// blocks reach). Call <see cref="TryRecover"/> for each, 1 (the oldest) to the count.
    /// </summary>
    public int MissingBefore(ReadOnlySpan<byte> redPacket, int redundantBlocks)
    {
        if (!_started || redPacket.Length < RtpPacketReader.FixedHeaderLength) return 0;
        if (BinaryPrimitives.ReadUInt32BigEndian(redPacket[8..]) != _ssrc) return 0;
        int gap = (short)(ushort)(BinaryPrimitives.ReadUInt16BigEndian(redPacket[2..]) - _lastSeq) - 1;
        if (gap <= 0 || gap > MaxRecovered || gap > redundantBlocks) return 0;
        return gap;
    }

    /// <summary>
    /// Writes the plain RTP packet for missing packet <paramref name="which"/> (1 = the oldest of
    /// <paramref name="missing"/>) into <paramref name="destination"/>; false when its block is empty or malformed or its
    /// timestamp is not between the last forwarded packet's and the RED packet's (a block that is not the lost frame:
    /// DTX, a sender with another redundancy distance).
    /// </summary>
    public bool TryRecover(ReadOnlySpan<byte> redPacket, int redundantBlocks, int missing, int which, Span<byte> destination, out int written)
    {
        written = 0;
        ushort redSeq = BinaryPrimitives.ReadUInt16BigEndian(redPacket[2..]);
        uint redTimestamp = BinaryPrimitives.ReadUInt32BigEndian(redPacket[4..]);
        ushort seq = (ushort)(redSeq - (missing - which + 1));
        int block = redundantBlocks - (missing - which + 1);
        if (block < 0 || !RedPayload.TryExtractRedundant(redPacket, block, seq, destination, out written)) return false;
        uint timestamp = BinaryPrimitives.ReadUInt32BigEndian(destination[4..]);
        // RFC 3550 timestamps wrap: compare as signed differences.
        if ((int)(timestamp - _lastTimestamp) <= 0 || (int)(redTimestamp - timestamp) <= 0)
        {
            written = 0;
            return false;
        }
        Recovered++;
        return true;
    }
}

/// <summary>Where <see cref="RedForwarder.Next"/> is in one voice packet's output; start with <c>default</c>.</summary>
public struct RedCursor
{
    internal int Step;
    internal int Missing;
    internal int Redundant;

    /// <summary>What the last packet written was.</summary>
    public RedOutput Last { get; internal set; }

    /// <summary>True when the packet itself was not forwardable (malformed RED, empty primary, unmapped codec).</summary>
    public bool Dropped { get; internal set; }
}

/// <summary>What <see cref="RedForwarder.Next"/> wrote.</summary>
public enum RedOutput
{
    None,
    /// <summary>A packet lost on the uplink, rebuilt from a redundant block.</summary>
    Recovered,
    /// <summary>The RED packet as it came, its block payload types mapped to the receiver's.</summary>
    Red,
    /// <summary>The RED packet's primary block as a plain Opus packet.</summary>
    Stripped,
    /// <summary>A packet that was not RED, copied as it came.</summary>
    Plain,
}

/// <summary>
/// One leg's handling of a voice whose publisher negotiated RED (RFC 2198): RED goes as it came to a receiver that
/// negotiated it while its <see cref="Gate"/> says so; otherwise it is stripped to its primary Opus block (RFC 2198 §3:
/// the last block; the RTP header is kept, so sequence numbers and the primary's timestamp stay as sent), after the packets
/// lost before it on the publisher's uplink are rebuilt from its redundancy (<see cref="Recovery"/>). Malformed RED is
/// dropped, never forwarded. The caller maps payload types, extension ids and sequence numbers as for any packet; this
/// only chooses and shapes the payloads. Worker thread only; allocates nothing per packet.
/// </summary>
public sealed class RedForwarder
{
    private readonly PayloadTypeMap _payloadTypes;

    public RedForwarder(PayloadTypeMap payloadTypes)
    {
        _payloadTypes = payloadTypes;
    }

    public RedDownlinkGate Gate { get; } = new();

    public RedLossRecovery Recovery { get; } = new();

    /// <summary>True while RED goes to this receiver as it came.</summary>
    public bool ForwardsRed => _payloadTypes.SubscriberHasRed && Gate.ForwardRed;

    /// <summary>
    /// Writes the next packet this leg gets for <paramref name="packet"/> (a decrypted RTP packet of the voice) into
    /// <paramref name="destination"/> and returns its length; 0 when there is none left. Call with the same
    /// <paramref name="cursor"/> until 0: the packets rebuilt from redundancy come first, oldest first, then the packet
    /// itself. <paramref name="destination"/> must not overlap <paramref name="packet"/>.
    /// </summary>
    public int Next(ReadOnlySpan<byte> packet, ref RedCursor cursor, Span<byte> destination)
    {
        cursor.Last = RedOutput.None;
        if (cursor.Step < 0) return 0;
        if (cursor.Step == 0)
        {
            if (packet.Length < RtpPacketReader.FixedHeaderLength || (packet[1] & 0x7F) != _payloadTypes.PublisherRedPayloadType)
            {
                cursor.Step = -1;
                if (destination.Length < packet.Length) { cursor.Dropped = true; return 0; }
                packet.CopyTo(destination);
                NoteForwarded(packet);
                cursor.Last = RedOutput.Plain;
                return packet.Length;
            }
            if (!RtpPacketReader.TryParse(packet, out var rtp) || !RedPayload.TryInspect(rtp.Payload, out cursor.Redundant, out var primary)
                || primary.Length == 0)
            {
                // To this receiver a loss, which the next packet's redundancy may fill.
                cursor.Step = -1;
                cursor.Dropped = true;
                return 0;
            }
            if (ForwardsRed && destination.Length >= packet.Length)
            {
                packet.CopyTo(destination);
                if (RedPayload.TryMapBlockPayloadTypes(destination.Slice(rtp.PayloadOffset, rtp.PayloadLength), _payloadTypes.Table))
                {
                    cursor.Step = -1;
                    NoteForwarded(packet);
                    cursor.Last = RedOutput.Red;
                    return packet.Length;
                }
                // A block of a codec this receiver lacks: the primary may still be Opus.
            }
            cursor.Missing = Recovery.MissingBefore(packet, cursor.Redundant);
            cursor.Step = 1;
        }
        while (cursor.Step <= cursor.Missing)
        {
            var which = cursor.Step++;
            if (Recovery.TryRecover(packet, cursor.Redundant, cursor.Missing, which, destination, out var recovered))
            {
                cursor.Last = RedOutput.Recovered;
                return recovered;
            }
        }
        cursor.Step = -1;
        if (!RedPayload.TryStripToPrimary(packet, destination, out var length))
        {
            cursor.Dropped = true;
            return 0;
        }
        NoteForwarded(packet);
        cursor.Last = RedOutput.Stripped;
        return length;
    }

    private void NoteForwarded(ReadOnlySpan<byte> packet) => Recovery.OnForwarded(
        BinaryPrimitives.ReadUInt32BigEndian(packet[8..]), BinaryPrimitives.ReadUInt16BigEndian(packet[2..]),
        BinaryPrimitives.ReadUInt32BigEndian(packet[4..]));
}
