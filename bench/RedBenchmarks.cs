using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Bench;

/// <summary>
/// RED (RFC 2198) for Opus as a browser sends it: one 20 ms frame of redundancy and the primary, both 80 bytes
/// (32 kbit/s), behind an audio RTP header with audio level, transport-wide sequence number and mid. Must allocate
/// nothing.
/// </summary>
[MemoryDiagnoser]
public class RedBenchmarks
{
    private const byte RedType = 63;
    private const byte OpusType = 111;

    private readonly byte[] _packet = new byte[256];
    private readonly byte[] _destination = new byte[256];
    private readonly byte[] _previous = new byte[80];
    private readonly byte[] _primary = new byte[80];
    private int _packetLength;
    private int _headerLength;
    private readonly byte[] _next = new byte[256];
    private RedForwarder _forwardRed = null!;
    private RedForwarder _strip = null!;
    private ushort _sequence = 1000;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        random.NextBytes(_previous);
        random.NextBytes(_primary);
        var writer = new RtpHeaderWriter(_packet, RedType, sequenceNumber: 1000, timestamp: 960_000, ssrc: 0x12345678, marker: false);
        writer.AddExtension(1, [0x9E]);
        Span<byte> value = stackalloc byte[2];
        TransportSequenceNumberExtension.Write(value, 4242);
        writer.AddExtension(3, value);
        writer.AddExtension(4, "0"u8);
        _headerLength = writer.Finish();
        _packetLength = _headerLength + RedPayload.Write(_packet.AsSpan(_headerLength), OpusType, _primary,
            [new RedundantBlock(OpusType, 960, _previous)]);
        _forwardRed = Forwarder(red: true);
        _strip = Forwarder(red: false);
    }

    private static RedForwarder Forwarder(bool red)
    {
        CodecDescription[] publisher = [new(RedType, "red", 48000, 2, "111/111"), new(OpusType, "opus", 48000, 2)];
        var forwarder = new RedForwarder(PayloadTypeMap.Build(publisher, red ? publisher : [new(OpusType, "opus", 48000, 2)]));
        forwarder.Gate.Update(RedDownlinkGate.OnLoss, 0, 0, TimeSpan.Zero);
        return forwarder;
    }

    /// <summary>A leg that negotiated RED, its gate open: the packet as it came, block payload types mapped.</summary>
    [Benchmark]
    public int ForwardRed()
    {
        var cursor = default(RedCursor);
        int total = 0, n;
        while ((n = _forwardRed.Next(_packet.AsSpan(0, _packetLength), ref cursor, _destination)) > 0) total += n;
        return total;
    }

    /// <summary>A leg without RED: the primary as plain Opus (sequence numbers advancing, nothing lost).</summary>
    [Benchmark]
    public int StripForward()
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(_packet.AsSpan(2), _sequence++);
        var cursor = default(RedCursor);
        int total = 0, n;
        while ((n = _strip.Next(_packet.AsSpan(0, _packetLength), ref cursor, _destination)) > 0) total += n;
        return total;
    }

    /// <summary>A leg without RED after one packet lost on the uplink: the lost packet rebuilt, then the primary.</summary>
    [Benchmark]
    public int StripForwardAfterLoss()
    {
        _sequence += 2;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(_packet.AsSpan(2), _sequence);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(_packet.AsSpan(4), (uint)(_sequence * 960));
        var cursor = default(RedCursor);
        int total = 0, n;
        while ((n = _strip.Next(_packet.AsSpan(0, _packetLength), ref cursor, _next)) > 0) total += n;
        return total;
    }

    [Benchmark]
    public int ParseRed()
    {
        if (!RtpPacketReader.TryParse(_packet.AsSpan(0, _packetLength), out var reader)) return -1;
        Span<RedBlock> blocks = stackalloc RedBlock[4];
        if (!RedPayload.TryParse(reader.Payload, blocks, out int count)) return -1;
        return blocks[count - 1].Length + blocks[0].TimestampOffset;
    }

    [Benchmark]
    public int StripToPrimary() =>
        RedPayload.TryStripToPrimary(_packet.AsSpan(0, _packetLength), _destination, out int written) ? written : -1;

    [Benchmark]
    public int ExtractRedundant() =>
        RedPayload.TryExtractRedundant(_packet.AsSpan(0, _packetLength), 0, 999, _destination, out int written) ? written : -1;

    [Benchmark]
    public int WriteRed() =>
        RedPayload.Write(_destination.AsSpan(_headerLength), OpusType, _primary, [new RedundantBlock(OpusType, 960, _previous)]);
}
