import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OWN_EVIDENCE, OwnEvidence, senderSample } from '../session/own-evidence.js';

// A sender over time: each second `videoBps` of video at `fps`, audio at 24 kbit/s, the browser's estimate and its
// verdict on what limits the encoder.
function sender() {
  let at = 0, videoBytes = 0, videoFrames = 0, audioBytes = 0;
  return (seconds, { videoBps, fps, estimateBps, limitation = 'bandwidth', rttMs = 800, active = true }) => {
    const samples = [];
    for (let i = 0; i < seconds; i++) {
      at += 1000;
      videoBytes += videoBps / 8;
      videoFrames += fps;
      audioBytes += 24_000 / 8;
      // Two simulcast encodings sending the same frames.
      samples.push({ at, videoBytes, videoFrames: { h: videoFrames, f: videoFrames }, videoActive: active, limitation, audioBytes, estimateBps, rttMs });
    }
    return samples;
  };
}

const good = { videoBps: 900_000, fps: 30, estimateBps: 1_500_000, limitation: 'none', rttMs: 40 };
const edge = { videoBps: 30_000, fps: 3, estimateBps: 45_000, rttMs: 900 };
// As Chromium showed it on the emulated EDGE uplink: its estimate stuck at 84 kbit/s (room for the layer, it says),
// the new video at about the layer's rate, 1-3 frames a second, a round trip of 1.3-2.1 s.
const chromiumOnEdge = { videoBps: 55_000, fps: 2, estimateBps: 84_400, rttMs: 1_400 };
const video = { mode: 'video', held: false, cameraOn: true, modeChangedAt: null };

// Runs the samples; returns the times (s) at which the page would step down.
function run(evidence, samples, context = video) {
  const at = [];
  for (const sample of samples) {
    const decision = evidence.observe(sample, typeof context === 'function' ? context(sample) : context);
    if (decision) at.push(sample.at / 1000);
  }
  return at;
}

test('senderSample sums the active video encodings, takes bandwidth as the limitation if any has it, and the nominated pair', () => {
  const sample = senderSample([
    { type: 'outbound-rtp', kind: 'video', rid: 'h', active: true, bytesSent: 1000, framesSent: 10, qualityLimitationReason: 'none' },
    { type: 'outbound-rtp', kind: 'video', rid: 'f', active: true, bytesSent: 7000, retransmittedBytesSent: 2000, framesSent: 9, qualityLimitationReason: 'bandwidth' },
    { type: 'outbound-rtp', kind: 'video', rid: 'x', active: false, bytesSent: 99999, framesSent: 99, qualityLimitationReason: 'bandwidth' },
    { type: 'outbound-rtp', kind: 'audio', bytesSent: 300 },
    { type: 'candidate-pair', nominated: false, state: 'succeeded', availableOutgoingBitrate: 9e9, currentRoundTripTime: 9 },
    { type: 'candidate-pair', nominated: true, state: 'succeeded', availableOutgoingBitrate: 60_000, currentRoundTripTime: 0.75 },
  ], 1234);
  assert.deepEqual(sample, {
    at: 1234, videoBytes: 6000, videoFrames: { h: 10, f: 9 }, videoActive: true, limitation: 'bandwidth', audioBytes: 300, estimateBps: 60_000, rttMs: 750,
  });
  // The transport's selected pair, when the browser says which it is.
  const selected = senderSample([
    { type: 'transport', selectedCandidatePairId: 'b' },
    { type: 'candidate-pair', id: 'a', nominated: true, state: 'succeeded', availableOutgoingBitrate: 9e9, currentRoundTripTime: 9 },
    { type: 'candidate-pair', id: 'b', nominated: false, state: 'succeeded', availableOutgoingBitrate: 70_000, currentRoundTripTime: 0.5 },
  ], 1);
  assert.deepEqual([selected.estimateBps, selected.rttMs], [70_000, 500]);
  const empty = senderSample([], 1);
  assert.equal(empty.videoActive, false);
  assert.equal(empty.estimateBps, null);
});

test('a good link never steps down; nor does a starved sender the processor limits', () => {
  const feed = sender();
  assert.deepEqual(run(new OwnEvidence(), feed(300, good)), []);
  assert.deepEqual(run(new OwnEvidence(), sender()(300, { ...edge, limitation: 'cpu' })), []);
});

test('on edge with no word from the server the page steps down after the start grace and the sustained wait, once a minute at most', () => {
  const evidence = new OwnEvidence();
  const at = run(evidence, sender()(120, edge));
  // Video from 1 s: the grace until 11 s, the run from the start of that interval (10 s), 6 s of it.
  assert.deepEqual(at, [16, 76]);
  assert.deepEqual(Object.keys(evidence.last).sort(), ['audioBps', 'estimateBps', 'fps', 'limitation', 'rttMs', 'videoBps', 'weak']);
});

test('still video behind a queue is weak though the estimate claims room (Chromium on EDGE); still video on a short path is not', () => {
  assert.deepEqual(run(new OwnEvidence(), sender()(20, chromiumOnEdge)), [16]);
  assert.deepEqual(run(new OwnEvidence(), sender()(40, { ...chromiumOnEdge, rttMs: 300 })), []);
  // Moving video behind the same queue: the link carries the layer, slowly.
  assert.deepEqual(run(new OwnEvidence(), sender()(40, { ...chromiumOnEdge, fps: 12 })), []);
});

test('the page follows the server ladder\'s thresholds: a ladder held off holds the page off too', () => {
  const evidence = new OwnEvidence();
  evidence.follow({ lowestVideoBps: 1, minUsefulFps: 1e-9 });
  assert.deepEqual([evidence.options.lowestVideoBps, evidence.options.stillFps], [1, 1e-9]);
  assert.deepEqual(run(evidence, sender()(60, chromiumOnEdge)), []);
  const defaults = new OwnEvidence();
  for (const bad of [{}, { lowestVideoBps: -1, minUsefulFps: 0 }, { lowestVideoBps: 'x', minUsefulFps: NaN }]) defaults.follow(bad);
  assert.deepEqual([defaults.options.lowestVideoBps, defaults.options.stillFps], [OWN_EVIDENCE.lowestVideoBps, OWN_EVIDENCE.stillFps]);
  const raised = new OwnEvidence();
  raised.follow({ lowestVideoBps: 80_000, minUsefulFps: 8 });
  assert.deepEqual(run(raised, sender()(20, { videoBps: 60_000, fps: 6, estimateBps: 100_000, rttMs: 300 })), [16]);
});

test('the evidence carries what the page saw', () => {
  const evidence = new OwnEvidence();
  let decision = null;
  for (const sample of sender()(20, edge)) decision ??= evidence.observe(sample, video);
  assert.deepEqual(decision, { stepDown: true, evidence: { estimateKbps: 45, videoKbps: 30, rttMs: 900 } });
});

test('a run broken by one good second starts again (hysteresis); thin video under a good estimate is still weak when still', () => {
  const feed = sender();
  const samples = [...feed(14, good), ...feed(4, edge), ...feed(1, good), ...feed(10, edge)];
  // Video from 1 s; weak from 15 s to 18 s, broken at 19 s, weak again from 20 s: the run from 19, 6 s later.
  assert.deepEqual(run(new OwnEvidence(), samples), [25]);
  // The estimate has room, but the video goes out thin and still and bandwidth limits it: weak.
  assert.deepEqual(run(new OwnEvidence(), sender()(20, { videoBps: 20_000, fps: 2, estimateBps: 300_000 })), [16]);
  // Thin but moving video under a good estimate: the encoder's choice, not starvation.
  assert.deepEqual(run(new OwnEvidence(), sender()(40, { videoBps: 40_000, fps: 15, estimateBps: 300_000 })), []);
});

test('the server speaks: each ModeChanged starts the wait again, and its audio + pose, a hold or the camera off stop it', () => {
  // A ModeChanged at 14 s (say, a trial stopped): the run counts from it.
  assert.deepEqual(run(new OwnEvidence(), sender()(40, edge), { ...video, modeChangedAt: 14_000 }), [20]);
  // The server stepped down at 13 s: the page sends no video from then on.
  const steppedDown = (s) => (s.at >= 13_000 ? { mode: 'audio+pose', modeChangedAt: 13_000 } : video);
  assert.deepEqual(run(new OwnEvidence(), sender()(60, edge), steppedDown), []);
  for (const context of [{ ...video, held: true }, { ...video, cameraOn: false }, { ...video, mode: 'audio+pose' }])
    assert.deepEqual(run(new OwnEvidence(), sender()(60, edge), context), []);
  // No active video encoding (the page's movement only, a trial's lowest layer only in audio + pose): nothing to judge.
  assert.deepEqual(run(new OwnEvidence(), sender()(60, { ...edge, active: false })), []);
});

test('after video comes back the browser ramps up: the grace holds, then the wait', () => {
  const evidence = new OwnEvidence();
  const feed = sender();
  // Audio + pose for 30 s (the server's), then video from 31 s on a link still weak: the grace until 41 s, then 6 s.
  const context = (s) => (s.at <= 30_000 ? { mode: 'audio+pose', modeChangedAt: 5_000 } : { ...video, modeChangedAt: 30_500 });
  assert.deepEqual(run(evidence, feed(60, edge), context), [46]);
});

test('samples far apart (a frozen tab) say nothing', () => {
  const evidence = new OwnEvidence();
  const samples = sender()(40, edge).filter((_, i) => i % 4 === 0); // every 4 s
  assert.deepEqual(run(evidence, samples), []);
  assert.ok(OWN_EVIDENCE.sustainMs > 3000, 'longer than the server takes to decide on EDGE');
});
