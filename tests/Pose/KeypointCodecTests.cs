using CsCheck;
using TeleRehab.Media.Pose;

namespace TeleRehab.Media.Tests.Pose;

public class KeypointCodecTests
{
    private static readonly Gen<Landmark> GenLandmark =
        Gen.Select(Gen.Float[-0.4f, 1.4f], Gen.Float[-0.4f, 1.4f], Gen.Float[-1.2f, 1.2f], Gen.Float[0f, 1f], Gen.Float[0f, 1f],
            (x, y, z, v, p) => new Landmark(x, y, z, v, p));

    private static readonly Gen<Landmark[]> GenLandmarks = GenLandmark.Array[KeypointFormat.LandmarkCount];

    private static KeypointFrame Frame(Landmark[] landmarks, uint timestamp)
    {
        var f = new KeypointFrame { TimestampMs = timestamp };
        for (int i = 0; i < landmarks.Length; i++) f.Landmarks[i] = landmarks[i];
        return f;
    }

    private static KeypointFrame Standing(uint timestamp, float shift = 0)
    {
        var f = new KeypointFrame { TimestampMs = timestamp };
        for (int i = 0; i < KeypointFormat.LandmarkCount; i++)
            f.Landmarks[i] = new Landmark(0.3f + i * 0.012f + shift, 0.1f + i * 0.025f, -0.2f + i * 0.01f, 0.9f, 0.95f);
        return f;
    }

    private static byte[] Encode(KeypointEncoder encoder, in KeypointFrame frame)
    {
        var buffer = new byte[KeypointFormat.MaxFrameLength];
        return buffer.AsSpan(0, encoder.Encode(frame, buffer)).ToArray();
    }

    [Fact]
    public void FullKeyFrameFitsIn120Bytes()
    {
        var encoder = new KeypointEncoder();
        byte[] bytes = Encode(encoder, Standing(1000));
        Assert.Equal(116, bytes.Length);
        Assert.Equal(KeypointFormat.FormatByte, bytes[0]);
        Assert.Equal(KeypointFormat.FlagZ | KeypointFormat.FlagVisibility, bytes[1]);
        Assert.True(KeypointFormat.MaxFrameLength <= 120);
    }

    [Fact]
    public void RandomFramesRoundTripWithinBoundsAndMaxLength()
    {
        Gen.Select(GenLandmarks, GenLandmarks, Gen.UInt).Sample((a, b, ts) =>
        {
            var options = new KeypointEncoderOptions();
            var encoder = new KeypointEncoder(options);
            var decoder = new KeypointDecoder();
            Span<byte> buffer = stackalloc byte[KeypointFormat.MaxFrameLength];
            foreach (var (lms, t) in new[] { (a, ts), (b, unchecked(ts + 200)) })
            {
                var input = Frame(lms, t);
                int n = encoder.Encode(input, buffer);
                Assert.InRange(n, 7, KeypointFormat.MaxFrameLength);
                Assert.True(decoder.TryDecode(buffer[..n], out var output));
                Assert.Equal(t, output.TimestampMs);
                KeypointVectorTests.AssertWithinBounds(input, output, options, "random");
            }
        }, iter: 2000);
    }

    [Fact]
    public void SmallMotionUsesDeltaFramesThatDecodeExactlyLikeKeyFrames()
    {
        var deltaEncoder = new KeypointEncoder();
        var keyEncoder = new KeypointEncoder(new KeypointEncoderOptions { KeyFrameInterval = 1 });
        var deltaDecoder = new KeypointDecoder();
        var keyDecoder = new KeypointDecoder();
        int deltas = 0;
        for (int k = 0; k < 30; k++)
        {
            var input = Standing((uint)(k * 200), MathF.Sin(k * 0.3f) * 0.05f);
            byte[] d = Encode(deltaEncoder, input), key = Encode(keyEncoder, input);
            if ((d[1] & KeypointFormat.FlagDelta) != 0) { deltas++; Assert.True(d.Length < key.Length); }
            Assert.True(deltaDecoder.TryDecode(d, out var a));
            Assert.True(keyDecoder.TryDecode(key, out var b));
            Assert.Equal(b.Landmarks[5], a.Landmarks[5]);
            for (int i = 0; i < KeypointFormat.LandmarkCount; i++) Assert.Equal(b.Landmarks[i], a.Landmarks[i]);
            Assert.Equal(k % 10 == 0, a.IsKeyFrame);
        }
        Assert.Equal(27, deltas);
    }

    [Fact]
    public void SequenceGapMakesTheDecoderWaitForAKeyFrame()
    {
        var encoder = new KeypointEncoder(new KeypointEncoderOptions { InitialSequence = 65533 });
        var decoder = new KeypointDecoder();
        var frames = Enumerable.Range(0, 5).Select(k => Encode(encoder, Standing((uint)(k * 200), k * 0.01f))).ToList();
        encoder.RequestKeyFrame();
        byte[] key = Encode(encoder, Standing(1000, 0.05f));
        Assert.True(decoder.TryDecode(frames[0], out _));
        Assert.True(decoder.TryDecode(frames[1], out var f1));
        Assert.Equal(65534, f1.Sequence);
        // frames[2] (sequence 65535) is lost
        Assert.False(decoder.TryDecode(frames[3], out _, out var s3));
        Assert.Equal(KeypointDecodeStatus.MissingReference, s3);
        Assert.False(decoder.HasReference);
        Assert.False(decoder.TryDecode(frames[4], out _, out var s4));
        Assert.Equal(KeypointDecodeStatus.MissingReference, s4);
        Assert.True(decoder.TryDecode(key, out var k5));
        Assert.True(k5.IsKeyFrame);
        Assert.Equal(2, k5.Sequence); // 65533 + 5 frames, wrapped
    }

    [Fact]
    public void StaleAndDuplicateFramesAreIgnored()
    {
        var encoder = new KeypointEncoder();
        var decoder = new KeypointDecoder();
        var frames = Enumerable.Range(0, 3).Select(k => Encode(encoder, Standing((uint)(k * 200), k * 0.01f))).ToList();
        Assert.True(decoder.TryDecode(frames[0], out _));
        Assert.True(decoder.TryDecode(frames[1], out _));
        Assert.False(decoder.TryDecode(frames[1], out _, out var dup));
        Assert.Equal(KeypointDecodeStatus.Stale, dup);
        Assert.False(decoder.TryDecode(frames[0], out _, out var old));
        Assert.Equal(KeypointDecodeStatus.Stale, old);
        Assert.True(decoder.TryDecode(frames[2], out var f2));
        Assert.Equal(2, f2.Sequence);
    }

    [Fact]
    public void MalformedFrameLeavesTheReferenceUntouched()
    {
        var encoder = new KeypointEncoder();
        var decoder = new KeypointDecoder();
        byte[] f0 = Encode(encoder, Standing(0)), f1 = Encode(encoder, Standing(200, 0.01f));
        Assert.True(decoder.TryDecode(f0, out _));
        Assert.False(decoder.TryDecode([.. f1, 0], out _, out var status));
        Assert.Equal(KeypointDecodeStatus.Malformed, status);
        Assert.False(decoder.TryDecode(f1.AsSpan(0, f1.Length - 1), out _));
        Assert.True(decoder.TryDecode(f1, out var ok));
        Assert.False(ok.IsKeyFrame);
    }

    [Fact]
    public void TryEncodeIntoAShortBufferFailsWithoutChangingTheEncoder()
    {
        var encoder = new KeypointEncoder(new KeypointEncoderOptions { InitialSequence = 9 });
        var frame = Standing(0);
        Assert.False(encoder.TryEncode(frame, new byte[50], out int needed));
        Assert.Equal(116, needed);
        Assert.Equal(9, encoder.NextSequence);
        Assert.Throws<ArgumentException>(() => encoder.Encode(frame, new byte[10]));
        Assert.Equal(116, encoder.Encode(frame, new byte[needed]));
        Assert.Equal(10, encoder.NextSequence);
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeypointEncoder(new KeypointEncoderOptions { KeyFrameInterval = 0 }));
    }

    [Fact]
    public void NonFiniteInputsAreAbsentOrClamped()
    {
        var frame = Standing(0);
        frame.Landmarks[0] = new Landmark(float.NaN, 0.5f);
        frame.Landmarks[1] = new Landmark(0.5f, float.PositiveInfinity);
        frame.Landmarks[2] = new Landmark(0.5f, 0.5f, float.NaN, float.PositiveInfinity);
        frame.Landmarks[3] = new Landmark(0.5f, 0.5f, float.NegativeInfinity, float.NaN);
        var decoder = new KeypointDecoder();
        Assert.True(decoder.TryDecode(Encode(new KeypointEncoder(), frame), out var d));
        Assert.False(d.Landmarks[0].IsPresent);
        Assert.False(d.Landmarks[1].IsPresent);
        Assert.False(d.Landmarks[3].IsPresent);
        Assert.InRange(d.Landmarks[2].Z, -KeypointFormat.ZErrorBound - 1e-6, KeypointFormat.ZErrorBound + 1e-6); // NaN z is sent as 0
        Assert.Equal(1f, d.Landmarks[2].Visibility);
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var encoder = new KeypointEncoder();
        byte[] key = Encode(encoder, Standing(0));
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var decoder = new KeypointDecoder();
            decoder.TryDecode(key, out _);
            bool ok = decoder.TryDecode(bytes, out var frame, out var status);
            Assert.Equal(ok, status == KeypointDecodeStatus.Ok);
            if (ok) Assert.InRange(frame.Landmarks[0].X, -0.25f - 1e-6f, 1.25f + 1e-6f);
        }, iter: 20000);
    }

    [Fact]
    public void MutatedFramesNeverThrow()
    {
        var encoder = new KeypointEncoder();
        var frames = Enumerable.Range(0, 6).Select(k => Encode(encoder, Standing((uint)(k * 200), k * 0.01f))).ToArray();
        Gen.Select(Gen.Int[1, 5], Gen.Int[0, 10_000].Array[1, 4], Gen.Int[0, 200]).Sample((which, flips, cut) =>
        {
            var decoder = new KeypointDecoder();
            for (int k = 0; k < which; k++) decoder.TryDecode(frames[k], out _);
            byte[] bytes = (byte[])frames[which].Clone();
            foreach (int f in flips) bytes[f / 8 % bytes.Length] ^= (byte)(1 << (f % 8));
            var span = bytes.AsSpan(0, Math.Min(cut, bytes.Length));
            bool ok = decoder.TryDecode(span, out _, out var status);
            Assert.Equal(ok, status == KeypointDecodeStatus.Ok);
        }, iter: 20000);
    }

    [Fact]
    public void EncodeAndDecodeAllocateNothingPerFrame()
    {
        var encoder = new KeypointEncoder();
        var decoder = new KeypointDecoder();
        Span<byte> buffer = stackalloc byte[KeypointFormat.MaxFrameLength];
        var frame = Standing(0);
        void Run(Span<byte> buf, ref KeypointFrame f)
        {
            for (int k = 0; k < 200; k++)
            {
                f.TimestampMs = (uint)(k * 200);
                f.Landmarks[13] = new Landmark(0.4f + (k % 7) * 0.01f, 0.5f, 0, 0.9f, 0.9f);
                int n = encoder.Encode(f, buf);
                if (!decoder.TryDecode(buf[..n], out _)) throw new InvalidOperationException("decode failed");
            }
        }
        Run(buffer, ref frame); // warm up (JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(buffer, ref frame);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void TheLongestValidFrameDecodes()
    {
        var decoder = new KeypointDecoder();
        Assert.True(decoder.TryDecode(Encode(new KeypointEncoder(), Standing(0)), out _));
        var bytes = new byte[KeypointFormat.MaxValidLength];
        new byte[] { 0xD1, 0x0F, 0x00, 0x01, 0x00, 0xC8, 0xBF }.CopyTo(bytes, 0); // delta + mask, widths 11/3/3
        bytes.AsSpan(7, 4).Fill(0xFF);
        bytes[11] = 0x80; // 33 mask bits, then 33 x 28 zero delta bits
        Assert.True(decoder.TryDecode(bytes, out var frame, out var status), status.ToString());
        Assert.Equal(200u, frame.TimestampMs);
        Assert.False(new KeypointDecoder().TryDecode(new byte[KeypointFormat.MaxValidLength + 1], out _));
    }
}
