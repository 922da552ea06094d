using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Bench;

/// <summary>
/// The SFU's per-packet building blocks on a 1,200-byte-payload video packet carrying three one-byte header
/// extensions (audio level, transport-wide seq, mid): forward rewrite (SSRC/seq/ts + payload type map +
/// extension id remap), retransmission-buffer store, NACK generator bookkeeping, receive statistics, and
/// building one RTX retransmission, and the ladder's standing-queue meter. Every benchmark must allocate 0 B/op.
/// </summary>
[MemoryDiagnoser]
public class SfuBenchmarks
{
    private const uint PublisherSsrc = 0x11111111;

    private byte[] _packet = null!;
    private readonly byte[] _work = new byte[1500];
    private RtpStreamRewriter _rewriter = null!;
    private PayloadTypeMap _payloadTypes = null!;
    private ExtensionIdMap _extensionIds = null!;
    private RetransmissionBuffer _buffer = null!;
    private NackGenerator _nacks = null!;
    private NackResponder _responder = null!;
    private ReceiveStatistics _receive = null!;
    private readonly QueueDelayMeter _queueDelay = new(48000);
    private readonly ushort[] _lost = new ushort[64];
    private ushort _seq;
    private int _headerLength;
    private long _tick;

    [GlobalSetup]
    public void Setup()
    {
        var buffer = new byte[1500];
        var writer = new RtpHeaderWriter(buffer, 96, 0, 0, PublisherSsrc);
        writer.AddExtension(1, [0x90]);
        writer.AddExtension(3, [0x00, 0x01]);
        writer.AddExtension(4, "0"u8);
        int header = writer.Finish();
        _headerLength = header;
        new Random(5).NextBytes(buffer.AsSpan(header, 1200));
        _packet = buffer[..(header + 1200)];

        _rewriter = new RtpStreamRewriter(0x22222222, 90000, 1000, 5000);
        _payloadTypes = PayloadTypeMap.Build(
            [new(96, "VP8", 90000), new(97, "rtx", 90000, Fmtp: "apt=96")],
            [new(120, "VP8", 90000), new(121, "rtx", 90000, Fmtp: "apt=120")]);
        _extensionIds = ExtensionIdMap.Build(
            [new(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"), new(3, "twcc"), new(4, "urn:ietf:params:rtp-hdrext:sdes:mid")],
            [new(5, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"), new(2, "twcc"), new(9, "urn:ietf:params:rtp-hdrext:sdes:mid")]);
        _buffer = new RetransmissionBuffer(512);
        _nacks = new NackGenerator();
        _responder = new NackResponder(_rewriter, _payloadTypes, _extensionIds);
        _responder.EnableRtx(0x33333333, PayloadTypeMap.GetRtxPairs([new(120, "VP8", 90000), new(121, "rtx", 90000, Fmtp: "apt=120")]));
        _receive = new ReceiveStatistics(PublisherSsrc, 90000);
        // Fill the buffer and the rewriter history so RespondRtx finds its packets.
        for (int i = 0; i < 512; i++) ForwardOne();
    }

    private TimeSpan Next(out ushort seq)
    {
        seq = ++_seq;
        _tick += TimeSpan.TicksPerMillisecond;
        return TimeSpan.FromTicks(_tick);
    }

    [Benchmark]
    public bool ForwardOne()
    {
        var now = Next(out ushort seq);
        RtpPacketRewriter.SetSequenceNumber(_packet, seq);
        RtpPacketRewriter.SetTimestamp(_packet, seq * 3000u);
        var work = _work.AsSpan(0, _packet.Length);
        _packet.CopyTo(work);
        return _rewriter.TryRewrite(work, now, out _) && _payloadTypes.TryRewrite(work) && _extensionIds.TryRewrite(work)
            && _buffer.Store(_packet, now);
    }

    [Benchmark]
    public bool RewriteAndMap()
    {
        var now = Next(out ushort seq);
        var work = _work.AsSpan(0, _packet.Length);
        RtpPacketRewriter.SetSequenceNumber(work, seq);
        RtpPacketRewriter.SetSsrc(work, PublisherSsrc);
        RtpPacketRewriter.SetPayloadType(work, 96);
        return _rewriter.TryRewrite(work, now, out _) && _payloadTypes.TryRewrite(work);
    }

    /// <summary>Extension id remap alone: restore the publisher's header (ids) in the work copy, then remap it.</summary>
    [Benchmark]
    public bool ExtensionRemap()
    {
        _packet.AsSpan(0, _headerLength).CopyTo(_work);
        return _extensionIds.TryRewrite(_work.AsSpan(0, _packet.Length));
    }

    [Benchmark]
    public bool RetransmissionStore()
    {
        var now = Next(out ushort seq);
        RtpPacketRewriter.SetSequenceNumber(_packet, seq);
        return _buffer.Store(_packet, now);
    }

    [Benchmark]
    public int NackGeneratorPerPacket()
    {
        var now = Next(out ushort seq);
        if ((seq & 63) == 0) seq++; // one loss in 64, so gaps and NACK scheduling are exercised
        _nacks.OnPacketReceived(seq, now);
        return _nacks.CollectNacks(now, _lost);
    }

    [Benchmark]
    public bool ReceiveStatisticsPerPacket()
    {
        var now = Next(out ushort seq);
        return _receive.OnPacketReceived(seq, seq * 3000u, now);
    }

    /// <summary>The weak-link ladder's per-packet part: the standing-queue meter on an audio packet (one 20 ms packet,
    /// taken every 25 packets as the ladder's half-second check does).</summary>
    [Benchmark]
    public TimeSpan QueueDelayPerAudioPacket()
    {
        var now = Next(out ushort seq);
        _queueDelay.OnPacket(seq * 960u, now);
        return seq % 25 == 0 ? _queueDelay.TakeStandingDelay() : TimeSpan.Zero;
    }

    [Benchmark]
    public int RespondRtx()
    {
        _tick += TimeSpan.TicksPerMillisecond * 200; // past the per-seq resend interval
        var now = TimeSpan.FromTicks(_tick);
        ushort outSeq = (ushort)(_rewriter.HighestOutgoingSequenceNumber - 10);
        _buffer.MaxAge = TimeSpan.MaxValue;
        return _responder.TryBuildRetransmission(outSeq, _buffer, now, _work);
    }
}
