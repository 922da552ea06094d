using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Codecs;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Sfu;
using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.Bench;

/// <summary>
/// One VP8 packet forwarded to one subscriber through the SFU's real per-subscriber path, the stages of the room's
/// <c>Subscription.Forward</c> composed from their public types (the room classes are internal): layer selection
/// (<see cref="LayerSelector"/>), copy into the subscriber's buffer, payload type and extension id mapping,
/// SSRC/seq/timestamp rewrite, PictureID/TL0PICIDX rewrite (<see cref="Vp8Rewriter"/>) and its record for resends
/// (<see cref="Vp8ForwardedHistory"/>), send statistics, then the
/// leg's <see cref="SubscriberEgress"/> (transport-wide sequence stamp, send-side estimator record, pacing budget
/// check) and an <see cref="IEgressTransport"/> that does what the peer connection does: SRTP-protect in place and
/// <c>sendto</c> on a UDP socket to a loopback address (never read; the kernel drops what overflows).
/// <para>
/// The packet is what a browser sends on one L1T3 VP8 encoding: a 24-byte header with the mid and transport-wide
/// sequence one-byte extensions, a descriptor with 15-bit PictureID, TL0PICIDX and TID, and 1,100 bytes of payload;
/// each operation is the next picture (TIDs 0, 2, 1, 2). The ingress's descriptor parse, done once per packet for all
/// subscribers, is not included: the layer information is passed in, as the room's ingress hands it over.
/// </para>
/// Every benchmark must allocate 0 B/op.
/// </summary>
[MemoryDiagnoser]
public class EgressBenchmarks
{
    private const uint PublisherSsrc = 0x11111111;
    private const uint SubscriberSsrc = 0x22222222;
    private const byte PublisherVp8 = 96;
    private const byte SubscriberVp8 = 120;
    private const int PublisherTwccId = 3;
    private const int PublisherMidId = 4;
    private const int SubscriberTwccId = 5;
    private const int PayloadLength = 1100;
    private static readonly int[] TidPattern = [0, 2, 1, 2];

    /// <summary>Time between two operations (the source's 100 pictures/s). Pacing is active (the estimator had one
    /// feedback) and kept out of the queue by advancing <c>now</c>: at the 1 Mbit/s estimate the pacer lets out
    /// 2.5 × 1 Mbit/s, 3,125 bytes per 10 ms, more than one ~1,160-byte packet, so every packet goes at once (checked
    /// in <see cref="Setup"/> and <see cref="Cleanup"/>).</summary>
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    [Params(SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AeadAes128Gcm)]
    public SrtpProfile Profile { get; set; }

    private readonly byte[] _packet = new byte[1500];
    private readonly byte[] _forwardBuffer = new byte[2048]; // as the room participant's ForwardBuffer
    private int _packetLength;
    private int _payloadOffset;
    private LayerSelector _layers = null!;
    private RtpStreamRewriter _rewriter = null!;
    private Vp8Rewriter _vp8 = null!;
    private readonly Vp8ForwardedHistory _vp8Forwarded = new();
    private PayloadTypeMap _payloadTypes = null!;
    private ExtensionIdMap _extensionIds = null!;
    private SendStatistics _statistics = null!;
    private SubscriberEgress _egress = null!;
    private LoopbackSrtpTransport _transport = null!;
    private int _picture;
    private byte _tl0;
    private ushort _seq;
    private TimeSpan _now;

    [GlobalSetup(Target = nameof(ForwardThroughEgress))]
    public void SetupForward() => Setup(budgetBps: 2_000_000); // S0T2: every packet forwarded

    [GlobalSetup(Target = nameof(DropTemporalLayer))]
    public void SetupDrop() => Setup(budgetBps: 280_000); // S0T1: TID 2 pictures dropped

    private void Setup(long budgetBps)
    {
        var writer = new RtpHeaderWriter(_packet, PublisherVp8, 0, 0, PublisherSsrc);
        writer.AddExtension(PublisherTwccId, [0x00, 0x01]);
        writer.AddExtension(PublisherMidId, "1"u8);
        _payloadOffset = writer.Finish();
        _packetLength = _payloadOffset + PayloadLength;
        var payload = _packet.AsSpan(_payloadOffset, PayloadLength);
        new Random(7).NextBytes(payload);
        payload[0] = 0x90; // X, S, PID 0: a frame start
        payload[1] = 0xE0; // I, L, T

        // The subscription's maps, built as the room builds them: the publisher's mid does not cross the SFU (mapped to
        // padding), its transport-wide number is mapped to the subscriber's id and overwritten by the egress.
        _payloadTypes = PayloadTypeMap.Build(
            [new(PublisherVp8, "VP8", 90000), new(97, "rtx", 90000, Fmtp: "apt=96")],
            [new(SubscriberVp8, "VP8", 90000), new(121, "rtx", 90000, Fmtp: "apt=120")]);
        _extensionIds = ExtensionIdMap.Build(
            [new(PublisherTwccId, SdpHeaderExtensionCapability.TransportWideCc), new(PublisherMidId, SdpHeaderExtensionCapability.Mid)],
            [new(SubscriberTwccId, SdpHeaderExtensionCapability.TransportWideCc)]);
        _rewriter = new RtpStreamRewriter(SubscriberSsrc, 90000, 1000, 5000);
        _vp8 = new Vp8Rewriter(100, 7);
        _statistics = new SendStatistics(SubscriberSsrc, 90000);
        _layers = new LayerSelector();
        var rates = new LayerRates();
        rates.SetLayer(0, 150_000, 75_000, 75_000);
        _layers.Update(budgetBps, rates, TimeSpan.Zero);

        var exporter = new byte[Profile.GetKeyingMaterialLength()];
        new Random(9).NextBytes(exporter);
        _transport = new LoopbackSrtpTransport(SrtpSession.FromDtlsExporter(Profile, exporter, isDtlsClient: false));
        _egress = new SubscriberEgress(_transport, startBps: 1_000_000) { TransportSequenceExtensionId = SubscriberTwccId };

        // 64 pictures (a key frame first, to make S0 current) with the transport-wide numbers recorded, then the
        // subscriber's feedback on them (all received, 20 ms later): from then on the egress paces video.
        _now = TimeSpan.FromSeconds(1);
        var sent = new List<(ushort Sequence, TimeSpan SendTime)>();
        _transport.Sent = sent;
        _transport.SentExtensionId = SubscriberTwccId;
        _transport.Now = () => _now;
        for (int i = 0; i < 64; i++)
        {
            int tid = NextPicture(i == 0 ? 0 : -1);
            Forward(tid, keyframe: i == 0);
        }
        _transport.Sent = null;
        var builder = new TransportWideFeedbackBuilder(SubscriberSsrc, SubscriberSsrc, 0);
        foreach (var (sequence, sendTime) in sent) builder.TryAddReceivedPacket(sequence, sendTime + TimeSpan.FromMilliseconds(20));
        var rtcp = new byte[1024];
        int length = builder.WriteTo(rtcp);
        if (!TransportWideFeedback.TryParse(rtcp.AsSpan(0, length), out var feedback)) throw new InvalidOperationException("feedback");
        _egress.OnTransportFeedback(feedback, _now + TimeSpan.FromMilliseconds(30));
        if (_egress.Estimator.FeedbacksReceived != 1 || _egress.Pacer.QueuedPackets != 0)
            throw new InvalidOperationException("setup: the estimator has no feedback or the pacer queued");
        // 10 ms of refill must cover one packet (~1,190 bytes on the wire) at 2.5 × the estimate.
        if (_egress.Pacer.RateBps * Pacer.PacingFactor / 8 * Step.TotalSeconds < 1_300)
            throw new InvalidOperationException($"setup: estimate {_egress.Pacer.RateBps} bit/s too low for one packet per {Step}");
        Console.WriteLine($"// egress setup: {sent.Count} packets sent, feedback received, estimate {_egress.EstimateBps} bit/s");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var queued = _egress.Pacer.PacketsQueued;
        Console.WriteLine($"// egress cleanup: {_egress.PacketsSent} sent, {_rewriter.ClosedGapCount} dropped, {queued} queued");
        _transport.Dispose();
        if (queued != 0) throw new InvalidOperationException($"{queued} packets waited in the pacer: the benchmark measured the queue");
    }

    /// <summary>Writes the next source picture (seq, timestamp, PictureID, TL0PICIDX, TID) into the publisher's packet;
    /// returns its TID.</summary>
    private int NextPicture(int forcedTid = -1)
    {
        _picture = (_picture + 1) & 0x7FFF;
        int tid = forcedTid >= 0 ? forcedTid : TidPattern[_picture & 3];
        if (tid == 0) _tl0++;
        _seq++;
        var packet = _packet.AsSpan(0, _packetLength);
        RtpPacketRewriter.SetSequenceNumber(packet, _seq);
        RtpPacketRewriter.SetTimestamp(packet, (uint)_picture * 3000);
        var payload = packet[_payloadOffset..];
        payload[2] = (byte)(0x80 | (_picture >> 8));
        payload[3] = (byte)_picture;
        payload[4] = _tl0;
        payload[5] = (byte)(tid << 6);
        payload[6] = (byte)(_picture == 1 ? 0x00 : 0x01); // VP8 payload header: key frame only for the first
        _now += Step;
        return tid;
    }

    /// <summary>The room's <c>Subscription.Forward</c> for a VP8 publication with temporal layers.</summary>
    private bool Forward(int tid, bool keyframe)
    {
        ReadOnlySpan<byte> packet = _packet.AsSpan(0, _packetLength);
        var buffer = _forwardBuffer;
        if (packet.Length > buffer.Length - 64) return false;
        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        var vp8 = (packet[1] & 0x7F) == PublisherVp8;
        var action = _layers.OnPacket(0, tid, keyframe, isFrameStart: true, isLayerSync: false);
        if (action == LayerPacketAction.Drop)
        {
            _rewriter.Drop(packet);
            if (vp8 && RtpPacketReader.TryParse(packet, out var dropped)) _vp8.OnDropped(dropped.Payload, ssrc);
            return false;
        }
        if (action == LayerPacketAction.ForwardSwitched && vp8) _vp8.SwitchSource(ssrc);
        var work = buffer.AsSpan(0, packet.Length);
        packet.CopyTo(work);
        if (!_payloadTypes.TryRewrite(work) || !_extensionIds.TryRewrite(work) || !_rewriter.TryRewrite(work, _now, out _)) return false;
        if (vp8 && RtpPacketReader.TryParse(work, out var rewritten))
        {
            var payload = work.Slice(rewritten.PayloadOffset, rewritten.PayloadLength);
            if (!_vp8.TryRewrite(payload, ssrc)) return false;
            _vp8Forwarded.Record(rewritten.SequenceNumber, payload);
        }
        _statistics.OnPacketSent(work, _now);
        return _egress.Send(buffer, packet.Length, EgressKind.Video, _now);
    }

    /// <summary>The next picture of the L1T3 stream (TIDs 0, 2, 1, 2), forwarded, encrypted and sent.</summary>
    [Benchmark]
    public bool ForwardThroughEgress() => Forward(NextPicture(), keyframe: false);

    /// <summary>A TID 2 picture above the subscriber's S0T1: the selector drops it, the sequence and PictureID
    /// rewriters close the gap (<see cref="RtpStreamRewriter.Drop(ReadOnlySpan{byte})"/>, <see cref="Vp8Rewriter.OnDropped"/>).</summary>
    [Benchmark]
    public bool DropTemporalLayer() => Forward(NextPicture(forcedTid: 2), keyframe: false);

    /// <summary>What the peer connection does with a leg's RTP: SRTP-protect in place, then sendto on the shared socket.</summary>
    private sealed class LoopbackSrtpTransport : IEgressTransport, IDisposable
    {
        private readonly SrtpSession _srtp;
        private readonly Socket _sender;
        private readonly Socket _receiver;
        private readonly UdpPacketPath _path;

        public LoopbackSrtpTransport(SrtpSession srtp)
        {
            _srtp = srtp;
            _receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _path = new UdpPacketPath(_sender, _receiver.LocalEndPoint!.Serialize());
        }

        /// <summary>Setup only: records the transport-wide number (extension <see cref="SentExtensionId"/>) of each packet sent.</summary>
        public List<(ushort Sequence, TimeSpan SendTime)>? Sent { get; set; }

        public int SentExtensionId { get; set; }

        public Func<TimeSpan> Now { get; set; } = () => TimeSpan.Zero;

        public bool SendRtp(Span<byte> buffer, int length)
        {
            if (Sent is not null && RtpPacketReader.TryParse(buffer[..length], out var rtp) && rtp.TryGetExtension(SentExtensionId, out var value))
                Sent.Add((BinaryPrimitives.ReadUInt16BigEndian(value), Now()));
            return _srtp.Protector.TryProtectRtp(buffer, length, out var protectedLength) && _path.Send(buffer[..protectedLength]);
        }

        public void Dispose()
        {
            _srtp.Dispose();
            _sender.Dispose();
            _receiver.Dispose();
        }
    }
}
