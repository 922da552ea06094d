using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace TeleRehab.Media.Tests.Support;

/// <summary>
/// A plain browser-to-browser call, no server in the media path: the baseline the SFU is measured against. Two
/// pages (the patient and the therapist, each with a fake camera at the session page's 640x360 and a fake microphone)
/// exchange offer and answer through the test. The patient's media goes through a link emulator: the therapist's
/// answer is given to the patient with the emulator as its only candidate, and the patient's offer reaches the
/// therapist with no candidate at all, so the therapist answers only the checks that come through the emulator.
/// </summary>
public sealed partial class DirectBrowserCall : IAsyncDisposable
{
    private readonly IBrowserContext _patientContext;
    private readonly IBrowserContext _therapistContext;

    private DirectBrowserCall(IBrowserContext patientContext, IPage patient, IBrowserContext therapistContext, IPage therapist)
    {
        _patientContext = patientContext;
        Patient = patient;
        _therapistContext = therapistContext;
        Therapist = therapist;
    }

    public IPage Patient { get; }

    public IPage Therapist { get; }

    private const string StartCall = """
        async (offer) => {
          const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
          const pc = new RTCPeerConnection();
          window.__call = pc;
          // Played, as a call page plays them: a receiver nothing plays is never pulled, and its audio statistics
          // (concealment) stay at zero whatever the link loses.
          pc.addEventListener('track', ({ track, streams }) => {
            const element = document.createElement(track.kind);
            element.srcObject = streams[0] ?? new MediaStream([track]);
            element.autoplay = true;
            document.body.append(element);
            element.play().catch(() => {});
          });
          if (offer) {
            await pc.setRemoteDescription({ type: 'offer', sdp: offer });
            for (const transceiver of pc.getTransceivers()) {
              const track = stream.getTracks().find((t) => t.kind === transceiver.receiver.track.kind);
              await transceiver.sender.replaceTrack(track);
              transceiver.sender.setStreams(stream);
              transceiver.direction = 'sendrecv';
            }
            await pc.setLocalDescription(await pc.createAnswer());
          } else {
            for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
            await pc.setLocalDescription(await pc.createOffer());
          }
          if (pc.iceGatheringState !== 'complete')
            await new Promise((resolve) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve()));
          return pc.localDescription.sdp;
        }
        """;

    /// <summary>Starts both pages on <paramref name="origin"/> (any page of the app: a secure context for the camera),
    /// and returns once the therapist has answered. <paramref name="routeVia"/> is given the therapist's UDP address on
    /// loopback and returns the emulator's listening address the patient must send to.</summary>
    public static async Task<DirectBrowserCall> StartAsync(IBrowser browser, Uri origin, Func<IPEndPoint, Task<IPEndPoint>> routeVia)
    {
        var patientContext = await browser.NewContextAsync();
        var therapistContext = await browser.NewContextAsync();
        await WebRtcProbe.InstallAsync(patientContext);
        await WebRtcProbe.InstallAsync(therapistContext);
        var patient = await patientContext.NewPageAsync();
        var therapist = await therapistContext.NewPageAsync();
        await patient.GotoAsync(new Uri(origin, "/healthz").ToString());
        await therapist.GotoAsync(new Uri(origin, "/healthz").ToString());
        var call = new DirectBrowserCall(patientContext, patient, therapistContext, therapist);

        var offer = await patient.EvaluateAsync<string>(StartCall, (string?)null);
        var answer = await therapist.EvaluateAsync<string>(StartCall, WithoutCandidates(offer));
        var therapistAddress = LoopbackUdpCandidate(answer)
            ?? throw new InvalidOperationException("the therapist's page offered no UDP candidate on 127.0.0.1");
        var via = await routeVia(therapistAddress);
        await WebRtcProbe.RouteViaAsync(patient, via.Address.ToString(), via.Port);
        await patient.EvaluateAsync("sdp => window.__call.setRemoteDescription({ type: 'answer', sdp })", answer);
        return call;
    }

    /// <summary>Waits until both pages decode each other's video.</summary>
    public Task WaitConnectedAsync(TimeSpan timeout) => WaitBothAsync("video", "framesDecoded", timeout);

    /// <summary>Waits until both pages receive each other's audio (on a 2G link the first video frame may take long;
    /// what a weak-link test measures starts with the voices).</summary>
    public Task WaitHearsAsync(TimeSpan timeout) => WaitBothAsync("audio", "packetsReceived", timeout);

    /// <summary>Waits until both pages' inbound <paramref name="kind"/> has a <paramref name="counter"/> above zero.</summary>
    private Task WaitBothAsync(string kind, string counter, TimeSpan timeout)
    {
        const string flowing = """
            async ([kind, counter]) => { const s = await window.__call.getStats();
              for (const r of s.values()) if (r.type === 'inbound-rtp' && r.kind === kind && r[counter] > 0) return true;
              return false; }
            """;
        var args = new[] { kind, counter };
        var ms = (int)timeout.TotalMilliseconds;
        return Task.WhenAll(PageWait.UntilAsync(Patient, flowing, args, ms, 200), PageWait.UntilAsync(Therapist, flowing, args, ms, 200));
    }

    private static string WithoutCandidates(string sdp) =>
        string.Join("\r\n", sdp.Split("\r\n").Where(line => !line.StartsWith("a=candidate", StringComparison.Ordinal)
            && !line.StartsWith("a=end-of-candidates", StringComparison.Ordinal)));

    private static IPEndPoint? LoopbackUdpCandidate(string sdp)
    {
        foreach (Match match in CandidateLine().Matches(sdp))
        {
            if (match.Groups["address"].Value == "127.0.0.1")
                return new IPEndPoint(IPAddress.Loopback, int.Parse(match.Groups["port"].Value));
        }
        return null;
    }

    [GeneratedRegex(@"a=candidate:\S+ 1 udp \d+ (?<address>\S+) (?<port>\d+) typ host", RegexOptions.IgnoreCase)]
    private static partial Regex CandidateLine();

    public async ValueTask DisposeAsync()
    {
        await _patientContext.DisposeAsync();
        await _therapistContext.DisposeAsync();
    }
}
