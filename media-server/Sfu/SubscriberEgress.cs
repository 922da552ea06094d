using System.Buffers.Binary;
using TeleRehab.Media.Bwe;
using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Sfu;

/// <summary>Where a leg's egress hands packets to be encrypted and sent (the peer connection).</summary>
public interface IEgressTransport
{
    /// <summary>Encrypts <paramref name="buffer"/>[..<paramref name="length"/>] in place (the span has room for the
    /// SRTP tag) and sends it.</summary>
    bool SendRtp(Span<byte> buffer, int length);
}

/// <summary>Writes bandwidth-probe packets on the RTX stream (RFC 4588) of a video subscription.</summary>
public interface IPaddingSource
{
    /// <summary>Writes a probe packet into <paramref name="destination"/> (room for the SRTP tag behind it): an RTX copy of
    /// a recent packet, or padding only (<paramref name="paddingBytes"/>, at most 255: RFC 3550 §5.1) when there is none;
    /// returns its length, 0 when it cannot.</summary>
    int WritePadding(Span<byte> destination, int paddingBytes, TimeSpan now);
}

/// <summary>What kind of packet a leg sends (its pacing class).</summary>
public enum EgressKind : byte
{
    Audio,
    Video,
    Retransmission,
}

/// <summary>
/// The one egress point of a subscriber leg: every RTP packet the SFU sends on the leg passes here. It numbers the
/// leg's own transport-wide sequence (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2; the publisher's numbers
/// never cross the SFU), records each send in the leg's <see cref="SendSideBandwidthEstimator"/>, reads the
/// subscriber's transport-wide feedback, paces video at the estimate (<see cref="Pacer"/>: audio never waits), and
/// sends the estimator's probe clusters as RTX padding. Sans-I/O apart from the transport it is given; worker-thread
/// only; nothing allocated per packet.
/// </summary>
public sealed class SubscriberEgress
{
    /// <summary>SRTP tag and UDP/IPv4 headers: the estimator counts what the link carries.</summary>
    private const int Overhead = 10 + 8 + 20;
    private const int ProbePadding = 240;

    private readonly IEgressTransport _transport;
    private readonly byte[] _probeBuffer = new byte[2048];
    private ushort _transportSequence = (ushort)Random.Shared.Next(0, 0x8000);
    private ProbeCluster _probe;
    private bool _probing;
    private int _probePackets;
    private int _probeBytes;
    private TimeSpan _nextProbePacket;

    public SubscriberEgress(IEgressTransport transport, long startBps = 300_000, long maxBps = 5_000_000)
    {
        _transport = transport;
        Estimator = new SendSideBandwidthEstimator(minBps: 30_000, maxBps: maxBps, startBps: startBps);
        Pacer.RateBps = startBps;
    }

    /// <summary>The subscriber's transport-wide sequence extension id on this leg (-1: not negotiated, so no feedback
    /// will come and nothing is estimated).</summary>
    public int TransportSequenceExtensionId { get; set; } = -1;

    public SendSideBandwidthEstimator Estimator { get; }

    public Pacer Pacer { get; } = new();

    /// <summary>Where probe padding comes from (a video subscription with RTX); null: no probing, and a cluster under
    /// way is given up (else its next packet would stay due with nothing to send it from: a deadline in the past, as
    /// when a renegotiation drops the video subscription that padded).</summary>
    public IPaddingSource? PaddingSource
    {
        get => _paddingSource;
        set
        {
            _paddingSource = value;
            if (value is null) _probing = false;
        }
    }

    private IPaddingSource? _paddingSource;

    /// <summary>The leg's estimate in bit/s (the budget layer selection spends).</summary>
    public long EstimateBps => Estimator.TargetBitrate;

    public long PacketsSent { get; private set; }

    /// <summary>Packets dropped because the leg's transport-wide number could not be set (a malformed or full header).</summary>
    public long Unstampable { get; private set; }
    public long ProbePacketsSent { get; private set; }

    /// <summary>
    /// Sends (or queues, for video over the pacing budget) a rewritten packet held in <paramref name="buffer"/>
    /// (with room behind it for the transport-wide extension and the SRTP tag). False when the packet was dropped.
    /// </summary>
    public bool Send(Span<byte> buffer, int length, EgressKind kind, TimeSpan now)
    {
        // Pacing needs an estimate: without the subscriber's feedback there is none, and packets go as they come.
        if (kind != EgressKind.Video || Estimator.FeedbacksReceived == 0)
        {
            Pacer.Consume(length + Overhead, now);
            return Transmit(buffer, length, -1, now);
        }
        if (Pacer.TrySendNow(length + Overhead, now)) return Transmit(buffer, length, -1, now);
        if (Pacer.TryEnqueue(buffer[..length], now)) return true;
        return Transmit(buffer, length, -1, now); // the queue is full: send rather than drop
    }

    /// <summary>Stamps the leg's transport-wide number, records the send, encrypts and sends.</summary>
    private bool Transmit(Span<byte> buffer, int length, int probeClusterId, TimeSpan now)
    {
        if (TransportSequenceExtensionId > 0)
        {
            Span<byte> value = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(value, _transportSequence);
            if (!RtpPacketRewriter.TrySetExtension(buffer, ref length, TransportSequenceExtensionId, value))
            {
                Unstampable++;
                return false;
            }
            Estimator.OnPacketSent(_transportSequence, length + Overhead, probeClusterId, now);
            _transportSequence++;
        }
        PacketsSent++;
        return _transport.SendRtp(buffer, length);
    }

    /// <summary>The subscriber's transport-wide feedback about this leg.</summary>
    public void OnTransportFeedback(in TransportWideFeedback feedback, TimeSpan now)
    {
        if (TransportSequenceExtensionId <= 0) return;
        Estimator.OnTransportFeedback(feedback, now);
        Pacer.RateBps = Estimator.TargetBitrate;
    }

    public void OnRoundTripTime(TimeSpan rtt) => Estimator.OnRoundTripTime(rtt);

    /// <summary>What this leg would like to carry (all it subscribes to at full quality): probing looks for it.</summary>
    public void SetWantedBitrate(long bps, TimeSpan now)
    {
        if (TransportSequenceExtensionId > 0) Estimator.SetWantedBitrate(bps, now);
    }

    public TimeSpan? NextTimeout
    {
        get
        {
            var next = Pacer.NextTimeout;
            if (TransportSequenceExtensionId <= 0) return next;
            // The same conditions as HandleTimeout's: without them nothing would be sent, and the deadline would stay due.
            var probe = PaddingSource is null || Estimator.FeedbacksReceived == 0 ? null : _probing ? _nextProbePacket : Estimator.NextTimeout;
            return next is null ? probe : probe is null ? next : (next < probe ? next : probe);
        }
    }

    /// <summary>Sends what the pacer lets out now and the next probe packets.</summary>
    public void HandleTimeout(TimeSpan now)
    {
        while (Pacer.TryDequeue(now, out var slots, out var offset, out var length))
            Transmit(slots.AsSpan(offset, Pacer.SlotSize), length, -1, now);
        if (TransportSequenceExtensionId <= 0) return;
        Estimator.HandleTimeout(now);
        // Probes only once the subscriber's feedback shows it measures this leg (else they would be wasted).
        if (PaddingSource is null || Estimator.FeedbacksReceived == 0) return;
        // A cluster that cannot go out (no packet to copy as padding yet, or the transport refuses) is given up and the
        // next queued one is tried at once: a cluster left in the queue would keep the estimator's deadline in the past.
        for (var clusters = 0; clusters < MaxClustersPerTimeout; clusters++)
        {
            if (!_probing)
            {
                if (!Estimator.TryGetProbe(now, out var cluster)) break;
                _probe = cluster;
                _probing = true;
                _probePackets = 0;
                _probeBytes = 0;
                _nextProbePacket = now;
            }
            SendProbePackets(now);
            if (_probing) break; // the cluster goes on at its rate
        }
        Pacer.RateBps = Estimator.TargetBitrate;
    }

    private const int MaxClustersPerTimeout = 4;

    /// <summary>A probe cluster: padding at the cluster's rate until it has its packets and bytes (about 15 ms).</summary>
    private void SendProbePackets(TimeSpan now)
    {
        while (_probing && now >= _nextProbePacket)
        {
            var length = PaddingSource!.WritePadding(_probeBuffer, ProbePadding, now);
            if (length == 0 || !Transmit(_probeBuffer, length, _probe.Id, now))
            {
                _probing = false;
                return;
            }
            ProbePacketsSent++;
            Pacer.Consume(length + Overhead, now);
            _probePackets++;
            _probeBytes += length + Overhead;
            _nextProbePacket += _probe.PacketInterval(length + Overhead);
            if (_probePackets >= _probe.MinPackets && _probeBytes >= _probe.MinBytes) _probing = false;
        }
    }
}
