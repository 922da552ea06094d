using System.Text.Json;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>
/// Issue 11, interop beyond Chromium and aiortc: two more WebRTC stacks we did not write, run with node, as echo clients
/// against POST /api/echo, each with its own offer unmodified, sending audio and video and judging what comes back.
/// <list type="bullet">
/// <item>Google's libwebrtc (npm @roamhq/wrtc, tests/Support/wrtc/echo.mjs) encodes a 440 Hz tone and a 320x240 picture
/// with a moving square with its own Opus and VP8 encoders and decodes the echo with its own decoders: the tone's
/// frequency is measured in the decoded audio and the square is found at many places in the decoded frames.</item>
/// <item>werift (npm werift, tests/Support/werift/media-echo.mjs) has no codec: it sends a clip that libvpx and libopus
/// encoded (tests/Support/werift/media.py, PyAV from Debian's python3-aiortc) as RTP it packetizes itself, reassembles
/// the frames that come back, which must be byte for byte frames it sent, and libvpx/libopus decode them.</item>
/// </list>
/// scripts/install-test-deps.sh installs both node packages.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class NodeEchoTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AppHost _host = null!;

    public async Task InitializeAsync() => _host = await AppHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Libwebrtc_decodes_its_own_tone_and_moving_picture_echoed()
    {
        var result = await EchoAsync("wrtc", "@roamhq/wrtc", "echo.mjs");
        // 10 ms chunks: at least a second of decoded audio with the tone in it, at 440 Hz.
        Assert.True(result.GetProperty("loudChunks").GetInt32() >= 100, $"{result.GetProperty("loudChunks")} loud 10 ms chunks decoded");
        Assert.InRange(result.GetProperty("toneHz").GetInt32(), 400, 480);
        Assert.True(result.GetProperty("videoFrames").GetInt32() >= 15, $"{result.GetProperty("videoFrames")} video frames decoded");
        Assert.Contains("320x240", Strings(result.GetProperty("videoSizes")));
        // The picture moved: its square was found at many places in the decoded frames.
        Assert.True(result.GetProperty("squareColumns").GetInt32() >= 5, $"the square was seen at {result.GetProperty("squareColumns")} places");
    }

    [Fact]
    public async Task Werift_gets_its_own_frames_back_and_they_decode()
    {
        var result = await EchoAsync("werift", "werift", "media-echo.mjs");
        // Whole VP8 frames and Opus packets came back, each one byte for byte a frame werift sent.
        var frames = result.GetProperty("videoFramesReceived").GetInt32();
        var packets = result.GetProperty("audioPacketsReceived").GetInt32();
        Assert.True(frames >= 30, $"{frames} whole video frames came back");
        Assert.True(packets >= 100, $"{packets} audio packets came back");
        Assert.Equal(frames, result.GetProperty("videoFramesSent").GetInt32());
        Assert.Equal(packets, result.GetProperty("audioPacketsSent").GetInt32());
        // And they decode: every frame, as the moving picture; every packet, as the tone.
        var decoded = result.GetProperty("decoded");
        Assert.Equal(frames, decoded.GetProperty("videoFrames").GetInt32());
        Assert.Equal(0, decoded.GetProperty("videoErrors").GetInt32());
        Assert.Equal(["320x240"], Strings(decoded.GetProperty("videoSizes")));
        Assert.True(decoded.GetProperty("squareColumns").GetInt32() >= 5, $"the square was seen at {decoded.GetProperty("squareColumns")} places");
        Assert.Equal(packets, decoded.GetProperty("audioFrames").GetInt32());
        Assert.True(decoded.GetProperty("loudFrames").GetInt32() >= packets * 9 / 10, $"{decoded.GetProperty("loudFrames")} of {packets} Opus frames loud");
        Assert.InRange(decoded.GetProperty("toneHz").GetInt32(), 400, 480);
    }

    /// <summary>Runs the echo script and checks what every echo client must have: no problem, the offer taken, connected.</summary>
    private async Task<JsonElement> EchoAsync(string folder, string module, string script)
    {
        var run = await ExternalPeer.RunNodeAsync(folder, module, script, TimeSpan.FromSeconds(90), _host.BaseAddress.ToString(), "40");
        var result = ExternalPeer.Result(run, module, output.WriteLine);
        Assert.Equal(0, result.GetProperty("problems").GetArrayLength());
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(201, result.GetProperty("status").GetInt32());
        Assert.Equal("connected", result.GetProperty("connectionState").GetString());
        return result;
    }

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();
}
