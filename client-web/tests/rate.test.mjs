import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveRate } from '../pose/rate.js';
import { locator } from '../pose/estimator.js';

test('fast estimates run at the 10/s target', () => {
  const rate = new AdaptiveRate();
  assert.equal(rate.intervalMs(), 100);
  for (let i = 0; i < 10; i++) rate.record(20);
  assert.equal(rate.intervalMs(), 100);
  assert.equal(rate.hz, 10);
});

test('estimates over the 40 ms budget slow the rate so they take at most 40 % of the time', () => {
  const rate = new AdaptiveRate();
  for (let i = 0; i < 30; i++) rate.record(80);
  assert.ok(Math.abs(rate.intervalMs() - 200) < 1, String(rate.intervalMs()));
  for (let i = 0; i < 30; i++) rate.record(5000);
  assert.equal(rate.intervalMs(), 500); // floor: 2 estimates/s
});

test('one slow estimate does not halve the rate (smoothed)', () => {
  const rate = new AdaptiveRate();
  for (let i = 0; i < 10; i++) rate.record(20);
  rate.record(60);
  assert.equal(rate.intervalMs(), 100);
});

test('MediaPipe finds its files at the manifest\'s hashed URLs; an unlisted file gets a URL that is never served', () => {
  const locate = locator({ 'pose.js': '/pose-model/0123456789abcdef/pose.js' });
  assert.equal(locate('pose.js'), '/pose-model/0123456789abcdef/pose.js');
  assert.equal(locate('pose_landmark_full.tflite'), '/pose-model/unlisted/pose_landmark_full.tflite');
});
