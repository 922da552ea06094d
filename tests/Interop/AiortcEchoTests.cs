using System.Text.Json;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Tests.Hosting;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>
/// Issue 11 with a second WebRTC stack we did not write: aiortc 1.4.0 (Debian's python3-aiortc, a strict ICE agent)
/// as an echo client against POST /api/echo, with its own offer unmodified, on a server bound to the wildcard address
/// of a host with several addresses (loopback and a non-loopback one). It sends a tone and a moving picture and
/// decodes both coming back. aiortc's offer gives extmap id 2 two meanings in one BUNDLE group; the answer has neither.
/// No check aioice makes may fail with "source address mismatch", which the one from the non-loopback address to the
/// server's 127.0.0.1 candidate did while replies left from the address the kernel picked. The script is tests/Support/aiortc/echo.py; scripts/install-test-deps.sh installs python3-aiortc.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AiortcEchoTests(ITestOutputHelper output)
{
    /// <summary>Every host address announced (the default), or only 127.0.0.1 (as a configured announced address): aiortc
    /// leaves loopback out of its own candidates, so there its only pairs go from the non-loopback address to
    /// 127.0.0.1, and ICE as a whole failed while the responses left from the wrong address.</summary>
    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1")]
    public async Task Aiortc_decodes_its_own_audio_and_video_echoed_with_its_offer_unmodified(string announced)
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Media:ListenAddress", "0.0.0.0"), ("TeleRehab:Media:AnnouncedAddress", announced));
        var udpPort = host.Media.UdpPort;
        var run = await ExternalPeer.RunPythonAsync("echo.py", TimeSpan.FromSeconds(90), host.BaseAddress.ToString(), "40");
        var result = ExternalPeer.Result(run, "aiortc", output.WriteLine);
        var exitCode = run.ExitCode;

        Assert.Equal(0, result.GetProperty("problems").GetArrayLength());
        Assert.Equal(0, exitCode);
        Assert.Equal(201, result.GetProperty("status").GetInt32());
        Assert.Equal("connected", result.GetProperty("connectionState").GetString());
        Assert.True(result.GetProperty("audioFrames").GetInt32() >= 10, $"aiortc decoded {result.GetProperty("audioFrames")} audio frames");
        Assert.True(result.GetProperty("videoFrames").GetInt32() >= 5, $"aiortc decoded {result.GetProperty("videoFrames")} video frames");
        Assert.Contains("320x240", result.GetProperty("videoSizes").EnumerateArray().Select(s => s.GetString()));

        // The offer went out as aiortc made it: id 2 with two meanings. The answer has neither (SdpAnswerer), and each
        // id it has keeps one meaning.
        var offered = Extmaps(result.GetProperty("offerExtmaps"));
        Assert.Contains((2, SdpHeaderExtensionCapability.AudioLevel), offered);
        Assert.Contains((2, SdpHeaderExtensionCapability.AbsSendTime), offered);
        var answered = Extmaps(result.GetProperty("answerExtmaps"));
        Assert.All(answered.GroupBy(e => e.Id), g => Assert.Single(g.Select(e => e.Uri).Distinct()));
        Assert.DoesNotContain(answered, e => e.Id == 2);

        // ICE from a host with several addresses: the server announced both, and the strict agent's check from the
        // non-loopback address to the 127.0.0.1 candidate succeeded (its response came from 127.0.0.1).
        var nonLoopback = SourceAddressTests.NonLoopbackAddress().ToString();
        var candidates = result.GetProperty("answerCandidates").EnumerateArray().Select(c => c.GetString()!).ToList();
        Assert.Contains(candidates, c => c.Contains($" 127.0.0.1 {udpPort} ", StringComparison.Ordinal));
        if (announced.Length == 0) Assert.Contains(candidates, c => c.Contains($" {nonLoopback} {udpPort} ", StringComparison.Ordinal));
        else Assert.DoesNotContain(candidates, c => c.Contains($" {nonLoopback} ", StringComparison.Ordinal));
        var pairs = result.GetProperty("pairs").EnumerateArray()
            .Select(p => (Local: p.GetProperty("local").GetString()!, Remote: p.GetProperty("remote").GetString()!, State: p.GetProperty("state").GetString()!))
            .ToList();
        Assert.Empty(result.GetProperty("sourceMismatches").EnumerateArray());
        Assert.Contains(pairs, p => p.State == "SUCCEEDED");
        // With one server candidate the pair from the non-loopback address to 127.0.0.1 is the only one, and checked
        // (with two, aioice may fail it unchecked once the other is nominated, RFC 8445 §8.1.2).
        if (announced.Length > 0)
        {
            Assert.Contains(pairs, p => p.Local.StartsWith(nonLoopback + ":", StringComparison.Ordinal)
                && p.Remote == $"127.0.0.1:{udpPort}" && p.State == "SUCCEEDED");
        }
    }

    private static List<(int Id, string Uri)> Extmaps(JsonElement lines) =>
        lines.EnumerateArray()
            .Select(l => l.GetString()!["a=extmap:".Length..].Split(' '))
            .Select(parts => (int.Parse(parts[0].Split('/')[0]), parts[1]))
            .ToList();
}
