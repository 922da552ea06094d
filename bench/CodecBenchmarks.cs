using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Codecs;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Bench;

/// <summary>
/// The per-packet video layer path on a 1,200-byte VP8 RTP payload (descriptor with 15-bit PictureID, TL0PICIDX,
/// TID/Y, as libwebrtc sends L1T3 simulcast): parse the descriptor, decide forward/drop with the subscriber's
/// <see cref="LayerSelector"/>, rewrite PictureID/TL0PICIDX in place (or account for the dropped picture), and count
/// the packet in the publication's <see cref="LayerBitrateMeter"/>. Every benchmark must allocate 0 B/op.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private static readonly int[] TidPattern = [0, 2, 1, 2];

    private readonly byte[] _payload = new byte[1200];
    private readonly byte[] _h264 = new byte[1200];
    private Vp8Rewriter _rewriter = null!;
    private LayerSelector _selector = null!;
    private LayerBitrateMeter _meter = null!;
    private int _picture;
    private byte _tl0;
    private long _tick;

    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_payload);
        _payload[0] = 0x90;                 // X, S, PID 0
        _payload[1] = 0xE0;                 // I, L, T
        _payload[6] |= 0x01;                // VP8 payload header: inter frame
        new Random(8).NextBytes(_h264);
        _h264[0] = 0x7C;                    // FU-A
        _h264[1] = 0x81;                    // start of a non-IDR slice: the parser looks at it and says no
        _rewriter = new Vp8Rewriter(100, 7);
        _selector = new LayerSelector();
        var rates = new LayerRates();
        rates.SetLayer(0, 100_000, 40_000, 40_000);
        rates.SetLayer(1, 250_000, 100_000, 100_000);
        rates.SetLayer(2, 700_000, 300_000, 300_000);
        _selector.Update(1_200_000, rates, TimeSpan.Zero); // S2T1: T2 frames are dropped
        _selector.OnPacket(2, 0, isKeyframe: true, isFrameStart: true);
        _meter = new LayerBitrateMeter();
    }

    /// <summary>Writes the next source picture's PictureID, TL0PICIDX and TID into the payload.</summary>
    private int NextPicture()
    {
        _picture = (_picture + 1) & 0x7FFF;
        int tid = TidPattern[_picture & 3];
        if (tid == 0) _tl0++;
        _payload[2] = (byte)(0x80 | (_picture >> 8));
        _payload[3] = (byte)_picture;
        _payload[4] = _tl0;
        _payload[5] = (byte)(tid << 6);
        return tid;
    }

    [Benchmark]
    public int ParseDescriptor()
    {
        NextPicture();
        return Vp8PayloadDescriptor.TryParse(_payload, out var d) ? d.PictureId + d.TemporalId + d.PayloadHeaderOffset : -1;
    }

    [Benchmark]
    public bool ParseAndRewrite()
    {
        NextPicture();
        return _rewriter.TryRewrite(_payload, 1);
    }

    [Benchmark]
    public LayerPacketAction SelectorOnPacket()
    {
        int tid = TidPattern[++_picture & 3];
        return _selector.OnPacket(2, tid, isKeyframe: false, isFrameStart: true);
    }

    /// <summary>The whole per-subscriber step: parse, decide, rewrite or account for the drop.</summary>
    [Benchmark]
    public bool ParseSelectRewrite()
    {
        NextPicture();
        if (!Vp8PayloadDescriptor.TryParse(_payload, out var d)) return false;
        var action = _selector.OnPacket(2, d.TemporalId, d.IsKeyframe, d.IsFrameStart, d.IsLayerSync);
        if (action == LayerPacketAction.Drop)
        {
            _rewriter.OnDropped(_payload, 1);
            return false;
        }
        return _rewriter.TryRewrite(_payload, 1);
    }

    [Benchmark]
    public void MeterOnPacket()
    {
        _tick += TimeSpan.TicksPerMillisecond;
        _meter.OnPacket(2, TidPattern[(int)(_tick & 3)], 1212, TimeSpan.FromTicks(_tick));
    }

    [Benchmark]
    public bool H264IsKeyframe() => H264Keyframe.IsKeyframe(_h264);
}
