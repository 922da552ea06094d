using System.Text.Json;
using TeleRehab.Media.Pose;

namespace TeleRehab.Media.Tests.Pose;

public class KeypointVectorTests
{
    private const double FloatSlack = 1e-6;

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in KeypointVectors.Cases) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    [Fact]
    public void VectorsFileHasADozenCasesWithDeltasAndAGap()
    {
        var cases = KeypointVectors.Cases.ToList();
        Assert.True(cases.Count >= 12);
        Assert.Contains(cases, c => c.GetProperty("frames").EnumerateArray().Any(f => !f.GetProperty("keyFrame").GetBoolean()));
        Assert.Contains(cases, c => c.GetProperty("frames").EnumerateArray().Any(f => f.TryGetProperty("drop", out _)));
        var bounds = KeypointVectors.Root.GetProperty("errorBounds");
        Assert.Equal(KeypointFormat.XyErrorBound, bounds.GetProperty("xy").GetDouble(), 12);
        Assert.Equal(KeypointFormat.ZErrorBound, bounds.GetProperty("z").GetDouble(), 12);
        Assert.Equal(KeypointFormat.VisibilityErrorBound, bounds.GetProperty("visibility").GetDouble(), 12);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EncodesToTheExpectedBytes(string name)
    {
        var c = KeypointVectors.Case(name);
        var encoder = new KeypointEncoder(KeypointVectors.Options(c.GetProperty("encoder")));
        Span<byte> buffer = stackalloc byte[KeypointFormat.MaxFrameLength];
        int k = 0;
        foreach (var f in c.GetProperty("frames").EnumerateArray())
        {
            var input = f.GetProperty("input");
            if (input.TryGetProperty("requestKeyFrame", out _)) encoder.RequestKeyFrame();
            var frame = KeypointVectors.Input(input);
            int n = encoder.Encode(frame, buffer);
            Assert.True(f.GetProperty("hex").GetString() == Convert.ToHexStringLower(buffer[..n]), $"{name} frame {k}");
            Assert.Equal(f.GetProperty("length").GetInt32(), n);
            k++;
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void DecodesWithinTheErrorBounds(string name)
    {
        var c = KeypointVectors.Case(name);
        var options = KeypointVectors.Options(c.GetProperty("encoder"));
        var decoder = new KeypointDecoder();
        int k = 0, decoded = 0;
        foreach (var f in c.GetProperty("frames").EnumerateArray())
        {
            k++;
            if (f.TryGetProperty("drop", out _)) continue;
            byte[] bytes = Convert.FromHexString(f.GetProperty("hex").GetString()!);
            var expect = KeypointVectors.Status(f.GetProperty("expect").GetString());
            bool ok = decoder.TryDecode(bytes, out var frame, out var status);
            Assert.Equal(expect, status);
            Assert.Equal(expect == KeypointDecodeStatus.Ok, ok);
            if (!ok) continue;
            decoded++;
            var input = KeypointVectors.Input(f.GetProperty("input"));
            Assert.Equal(input.TimestampMs, frame.TimestampMs);
            Assert.Equal(f.GetProperty("keyFrame").GetBoolean(), frame.IsKeyFrame);
            AssertWithinBounds(input, frame, options, $"{name} frame {k - 1}");
        }
        Assert.True(decoded > 0);
    }

    [Fact]
    public void MalformedVectorsAreRejected()
    {
        foreach (var m in KeypointVectors.Root.GetProperty("malformed").EnumerateArray())
        {
            var decoder = new KeypointDecoder();
            if (m.TryGetProperty("after", out var after)) Assert.True(decoder.TryDecode(Convert.FromHexString(after.GetString()!), out _));
            byte[] bytes = Convert.FromHexString(m.GetProperty("hex").GetString()!);
            Assert.False(decoder.TryDecode(bytes, out _, out var status));
            Assert.True(KeypointVectors.Status(m.GetProperty("expect").GetString()) == status, m.GetProperty("name").GetString());
        }
    }

    internal static void AssertWithinBounds(in KeypointFrame input, in KeypointFrame decoded, KeypointEncoderOptions options, string where)
    {
        for (int i = 0; i < KeypointFormat.LandmarkCount; i++)
        {
            Landmark o = input.Landmarks[i], d = decoded.Landmarks[i];
            bool present = float.IsFinite(o.X) && float.IsFinite(o.Y)
                && o.Visibility >= options.AbsentThreshold && o.Presence >= options.AbsentThreshold;
            Assert.True(present == d.IsPresent, $"{where} landmark {i} presence");
            if (!present)
            {
                Assert.Equal(default, d);
                continue;
            }
            Assert.Equal(1f, d.Presence);
            Near(Math.Clamp(o.X, -0.25, 1.25), d.X, KeypointFormat.XyErrorBound, where, i, "x");
            Near(Math.Clamp(o.Y, -0.25, 1.25), d.Y, KeypointFormat.XyErrorBound, where, i, "y");
            if (options.IncludeZ) Near(Math.Clamp(o.Z, -1, 1), d.Z, KeypointFormat.ZErrorBound, where, i, "z");
            else Assert.Equal(0f, d.Z);
            if (options.IncludeVisibility) Near(Math.Clamp(o.Visibility, 0, 1), d.Visibility, KeypointFormat.VisibilityErrorBound, where, i, "visibility");
            else Assert.Equal(1f, d.Visibility);
        }
    }

    private static void Near(double expected, float actual, double bound, string where, int i, string field) =>
        Assert.True(Math.Abs(expected - actual) <= bound + FloatSlack, $"{where} landmark {i} {field}: {actual} vs {expected}");
}
