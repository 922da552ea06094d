using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using TeleRehab.Media.Rooms;
using TeleRehab.LoadTests.Link;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Congestion;

/// <summary>
/// Congestion control through the SFU, measured in real browsers beside a direct browser-to-browser call through the
/// same emulated link in the same run: the patient's page sends and receives through the project's link emulator, the
/// therapist's page is on clean loopback. Figures are printed for docs/congestion.md.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CongestionBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "test-operator-key";
    private static readonly TimeSpan Connect = TimeSpan.FromSeconds(20);

    private AppHost _host = null!;
    private SessionApiClient _api = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private DirectoryInfo _clipDirectory = null!;

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync(("TeleRehab:OperatorApiKey", ApiKey), ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        _api = new SessionApiClient(_host, ApiKey);
        _clipDirectory = Directory.CreateTempSubdirectory("telerehab-clip-");
        (_playwright, _browser) = await Chromium.LaunchAsync($"--use-file-for-fake-video-capture={BusyVideo.CreateY4m(_clipDirectory.FullName)}");
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        _api.Dispose();
        await _host.DisposeAsync();
        _clipDirectory.Delete(recursive: true);
    }

    /// <summary>What each side received over the measured window.</summary>
    private sealed record CallFigures(string Path, WebRtcProbe.Window TherapistReceives, WebRtcProbe.Window PatientReceives, double PatientEstimateKbps)
    {
        public override string ToString() =>
            $"{Path}: therapist receives {TherapistReceives}; patient receives {PatientReceives}; patient's send estimate {PatientEstimateKbps:0} kbit/s";
    }

    [Fact]
    public async Task On_4g_the_therapist_gets_the_patients_video_as_well_as_a_direct_call_does()
    {
        var direct = await DirectCallAsync(LinkProfile.FourG);
        output.WriteLine(direct.ToString());
        var sfu = await SessionAsync(LinkProfile.FourG);
        output.WriteLine(sfu.ToString());

        Assert.True(sfu.TherapistReceives.Width >= 600, $"the therapist decodes {sfu.TherapistReceives.Width} px wide (want >= 600)");
        Assert.True(sfu.TherapistReceives.FramesPerSecond >= 18, $"the therapist decodes {sfu.TherapistReceives.FramesPerSecond:0.0} frames/s (want >= 18)");
        Assert.True(sfu.TherapistReceives.VideoKbps >= 0.9 * direct.TherapistReceives.VideoKbps,
            $"through the SFU {sfu.TherapistReceives.VideoKbps:0} kbit/s of video, direct {direct.TherapistReceives.VideoKbps:0} (want >= 90 %)");
    }

    private async Task PrintLegsAsync(string sessionId)
    {
        var rooms = _host.Services.GetRequiredService<RoomManager>();
        foreach (var room in rooms.Rooms)
        {
            foreach (var leg in await room.GetLegStatsAsync())
            {
                output.WriteLine($"  leg {leg.ParticipantId}: estimate {leg.EstimateBps / 1000} kbit/s ({leg.FeedbacksReceived} feedbacks), rtt {leg.RoundTrip.TotalMilliseconds:0} ms, " +
                    $"paced {leg.PacketsPaced} (longest {leg.PacerLongestWait.TotalMilliseconds:0} ms), probes {leg.ProbePackets}");
                foreach (var s in leg.Subscriptions)
                    output.WriteLine($"    {s.Kind} of {s.PublisherId}: {s.Layer} (target {s.Target}), {s.LayerSwitches} switches, {s.Retransmissions} resent; {s.LayerRates}");
            }
        }
        _ = sessionId;
    }

    /// <summary>Waits <paramref name="settle"/> after both sides decode, then measures <paramref name="window"/>.</summary>
    private static async Task<CallFigures> MeasureAsync(string path, IPage therapist, IPage patient, TimeSpan settle, TimeSpan window)
    {
        await Task.Delay(settle);
        var t0 = await WebRtcProbe.SampleAsync(therapist);
        var p0 = await WebRtcProbe.SampleAsync(patient);
        await Task.Delay(window);
        var t1 = await WebRtcProbe.SampleAsync(therapist);
        var p1 = await WebRtcProbe.SampleAsync(patient);
        return new CallFigures(path, WebRtcProbe.Between(t0, t1), WebRtcProbe.Between(p0, p1), (p1.Pair?.AvailableOutgoingBitrate ?? 0) / 1000);
    }

    private async Task<CallFigures> DirectCallAsync(LinkProfile profile)
    {
        UdpLinkEmulator? link = null;
        try
        {
            await using var call = await DirectBrowserCall.StartAsync(_browser, _host.BaseAddress, therapist =>
            {
                link = new UdpLinkEmulator(new UdpLinkEmulatorOptions { Target = therapist, Schedule = LinkSchedule.Constant(profile) });
                return Task.FromResult(link.LocalEndPoint);
            });
            await call.WaitConnectedAsync(Connect);
            return await MeasureAsync($"direct ({profile.Name})", call.Therapist, call.Patient, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5));
        }
        finally
        {
            link?.Dispose();
        }
    }

    private async Task<CallFigures> SessionAsync(LinkProfile profile)
    {
        using var link = new UdpLinkEmulator(new UdpLinkEmulatorOptions
        {
            Target = new IPEndPoint(IPAddress.Loopback, _host.Media.UdpPort),
            Schedule = LinkSchedule.Constant(profile),
        });
        var session = await _api.CreateAsync("one-to-one", waitingRoom: false);
        await using var therapist = await BrowserParticipant.OpenAsync(_browser, "therapist", session.TherapistLink, output,
            context => WebRtcProbe.InstallAsync(context));
        await using var patient = await BrowserParticipant.OpenAsync(_browser, "patient", session.PatientLink!, output,
            context => WebRtcProbe.InstallAsync(context, link.LocalEndPoint));
        await therapist.WaitForScreenAsync("call");
        await patient.WaitForScreenAsync("call");
        await Task.WhenAll(therapist.WaitDecodesAsync([await patient.ParticipantIdAsync()], Connect),
            patient.WaitDecodesAsync([await therapist.ParticipantIdAsync()], Connect));
        Assert.True(link.GetStatus().Up.Delivered > 0, "the patient's media did not go through the emulator");
        var figures = await MeasureAsync($"SFU ({profile.Name})", therapist.Page, patient.Page, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5));
        foreach (var o in (await WebRtcProbe.SampleAsync(patient.Page)).OutVideo)
            output.WriteLine($"  patient sends rid {o.Rid}: {o.FrameWidth} px, {o.FramesEncoded} frames, {o.BytesSent} bytes, limited by '{o.QualityLimitationReason}'");
        await PrintLegsAsync(session.Id);
        return figures;
    }
}
