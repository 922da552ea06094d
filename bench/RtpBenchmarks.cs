using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Bench;

/// <summary>Per-packet RTP/RTCP paths of the SFU: must allocate nothing.</summary>
[MemoryDiagnoser]
public class RtpBenchmarks
{
    private readonly byte[] _packet = new byte[1200];
    private readonly byte[] _nack = new byte[64];
    private int _nackLength;
    private bool _flip;

    [GlobalSetup]
    public void Setup()
    {
        var writer = new RtpHeaderWriter(_packet, payloadType: 96, sequenceNumber: 1000, timestamp: 90000, ssrc: 0x12345678, marker: true);
        Span<byte> value = stackalloc byte[3];
        AbsSendTime.Write(value, AbsSendTime.FromTimeSpan(TimeSpan.FromSeconds(12.5)));
        writer.AddExtension(2, value);
        TransportSequenceNumberExtension.Write(value, 4242);
        writer.AddExtension(3, value[..2]);
        writer.AddExtension(4, "0"u8);
        int header = writer.Finish();
        new Random(1).NextBytes(_packet.AsSpan(header));

        Span<NackPair> pairs = stackalloc NackPair[8];
        int n = TransportLayerNack.BuildPairs([100, 101, 105, 130, 131, 140, 200, 216], pairs);
        _nackLength = new TransportLayerNack(1, 0x12345678, pairs[..n]).WriteTo(_nack);
    }

    [Benchmark]
    public int ParseRtpHeader()
    {
        if (!RtpPacketReader.TryParse(_packet, out var reader)) return -1;
        int sum = reader.SequenceNumber + (int)reader.Ssrc + reader.PayloadLength;
        if (reader.TryGetExtension(3, out var tw) && TransportSequenceNumberExtension.TryRead(tw, out var seq)) sum += seq;
        if (reader.TryGetExtension(4, out var mid) && RtpStringExtension.Equals(mid, "0")) sum++;
        return sum;
    }

    [Benchmark]
    public bool RewriteRtpHeader()
    {
        Span<byte> p = _packet;
        RtpPacketRewriter.SetSsrc(p, 0xCAFEBABE);
        RtpPacketRewriter.SetSequenceNumber(p, 2000);
        RtpPacketRewriter.SetTimestamp(p, 180000);
        _flip = !_flip;
        return _flip ? RtpPacketRewriter.TryChangeExtensionId(p, 3, 5) : RtpPacketRewriter.TryChangeExtensionId(p, 5, 3);
    }

    [Benchmark]
    public int ParseNack()
    {
        if (!TransportLayerNack.TryParse(_nack.AsSpan(0, _nackLength), out var nack)) return -1;
        int sum = 0;
        foreach (var seq in nack.LostSequenceNumbers) sum += seq;
        return sum;
    }
}
