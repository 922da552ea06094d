using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Bwe;
using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Bench;

/// <summary>
/// The send-side bandwidth estimator's hot paths: recording one sent packet, and one transport-wide feedback for
/// 50 packets (parse, match to the history, loss/acked/probe/delay updates, rate control) including the 50
/// <c>OnPacketSent</c> calls it reports on. The feedback bytes are built once; each operation moves their base
/// sequence number and reference time forward so every packet is new to the estimator. Both must allocate 0 B/op.
/// </summary>
[MemoryDiagnoser]
public class BweBenchmarks
{
    private const int PacketsPerFeedback = 50;

    private SendSideBandwidthEstimator _bwe = null!;
    private readonly byte[] _feedback = new byte[512];
    private int _feedbackLength;
    private ushort _seq;
    private long _ticks;
    private uint _reference;

    private SendSideBandwidthEstimator _sendOnly = null!;
    private ushort _sendSeq;
    private long _sendTicks;

    [GlobalSetup]
    public void Setup()
    {
        _bwe = new SendSideBandwidthEstimator(30_000, 5_000_000, 1_000_000);
        _sendOnly = new SendSideBandwidthEstimator(30_000, 5_000_000, 1_000_000);
        // 50 packets sent 1.28 ms apart (64 ms per feedback), received with small jitter, one in ten lost.
        var builder = new TransportWideFeedbackBuilder(1, 2, 0);
        for (int i = 0; i < PacketsPerFeedback; i++)
        {
            if (i % 10 == 7) continue;
            var arrival = TimeSpan.FromMilliseconds(40 + 1.28 * i + (i % 3) * 0.5);
            builder.TryAddReceivedPacket((ushort)i, arrival);
        }
        _feedbackLength = builder.WriteTo(_feedback);
        for (int i = 0; i < 100; i++) FeedbackOf50Packets();
    }

    [Benchmark]
    public void OnPacketSent()
    {
        _sendTicks += 12_800;
        _sendOnly.OnPacketSent(_sendSeq++, 1200, -1, TimeSpan.FromTicks(_sendTicks));
    }

    [Benchmark]
    public long FeedbackOf50Packets()
    {
        ushort baseSeq = _seq;
        for (int i = 0; i < PacketsPerFeedback; i++)
        {
            _ticks += 12_800; // 1.28 ms
            _bwe.OnPacketSent(_seq++, 1200, -1, TimeSpan.FromTicks(_ticks));
        }
        // Base sequence number at byte 12, reference time (24 bits, 64 ms units) at bytes 16-18 of the message.
        BinaryPrimitives.WriteUInt16BigEndian(_feedback.AsSpan(12), baseSeq);
        _reference = (_reference + 1) & 0xFFFFFF;
        BinaryPrimitives.WriteUInt32BigEndian(_feedback.AsSpan(16), _reference << 8 | (byte)_reference);
        TransportWideFeedback.TryParse(_feedback.AsSpan(0, _feedbackLength), out var feedback);
        _bwe.OnTransportFeedback(feedback, TimeSpan.FromTicks(_ticks + 50 * TimeSpan.TicksPerMillisecond));
        return _bwe.TargetBitrate;
    }
}
