using CsCheck;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Tests.Stun;

namespace TeleRehab.Media.Tests.Ice;

public class Rfc4571FramerTests
{
    private static readonly byte[][] Packets =
    [
        Rfc5769Vectors.Request,                                        // STUN
        [0x16, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 1, 2, 3],     // DTLS handshake record
        [0x80, 0x60, 0x12, 0x34, 0, 0, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF, 9], // RTP
        [0x81, 0xC9, 0x00, 0x01, 0, 0, 0, 1],                          // RTCP RR
        Enumerable.Range(0, 3000).Select(i => i == 0 ? (byte)0x17 : (byte)i).ToArray(), // large DTLS app data
    ];

    private static byte[] Stream()
    {
        var stream = new List<byte>();
        foreach (var p in Packets)
        {
            var frame = new byte[Rfc4571Framer.GetFrameLength(p.Length)];
            Assert.True(Rfc4571Framer.TryWriteFrame(p, frame, out int n));
            Assert.Equal(frame.Length, n);
            Assert.Equal(p.Length, (frame[0] << 8) | frame[1]);
            stream.AddRange(frame);
        }
        return [.. stream];
    }

    private static List<byte[]> Feed(Rfc4571Deframer deframer, IEnumerable<byte[]> chunks)
    {
        var frames = new List<byte[]>();
        foreach (var chunk in chunks)
        {
            ReadOnlySpan<byte> input = chunk;
            while (deframer.TryReadFrame(ref input, out var frame)) frames.Add(frame.ToArray());
            Assert.True(input.IsEmpty || deframer.IsFaulted);
        }
        return frames;
    }

    [Fact]
    public void SplitAtEveryByteBoundaryYieldsTheSameFrames()
    {
        byte[] stream = Stream();
        for (int split = 0; split <= stream.Length; split++)
        {
            var deframer = new Rfc4571Deframer();
            var frames = Feed(deframer, [stream[..split], stream[split..]]);
            Assert.Equal(Packets, frames);
            Assert.False(deframer.IsFaulted);
            Assert.Equal(0, deframer.BufferedBytes);
        }
    }

    [Fact]
    public void OneByteAtATimeYieldsTheSameFrames()
    {
        byte[] stream = Stream();
        var frames = Feed(new Rfc4571Deframer(), stream.Select(b => new[] { b }));
        Assert.Equal(Packets, frames);
    }

    [Fact]
    public void RandomChunkingYieldsTheSameFrames()
    {
        byte[] stream = Stream();
        Gen.Int[1, 200].Array[1, 100].Sample(sizes =>
        {
            var chunks = new List<byte[]>();
            int pos = 0, i = 0;
            while (pos < stream.Length)
            {
                int n = Math.Min(sizes[i++ % sizes.Length], stream.Length - pos);
                chunks.Add(stream[pos..(pos + n)]);
                pos += n;
            }
            Assert.Equal(Packets, Feed(new Rfc4571Deframer(), chunks));
        }, iter: 300);
    }

    [Fact]
    public void OversizeFrameFaultsWithoutThrowing()
    {
        var deframer = new Rfc4571Deframer(maxFrameLength: 1500);
        ReadOnlySpan<byte> input = new byte[] { 0x05, 0xDD, 0x00 }; // 1501
        Assert.False(deframer.TryReadFrame(ref input, out _));
        Assert.True(deframer.IsFaulted);
        input = new byte[] { 0, 1, 0 };
        Assert.False(deframer.TryReadFrame(ref input, out _)); // stays faulted
        deframer.Reset();
        Assert.False(deframer.IsFaulted);
    }

    [Fact]
    public void GarbageFrameFaults()
    {
        var deframer = new Rfc4571Deframer();
        ReadOnlySpan<byte> input = "\0\u0005hello"u8; // 'h' = 104 is not STUN/DTLS/RTP/RTCP
        Assert.False(deframer.TryReadFrame(ref input, out _));
        Assert.True(deframer.IsFaulted);

        var lenient = new Rfc4571Deframer(requireKnownPacketKind: false);
        input = "\0\u0005hello"u8;
        Assert.True(lenient.TryReadFrame(ref input, out var frame));
        Assert.Equal("hello"u8.ToArray(), frame.ToArray());
    }

    [Fact]
    public void EmptyFramesAreSkipped()
    {
        var deframer = new Rfc4571Deframer();
        ReadOnlySpan<byte> input = new byte[] { 0, 0, 0, 1, 0x01, 0, 0 };
        Assert.True(deframer.TryReadFrame(ref input, out var frame));
        Assert.Equal(new byte[] { 0x01 }, frame.ToArray());
        Assert.False(deframer.TryReadFrame(ref input, out _));
        Assert.False(deframer.IsFaulted);
    }

    [Fact]
    public void RandomStreamsNeverThrow()
    {
        Gen.Byte.Array[0, 400].Array[1, 6].Sample(chunks =>
        {
            var deframer = new Rfc4571Deframer(maxFrameLength: 300);
            foreach (var chunk in chunks)
            {
                ReadOnlySpan<byte> input = chunk;
                while (deframer.TryReadFrame(ref input, out var frame)) Assert.InRange(frame.Length, 1, 300);
            }
        });
    }

    [Fact]
    public void WriterRejectsSmallDestination()
    {
        Assert.False(Rfc4571Framer.TryWriteFrame(new byte[10], new byte[11], out _));
        Assert.True(Rfc4571Framer.TryWriteFrame(new byte[10], new byte[12], out int n));
        Assert.Equal(12, n);
    }
}
