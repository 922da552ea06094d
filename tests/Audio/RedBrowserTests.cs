using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using TeleRehab.LoadTests;
using TeleRehab.LoadTests.Link;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.Sfu;
using TeleRehab.Media.Tests.RoomClient;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Audio;

/// <summary>
/// RED (RFC 2198) end to end (issue 10 point 4): a patient's Chromium sends its voice as RED through the project's link
/// emulator with 10 % random loss on its uplink; receivers that negotiated RED get it as it came (the loss on the way
/// warrants it), those that did not get plain Opus with the lost packets the SFU could rebuild from the redundancy.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RedBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Connect = TimeSpan.FromSeconds(30);

    /// <summary>Takes red/48000/2 out of every offer the page makes (a browser that did not negotiate RED).</summary>
    private const string WithoutRed = """
        (() => {
          const strip = (sdp) => {
            const red = [...sdp.matchAll(/^a=rtpmap:(\d+) red\/48000\/2\r?$/gm)].map((m) => m[1]);
            if (red.length === 0) return sdp;
            return sdp.split('\r\n')
              .filter((line) => !red.some((pt) => line.startsWith(`a=rtpmap:${pt} `) || line.startsWith(`a=fmtp:${pt} `) || line.startsWith(`a=rtcp-fb:${pt} `)))
              .map((line) => line.startsWith('m=audio') ? line.split(' ').filter((f, i) => i < 3 || !red.includes(f)).join(' ') : line)
              .join('\r\n');
          };
          const createOffer = RTCPeerConnection.prototype.createOffer;
          RTCPeerConnection.prototype.createOffer = async function (...args) {
            const offer = await createOffer.apply(this, args);
            return { type: offer.type, sdp: strip(offer.sdp) };
          };
        })();
        """;

    private RoomTestKit _kit = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private UplinkModeOptions _ladder = null!;

    public async Task InitializeAsync()
    {
        _kit = await RoomTestKit.StartAsync(output);
        (_playwright, _browser) = await Chromium.LaunchAsync();
        // The loss is what is measured: the weak-link ladder would take it for a weak uplink, and its weak spell turns
        // RED off on the publisher (its own tests show that). Here it never steps down.
        var manager = _kit.Host.Services.GetRequiredService<RoomManager>();
        _ladder = manager.UplinkMode;
        manager.UplinkMode = new UplinkModeOptions
        {
            LowestVideoBps = 1, MinUsefulFps = 1e-9, CongestedLoss = 1, CongestedDelay = TimeSpan.FromDays(1), SevereDelay = TimeSpan.FromDays(1),
        };
    }

    public async Task DisposeAsync()
    {
        _kit.Host.Services.GetRequiredService<RoomManager>().UplinkMode = _ladder;
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _kit.DisposeAsync();
    }

    private static LinkSchedule UplinkLoss(double loss) => LinkSchedule.Constant(new LinkProfile("loss-up",
        LinkDirectionProfile.Unlimited with { Loss = LinkLoss.Random(loss) }, LinkDirectionProfile.Unlimited));

    [Fact]
    public async Task A_red_receiver_and_the_csharp_client_without_red_both_get_the_same_publishers_voice()
    {
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "RED and plain");
        using var link = new UdpLinkEmulator(new UdpLinkEmulatorOptions { Target = ServerUdp, Schedule = UplinkLoss(0.10) });
        await using var therapist = await OpenAsync("therapist", session.TherapistLink, null);
        await therapist.WaitForScreenAsync("call");
        await using var patient = await OpenAsync("patient", session.PatientLink!, link);
        await patient.WaitForScreenAsync("call");
        var patientId = await patient.ParticipantIdAsync();
        Assert.NotNull(session.ObserverLink);
        var observer = await _kit.JoinAsync("observer", session.ObserverLink!, new SessionClientOptions { SendAudio = false, SendVideo = false });
        await HearsAsync(therapist, patientId);
        for (var waited = TimeSpan.Zero; observer.PacketsOfPayloadType(111) == 0 && waited < Connect; waited += TimeSpan.FromMilliseconds(200))
            await Task.Delay(200);

        var red = await RedPayloadTypeAsync(patient.Page);
        Assert.True(red > 0, "the patient's answer has no red/48000/2 first");
        await Task.Delay(TimeSpan.FromSeconds(15));
        var (opusBefore, redBefore) = (observer.PacketsOfPayloadType(111), observer.PacketsOfPayloadType(red));
        var t0 = await AudioFromAsync(therapist.Page, patientId);
        await Task.Delay(TimeSpan.FromSeconds(10));
        var t1 = await AudioFromAsync(therapist.Page, patientId);
        var (opus, redPackets) = (observer.PacketsOfPayloadType(111) - opusBefore, observer.PacketsOfPayloadType(red) - redBefore);
        var therapistLeg = await SubscriptionAsync(await therapist.ParticipantIdAsync(), patientId);
        var observerLeg = await SubscriptionAsync(observer.ParticipantId, patientId);
        var window = WebRtcProbe.Between(t0, t1);
        output.WriteLine($"10 % uplink loss: the therapist's Chromium (RED) {window}, samples {Samples(t0, t1)}; its leg: {therapistLeg}");
        output.WriteLine($"the C# client (no RED) received {opus} Opus packets (the therapist's voice and the patient's) and {redPackets} RED packets in 10 s; its leg to the patient: {observerLeg}");

        Assert.True(Samples(t0, t1) > 8 * 48_000, $"the therapist's page played {Samples(t0, t1)} samples of the patient's voice in 10 s");
        Assert.Contains("red forwarded", therapistLeg);
        Assert.True(opus >= 500, $"the C# client received {opus} Opus packets in 10 s (two voices, 50 packets a second each)");
        Assert.Equal(0, redPackets);
        Assert.Contains("red stripped", observerLeg);
        Assert.Matches(@"recovered [1-9]", observerLeg); // 10 % of 50 packets a second lost on the way in, most rebuilt
    }

    [Fact]
    public async Task Under_10_percent_uplink_loss_the_red_receiver_conceals_less_than_one_without_red()
    {
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "RED against plain");
        using var link = new UdpLinkEmulator(new UdpLinkEmulatorOptions { Target = ServerUdp, Schedule = UplinkLoss(0.10) });
        await using var therapist = await OpenAsync("therapist (RED)", session.TherapistLink, null);
        await therapist.WaitForScreenAsync("call");
        await using var patient = await OpenAsync("patient", session.PatientLink!, link);
        await patient.WaitForScreenAsync("call");
        await using var observer = await OpenAsync("observer (no RED)", session.ObserverLink!, null,
            context => context.AddInitScriptAsync(WithoutRed));
        await observer.WaitForScreenAsync("call");
        var patientId = await patient.ParticipantIdAsync();
        await HearsAsync(therapist, patientId);
        await HearsAsync(observer, patientId);
        Assert.DoesNotContain("red/48000", await observer.Page.EvaluateAsync<string>("() => window.__probe.pcs[0].localDescription.sdp"));

        await Task.Delay(TimeSpan.FromSeconds(15));
        var (r0, p0) = (await AudioFromAsync(therapist.Page, patientId), await AudioFromAsync(observer.Page, patientId));
        await Task.Delay(TimeSpan.FromSeconds(30));
        var (r1, p1) = (await AudioFromAsync(therapist.Page, patientId), await AudioFromAsync(observer.Page, patientId));
        var (red, plain) = (WebRtcProbe.Between(r0, r1), WebRtcProbe.Between(p0, p1));
        var status = link.GetStatus();
        output.WriteLine($"patient's uplink: {status.Up.Dropped} of {status.Up.Dropped + status.Up.Delivered} packets lost");
        output.WriteLine($"RED receiver (therapist): {red}; leg: {await SubscriptionAsync(await therapist.ParticipantIdAsync(), patientId)}");
        output.WriteLine($"plain receiver (observer): {plain}; leg: {await SubscriptionAsync(await observer.ParticipantIdAsync(), patientId)}");
        output.WriteLine($"concealment: RED {red.AudioConcealment:P2}, plain {plain.AudioConcealment:P2}");

        Assert.True(Samples(r0, r1) > 20 * 48_000 && Samples(p0, p1) > 20 * 48_000, "both pages play the patient's voice");
        Assert.True(red.AudioConcealment < plain.AudioConcealment,
            $"the RED receiver concealed {red.AudioConcealment:P2}, the one without RED {plain.AudioConcealment:P2}");
    }

    // ---------------------------------------------------------------- helpers

    private System.Net.IPEndPoint ServerUdp => new(System.Net.IPAddress.Loopback, _kit.Host.Media.UdpPort);

    private Task<BrowserParticipant> OpenAsync(string name, string link, UdpLinkEmulator? via, Func<IBrowserContext, Task>? prepare = null) =>
        BrowserParticipant.OpenAsync(_browser, name, BrowserParticipant.WithoutPose(link), output, async context =>
        {
            await WebRtcProbe.InstallAsync(context, via?.LocalEndPoint);
            if (prepare is not null) await prepare(context);
        });

    private static async Task HearsAsync(BrowserParticipant listener, string speaker)
    {
        var deadline = DateTime.UtcNow + Connect;
        while (true)
        {
            var inbound = await listener.InboundAsync();
            if (inbound.TryGetValue(speaker, out var i) && i.AudioPacketsReceived > 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{listener.Name} did not hear {speaker}");
            await Task.Delay(200);
        }
    }

    /// <summary>The red payload type the server's answer put first on the page's sending audio section, or 0.</summary>
    private static Task<int> RedPayloadTypeAsync(IPage page) => page.EvaluateAsync<int>("""
        () => {
          const sdp = window.__probe.pcs[0].remoteDescription.sdp;
          const m = sdp.split('m=').find((s) => s.startsWith('audio') && /a=recvonly/.test(s));
          if (!m) return 0;
          const first = m.split('\r\n')[0].split(' ')[3];
          return new RegExp(`a=rtpmap:${first} red/48000/2`).test(m) ? Number(first) : 0;
        }
        """);

    /// <summary>A sample of the page's inbound audio from <paramref name="publisherId"/> only: the SSRCs the server's
    /// answer announced for that publisher's stream (a=ssrc .. msid:publisher track).</summary>
    private static async Task<WebRtcProbe.Sample> AudioFromAsync(IPage page, string publisherId)
    {
        var ssrcs = await page.EvaluateAsync<long[]>("""
            (publisher) => {
              const out = [];
              for (const pc of window.__probe.pcs) {
                for (const section of (pc.remoteDescription?.sdp ?? '').split('m=').filter((s) => s.startsWith('audio'))) {
                  for (const m of section.matchAll(/^a=ssrc:(\d+) msid:(\S+) /gm)) if (m[2] === publisher) out.push(Number(m[1]));
                }
              }
              return out;
            }
            """, publisherId);
        var sample = await WebRtcProbe.SampleAsync(page);
        return sample with { Audio = sample.Audio.Where(a => ssrcs.Contains(a.Ssrc)).ToList() };
    }

    private static long Samples(WebRtcProbe.Sample first, WebRtcProbe.Sample last) =>
        last.Audio.Sum(a => a.TotalSamplesReceived - (first.Audio.FirstOrDefault(b => b.Ssrc == a.Ssrc)?.TotalSamplesReceived ?? 0));

    /// <summary>What the SFU says of <paramref name="subscriberId"/>'s audio subscription to <paramref name="publisherId"/>.</summary>
    private async Task<string> SubscriptionAsync(string subscriberId, string publisherId)
    {
        foreach (var room in _kit.Rooms.Rooms)
        {
            foreach (var leg in await room.GetLegStatsAsync())
            {
                if (leg.ParticipantId != subscriberId) continue;
                var audio = leg.Subscriptions.FirstOrDefault(s => s.PublisherId == publisherId && s.Kind == "audio");
                if (audio is not null) return JsonSerializer.Serialize(audio);
            }
        }
        return "";
    }
}
