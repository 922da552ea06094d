import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lerpLandmarks, sampleFrames, stalenessOpacity, isStale, PlayoutBuffer } from '../pose/skeleton-math.js';

const near = (actual, expected, eps = 1e-9) => assert.ok(Math.abs(actual - expected) < eps, `${actual} != ${expected}`);
const frame = (t, x, visibility = 1) => ({ t, landmarks: [{ x, y: 1 - x, z: 0, visibility }] });

test('lerp halfway between two frames, clamped outside 0..1', () => {
  const a = [{ x: 0, y: 0, z: 0, visibility: 1 }], b = [{ x: 1, y: 2, z: 4, visibility: 0 }];
  assert.deepEqual(lerpLandmarks(a, b, 0.5), [{ x: 0.5, y: 1, z: 2, visibility: 0.5 }]);
  assert.deepEqual(lerpLandmarks(a, b, 2)[0].x, 1);
  assert.deepEqual(lerpLandmarks(a, b, -1)[0].x, 0);
});

test('sampleFrames interpolates between the two frames around t and never extrapolates', () => {
  const frames = [frame(0, 0), frame(200, 1), frame(400, 0)];
  near(sampleFrames(frames, 50)[0].x, 0.25);
  near(sampleFrames(frames, 300)[0].x, 0.5);
  near(sampleFrames(frames, -100)[0].x, 0);
  near(sampleFrames(frames, 1000)[0].x, 0); // held at the last frame
  assert.equal(sampleFrames([], 0), null);
});

test('staleness: full opacity for a second, then fades to a faint ghost', () => {
  assert.equal(stalenessOpacity(0), 1);
  assert.equal(stalenessOpacity(1000), 1);
  near(stalenessOpacity(2000), 1 - 0.85 * 0.5);
  near(stalenessOpacity(3000), 0.15);
  near(stalenessOpacity(60_000), 0.15);
  assert.ok(stalenessOpacity(1500) < 1 && stalenessOpacity(1500) > stalenessOpacity(2500));
  assert.equal(isStale(999), false);
  assert.equal(isStale(1001), true);
});

test('playout buffer plays 4 frames/s smoothly one delay behind, whatever the sender clock', () => {
  // Sender clock starts at 1_000_000; frames every 250 ms arrive 40 ms later (+ jitter on one).
  const buffer = new PlayoutBuffer({ delayMs: 250 });
  const senderBase = 1_000_000, offset = 40;
  buffer.push(frame(senderBase, 0), senderBase + offset);
  buffer.push(frame(senderBase + 250, 1), senderBase + 250 + offset + 30); // late by 30 ms
  // At receiver time base+offset+250+125 the playout time is sender base+125: halfway between frames 0 and 1.
  const s = buffer.sample(senderBase + offset + 375);
  near(s.landmarks[0].x, 0.5);
  assert.equal(s.stale, false);
  assert.equal(s.opacity, 1);
  // Successive display frames move monotonically (smooth), not in 250 ms jumps.
  let previous = -1;
  for (let now = senderBase + offset + 250; now <= senderBase + offset + 500; now += 16) {
    const x = buffer.sample(now).landmarks[0].x;
    assert.ok(x >= previous);
    previous = x;
  }
});

test('playout buffer drops old or duplicate frames and reports staleness', () => {
  const buffer = new PlayoutBuffer({ delayMs: 100, capacity: 3 });
  assert.equal(buffer.sample(0), null);
  assert.equal(buffer.push(frame(100, 0), 100), true);
  assert.equal(buffer.push(frame(100, 1), 110), false);
  assert.equal(buffer.push(frame(50, 1), 120), false);
  for (let i = 2; i <= 5; i++) buffer.push(frame(i * 100, i), i * 100);
  assert.equal(buffer.frames.length, 3);
  const stale = buffer.sample(500 + 2500);
  assert.equal(stale.stale, true);
  near(stale.opacity, 1 - 0.85 * 0.75);
  near(stale.landmarks[0].x, 5);
});
