// The patient's page acting on its own evidence when the hub is slow (docs/weak-links.md, "Evidence from the page").
// Pure (node tests in tests/own-evidence.test.mjs): join.js reads its sender's statistics once a second and passes
// them here with what the server last said; the answer is whether to step down to audio + pose by itself.
//
// The server's ladder decides from what reaches the SFU, within about 3 s on EDGE, and tells the page (ModeChanged).
// On a 2G link the hub's messages queue behind the media too, so that decision can come late, or not at all while the
// hub connection is down. The page sees its own side at once: its video encoder limited by bandwidth
// (outbound-rtp qualityLimitationReason), and its send estimate (candidate-pair availableOutgoingBitrate) below what
// the lowest video layer needs beside the voice, or its video still (a few frames a second) while thin or behind a
// queue (a round trip of a second or more). Chromium's estimate alone is not enough: on an emulated EDGE uplink
// (60 kbit/s, 600 ms) it stayed at 84 kbit/s for a minute while the encoder sent 1-3 frames a second and the round
// trip was 1.3-2.1 s; and its bytes sent were 100-280 kbit/s, most of them retransmissions of what the queue dropped,
// so the rate counted is the new media's (bytesSent less retransmittedBytesSent). When that lasts OWN_EVIDENCE.sustainMs
// (twice the server's time to decide) with no word from the server, the page steps down, then tells the server
// (ReportWeakUplink), whose ladder adopts audio + pose with its usual trials. Never in a mode the therapist holds,
// never while the server's word is fresh (each ModeChanged starts the wait again: the server's decision wins),
// never in the first seconds of video (the browser's estimate ramps up after a start or a recovery), and at most
// once a minute.

export const OWN_EVIDENCE = Object.freeze({
  lowestVideoBps: 50_000, // the lowest simulcast layer at the least rate worth sending (the server's LowestVideoBps)
  minAudioBps: 12_000,    // the voice at its weak-link rate, when the page measures less
  stillFps: 5,            // below it video shows no movement a therapist can follow
  queuedRttMs: 1_000,     // a round trip this long is a queue on any radio path (EDGE's own is about 600 ms)
  sustainMs: 6_000,       // weak without a break this long (the server decides within about 3 s on EDGE)
  graceMs: 10_000,        // after video starts or comes back, the browser's estimate ramps up: no verdict yet
  minGapMs: 60_000,       // at most one step down of its own per minute (no flapping)
  maxSampleGapMs: 3_000,  // samples further apart (a frozen tab) say nothing about the interval
});

// One second's figures from RTCPeerConnection.getStats() reports: the video sender's (every active simulcast
// encoding's new bytes, retransmissions left out, and frames sent per encoding; 'bandwidth' when any is limited by
// it), the audio sender's bytes, and the
// selected candidate pair's send estimate and round trip (the transport's selected pair; else a nominated one).
export function senderSample(reports, at) {
  const sample = {
    at, videoBytes: 0, videoFrames: {}, videoActive: false, limitation: 'none', audioBytes: 0,
    estimateBps: null, rttMs: null,
  };
  const all = [...reports];
  const selected = new Set(all.filter((r) => r.type === 'transport' && r.selectedCandidatePairId).map((r) => r.selectedCandidatePairId));
  for (const report of all) {
    if (report.type === 'outbound-rtp' && report.kind === 'video') {
      if (report.active === false) continue;
      sample.videoActive = true;
      sample.videoBytes += Math.max(0, (report.bytesSent ?? 0) - (report.retransmittedBytesSent ?? 0));
      sample.videoFrames[report.rid ?? report.ssrc ?? ''] = report.framesSent ?? 0;
      if (report.qualityLimitationReason === 'bandwidth') sample.limitation = 'bandwidth';
      else if (sample.limitation === 'none' && report.qualityLimitationReason) sample.limitation = report.qualityLimitationReason;
    } else if (report.type === 'outbound-rtp' && report.kind === 'audio') {
      sample.audioBytes += report.bytesSent ?? 0;
    } else if (report.type === 'candidate-pair' && (selected.size > 0 ? selected.has(report.id) : report.nominated && report.state === 'succeeded')) {
      if (Number.isFinite(report.availableOutgoingBitrate)) sample.estimateBps = report.availableOutgoingBitrate;
      if (Number.isFinite(report.currentRoundTripTime)) sample.rttMs = report.currentRoundTripTime * 1000;
    }
  }
  return sample;
}

export class OwnEvidence {
  constructor(options = {}) {
    this.options = { ...OWN_EVIDENCE, ...options };
    this.previous = null;
    this.videoSince = null;  // when the page last started sending video in video mode
    this.weakSince = null;   // start of the current run of weak intervals
    this.lastStepDown = null;
    this.last = null;        // the latest interval's figures and verdict (for logs and tests)
  }

  // The server's ladder's thresholds (Negotiate's answer, `ladder`): the page judges by the same lowest layer and
  // useful frame rate. Values that are not positive numbers are ignored.
  follow({ lowestVideoBps, minUsefulFps } = {}) {
    if (Number.isFinite(lowestVideoBps) && lowestVideoBps > 0) this.options.lowestVideoBps = lowestVideoBps;
    if (Number.isFinite(minUsefulFps) && minUsefulFps > 0) this.options.stillFps = minUsefulFps;
  }

  // sample: senderSample(); context: { mode: 'video' | 'audio+pose', held, cameraOn, modeChangedAt } (the time of the
  // latest ModeChanged, in the samples' clock, or null). Returns null, or { stepDown: true, evidence } where evidence
  // is what ReportWeakUplink carries: { estimateKbps, videoKbps, rttMs }.
  observe(sample, { mode, held = false, cameraOn = true, modeChangedAt = null }) {
    const o = this.options;
    const previous = this.previous;
    this.previous = sample;
    if (mode !== 'video' || held || !cameraOn || !sample.videoActive) {
      // Nothing to judge: the page sends no video (audio + pose, the therapist's hold, the camera off).
      this.videoSince = null;
      this.weakSince = null;
      return null;
    }
    this.videoSince ??= sample.at;
    if (!previous || !previous.videoActive || sample.at - previous.at <= 0 || sample.at - previous.at > o.maxSampleGapMs) return null;

    const seconds = (sample.at - previous.at) / 1000;
    const videoBps = Math.max(0, sample.videoBytes - previous.videoBytes) * 8 / seconds;
    const audioBps = Math.max(0, sample.audioBytes - previous.audioBytes) * 8 / seconds;
    // The frame rate of the best encoding (simulcast encodings send the same frames each).
    let frames = 0;
    for (const [encoding, sent] of Object.entries(sample.videoFrames)) frames = Math.max(frames, sent - (previous.videoFrames[encoding] ?? sent));
    const fps = frames / seconds;
    const needed = o.lowestVideoBps + Math.max(audioBps, o.minAudioBps);
    // Starved: the send estimate has no room for the lowest layer beside the voice, or the video goes out still and
    // thin, or still behind a queue. Limited by bandwidth, as the encoder says: a busy processor ('cpu') is the
    // device's, not the link's.
    const still = fps < o.stillFps;
    const queued = sample.rttMs != null && sample.rttMs >= o.queuedRttMs;
    const starved = (sample.estimateBps != null && sample.estimateBps < needed) || (still && (videoBps < o.lowestVideoBps || queued));
    const weak = starved && sample.limitation === 'bandwidth';
    this.last = { videoBps, audioBps, fps, estimateBps: sample.estimateBps, rttMs: sample.rttMs, limitation: sample.limitation, weak };

    const settling = sample.at - this.videoSince < o.graceMs;
    if (!weak || settling) {
      this.weakSince = null;
      return null;
    }
    this.weakSince ??= previous.at;
    // The server's latest word starts the wait again: it decides from what reaches it, and it wins.
    const since = modeChangedAt != null && modeChangedAt > this.weakSince ? modeChangedAt : this.weakSince;
    if (sample.at - since < o.sustainMs) return null;
    if (this.lastStepDown != null && sample.at - this.lastStepDown < o.minGapMs) return null;
    this.lastStepDown = sample.at;
    this.weakSince = null;
    return {
      stepDown: true,
      evidence: {
        estimateKbps: Math.round((sample.estimateBps ?? 0) / 1000),
        videoKbps: Math.round(videoBps / 1000),
        rttMs: Math.round(sample.rttMs ?? 0),
      },
    };
  }
}
