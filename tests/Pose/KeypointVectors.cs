using System.Text.Json;
using TeleRehab.Media.Pose;

namespace TeleRehab.Media.Tests.Pose;

/// <summary>The vectors shared with the JavaScript codec's tests (keypoint-vectors.json, copied to the output).</summary>
internal static class KeypointVectors
{
    private static readonly Lazy<JsonDocument> Document = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Pose", "keypoint-vectors.json"))));

    public static JsonElement Root => Document.Value.RootElement;

    public static IEnumerable<JsonElement> Cases => Root.GetProperty("cases").EnumerateArray();

    public static JsonElement Case(string name) => Cases.Single(c => c.GetProperty("name").GetString() == name);

    public static KeypointEncoderOptions Options(JsonElement encoder)
    {
        var o = new KeypointEncoderOptions();
        if (encoder.TryGetProperty("keyFrameInterval", out var k)) o = o with { KeyFrameInterval = k.GetInt32() };
        if (encoder.TryGetProperty("absentThreshold", out var a)) o = o with { AbsentThreshold = a.GetDouble() };
        if (encoder.TryGetProperty("includeZ", out var z)) o = o with { IncludeZ = z.GetBoolean() };
        if (encoder.TryGetProperty("includeVisibility", out var v)) o = o with { IncludeVisibility = v.GetBoolean() };
        if (encoder.TryGetProperty("initialSequence", out var s)) o = o with { InitialSequence = s.GetUInt16() };
        return o;
    }

    /// <summary>Reads numbers as double and rounds them to float, as the JavaScript side does (Math.fround).</summary>
    public static KeypointFrame Input(JsonElement input)
    {
        var frame = new KeypointFrame { TimestampMs = (uint)(input.GetProperty("timestampMs").GetInt64() % (1L << 32)) };
        int i = 0;
        foreach (var lm in input.GetProperty("landmarks").EnumerateArray())
        {
            float F(int k) => (float)lm[k].GetDouble();
            frame.Landmarks[i++] = new Landmark(F(0), F(1), F(2), F(3), F(4));
        }
        Assert.Equal(KeypointFormat.LandmarkCount, i);
        return frame;
    }

    public static KeypointDecodeStatus Status(string? s) => s switch
    {
        "ok" => KeypointDecodeStatus.Ok,
        "malformed" => KeypointDecodeStatus.Malformed,
        "missing-reference" => KeypointDecodeStatus.MissingReference,
        "stale" => KeypointDecodeStatus.Stale,
        _ => throw new InvalidOperationException($"unknown status {s}"),
    };
}
