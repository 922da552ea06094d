using System.Text.Json;
using Microsoft.Playwright;

namespace TeleRehab.Media.Tests.Support;

/// <summary>
/// What a page's RTCPeerConnections receive and send, sampled from getStats over a window, for tests that compare
/// media quality (the SFU against a direct call). <see cref="InstallAsync"/> adds an init script that keeps every
/// RTCPeerConnection the page makes, and can route the page's media through a link emulator: every remote UDP candidate
/// is replaced by the emulator's address and TCP candidates are dropped, so all the page's media crosses the emulated
/// link (the test's side of the wiring; the page's own code is unchanged).
/// </summary>
public static class WebRtcProbe
{
    private const string Script = """
        (() => {
          const Native = window.RTCPeerConnection;
          window.__probe = { pcs: [], via: window.__probeVia ?? null };
          window.RTCPeerConnection = class extends Native {
            constructor(...args) { super(...args); window.__probe.pcs.push(this); }
          };
          const viaEmulator = (sdp) => {
            const via = window.__probe.via;
            if (!via) return sdp;
            return sdp.split('\r\n').filter((line) => !(line.startsWith('a=candidate') && / tcp /i.test(line)))
              .map((line) => {
                if (!line.startsWith('a=candidate')) return line;
                const f = line.split(' ');
                f[4] = via.host; f[5] = String(via.port);
                return f.join(' ');
              }).join('\r\n');
          };
          const setRemote = Native.prototype.setRemoteDescription;
          Native.prototype.setRemoteDescription = function (description, ...rest) {
            if (description && description.sdp) description = { type: description.type, sdp: viaEmulator(description.sdp) };
            return setRemote.call(this, description, ...rest);
          };
          const addCandidate = Native.prototype.addIceCandidate;
          Native.prototype.addIceCandidate = function (candidate, ...rest) {
            if (window.__probe.via && candidate && candidate.candidate) return Promise.resolve();
            return addCandidate.call(this, candidate, ...rest);
          };
          window.__probe.sample = async () => {
            const out = { at: performance.now(), video: [], audio: [], outVideo: [], pair: null };
            for (const pc of window.__probe.pcs) {
              if (pc.connectionState === 'closed') continue;
              const stats = await pc.getStats();
              const selected = new Set([...stats.values()].filter((r) => r.type === 'transport').map((r) => r.selectedCandidatePairId));
              for (const r of stats.values()) {
                if (r.type === 'inbound-rtp' && r.kind === 'video')
                  out.video.push({ ssrc: r.ssrc, frameWidth: r.frameWidth ?? 0, frameHeight: r.frameHeight ?? 0,
                    framesDecoded: r.framesDecoded ?? 0, bytesReceived: r.bytesReceived ?? 0,
                    freezeCount: r.freezeCount ?? 0, totalFreezesDuration: r.totalFreezesDuration ?? 0 });
                else if (r.type === 'inbound-rtp' && r.kind === 'audio')
                  out.audio.push({ ssrc: r.ssrc, concealedSamples: r.concealedSamples ?? 0, totalSamplesReceived: r.totalSamplesReceived ?? 0,
                    packetsReceived: r.packetsReceived ?? 0, packetsLost: r.packetsLost ?? 0, fecPacketsReceived: r.fecPacketsReceived ?? 0 });
                else if (r.type === 'outbound-rtp' && r.kind === 'video')
                  out.outVideo.push({ ssrc: r.ssrc, rid: r.rid ?? null, frameWidth: r.frameWidth ?? 0, bytesSent: r.bytesSent ?? 0,
                    framesEncoded: r.framesEncoded ?? 0, qualityLimitationReason: r.qualityLimitationReason ?? '' });
                else if (r.type === 'candidate-pair' && selected.has(r.id))
                  out.pair = { availableOutgoingBitrate: r.availableOutgoingBitrate ?? 0, currentRoundTripTime: r.currentRoundTripTime ?? 0 };
              }
            }
            return out;
          };
        })();
        """;

    /// <summary>Adds the probe to every page of <paramref name="context"/> (before any page script runs); with
    /// <paramref name="via"/>, the pages' media goes through the emulator listening there.</summary>
    public static Task InstallAsync(IBrowserContext context, System.Net.IPEndPoint? via = null) =>
        context.AddInitScriptAsync((via is null ? "" : $"window.__probeVia = {{ host: '{via.Address}', port: {via.Port} }};\n") + Script);

    /// <summary>Routes the page's next remote descriptions through the emulator listening on <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static Task RouteViaAsync(IPage page, string host, int port) =>
        page.EvaluateAsync("v => { window.__probe.via = v; }", new { host, port });

    public static async Task<Sample> SampleAsync(IPage page)
    {
        var json = await page.EvaluateAsync<JsonElement>("() => window.__probe.sample()");
        return JsonSerializer.Deserialize<Sample>(json.GetRawText(), JsonOptions)!;
    }

    /// <summary>What the page received between two samples: the busiest inbound video, and all audio.</summary>
    public static Window Between(Sample first, Sample last)
    {
        var seconds = (last.At - first.At) / 1000.0;
        var video = last.Video.OrderByDescending(v => v.BytesReceived).FirstOrDefault();
        var before = video is null ? null : first.Video.FirstOrDefault(v => v.Ssrc == video.Ssrc);
        long concealed = 0, samples = 0, lost = 0, fec = 0;
        foreach (var audio in last.Audio)
        {
            var a0 = first.Audio.FirstOrDefault(a => a.Ssrc == audio.Ssrc);
            concealed += audio.ConcealedSamples - (a0?.ConcealedSamples ?? 0);
            samples += audio.TotalSamplesReceived - (a0?.TotalSamplesReceived ?? 0);
            lost += audio.PacketsLost - (a0?.PacketsLost ?? 0);
            fec += audio.FecPacketsReceived - (a0?.FecPacketsReceived ?? 0);
        }
        return new Window(
            Width: video?.FrameWidth ?? 0,
            Height: video?.FrameHeight ?? 0,
            FramesPerSecond: video is null ? 0 : (video.FramesDecoded - (before?.FramesDecoded ?? 0)) / seconds,
            VideoKbps: video is null ? 0 : (video.BytesReceived - (before?.BytesReceived ?? 0)) * 8 / seconds / 1000,
            AudioConcealment: samples > 0 ? (double)concealed / samples : 0,
            FreezeSeconds: video is null ? 0 : video.TotalFreezesDuration - (before?.TotalFreezesDuration ?? 0),
            AudioPacketsLost: lost,
            AudioFecPackets: fec);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    public sealed record Sample(double At, List<InboundVideo> Video, List<InboundAudio> Audio, List<OutboundVideo> OutVideo, CandidatePair? Pair);

    public sealed record InboundVideo(long Ssrc, int FrameWidth, int FrameHeight, long FramesDecoded, long BytesReceived, int FreezeCount, double TotalFreezesDuration);

    public sealed record InboundAudio(long Ssrc, long ConcealedSamples, long TotalSamplesReceived, long PacketsReceived, long PacketsLost = 0, long FecPacketsReceived = 0);

    public sealed record OutboundVideo(long Ssrc, string? Rid, int FrameWidth, long BytesSent, long FramesEncoded, string QualityLimitationReason);

    public sealed record CandidatePair(double AvailableOutgoingBitrate, double CurrentRoundTripTime);

    /// <summary>Received video and audio over a window.</summary>
    public sealed record Window(int Width, int Height, double FramesPerSecond, double VideoKbps, double AudioConcealment, double FreezeSeconds,
        long AudioPacketsLost = 0, long AudioFecPackets = 0)
    {
        public override string ToString() =>
            $"{Width}x{Height} {FramesPerSecond:0.0} fps {VideoKbps:0} kbit/s, audio concealed {AudioConcealment:P1} (lost {AudioPacketsLost}, FEC {AudioFecPackets}), freezes {FreezeSeconds:0.0} s";
    }
}
