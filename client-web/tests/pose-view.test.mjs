import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoseRateMeter, formatPoseStatus, parsePoseMessage, poseTileView } from '../session/pose-view.js';
import { useEnglish } from './catalogue.mjs';

useEnglish();

test('a forwarded message names its sender and carries one frame', () => {
  const bytes = new Uint8Array([3, 0x61, 0x62, 0x63, 0xd1, 0x06, 0, 1]);
  const parsed = parsePoseMessage(bytes.buffer);
  assert.equal(parsed.senderId, 'abc');
  assert.deepEqual([...parsed.frame], [0xd1, 0x06, 0, 1]);
  assert.equal(parsePoseMessage(new Uint8Array([3, 0x61, 0x62, 0x63])), null); // no frame
  assert.equal(parsePoseMessage(new Uint8Array([0, 0xd1])), null);
  assert.equal(parsePoseMessage(new Uint8Array([])), null);
  assert.equal(parsePoseMessage('text'), null);
});

test('the pose rate counts the frames of the last two seconds', () => {
  const meter = new PoseRateMeter(2000);
  for (let t = 0; t < 3000; t += 100) meter.record(t); // 10 frames/s
  assert.equal(meter.fps(2950), 10);
  assert.equal(meter.last, 2900);
  assert.equal(meter.fps(4000), 4.5); // 3000 - 2000 .. 4000: frames at 2100..2900
  assert.equal(meter.fps(6000), 0);
});

test('the tile shows rate and age; the badge only without video', () => {
  const live = poseTileView({ nowMs: 10_080, lastAt: 10_000, fps: 12, videoLive: true });
  assert.deepEqual(live, { hasPose: true, badge: null, text: 'pose 12 fps · 80 ms', opacity: 1, stale: false });
  const noVideo = poseTileView({ nowMs: 10_080, lastAt: 10_000, fps: 12, videoLive: false });
  assert.equal(noVideo.badge, 'audio + movement');
  assert.equal(poseTileView({ nowMs: 10_080, lastAt: 10_000, fps: 12, videoLive: false, enabled: false }).badge, null);
  assert.equal(poseTileView({ nowMs: 0, lastAt: null, fps: 0, videoLive: false }).hasPose, false);
});

test('a stale pose fades as on the replay page and says how old it is', () => {
  const at = (ageMs) => poseTileView({ nowMs: 20_000 + ageMs, lastAt: 20_000, fps: 4.25, videoLive: false });
  assert.equal(at(900).opacity, 1);
  assert.equal(at(900).stale, false);
  assert.equal(at(2000).stale, true);
  assert.ok(at(2000).opacity < 1 && at(2000).opacity > at(3000).opacity);
  assert.ok(Math.abs(at(10_000).opacity - 0.15) < 1e-9);
  assert.equal(at(2500).text, 'pose 4.3 fps · 2.5 s');
  assert.equal(formatPoseStatus({ fps: 0, ageMs: 15_000 }), 'pose 0 fps · 15 s');
});
