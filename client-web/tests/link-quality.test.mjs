import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkMode, lossFraction, median } from '../pose/link-quality.js';

test('mode thresholds', () => {
  assert.equal(linkMode({ kbps: 1200, loss: 0, rttMs: 40 }), 'video');
  assert.equal(linkMode({ kbps: 300, loss: 0.049, rttMs: 399 }), 'video');
  assert.equal(linkMode({ kbps: 299, loss: 0, rttMs: 40 }), 'low video');
  assert.equal(linkMode({ kbps: 1200, loss: 0.08, rttMs: 40 }), 'low video');
  assert.equal(linkMode({ kbps: 1200, loss: 0, rttMs: 600 }), 'low video');
  assert.equal(linkMode({ kbps: 80, loss: 0, rttMs: 40 }), 'audio + pose');
  assert.equal(linkMode({ kbps: 500, loss: 0.2, rttMs: 40 }), 'audio + pose');
  assert.equal(linkMode({ kbps: 500, loss: 0, rttMs: 1500 }), 'audio + pose');
  assert.equal(linkMode({ kbps: null, loss: null, rttMs: null }), 'audio + pose');
});

test('loss fraction and median', () => {
  assert.equal(lossFraction(95, 5), 0.05);
  assert.equal(lossFraction(10, -2), 0);
  assert.equal(lossFraction(0, 0), null);
  assert.equal(median([300, 10, 20]), 20);
  assert.equal(median([1, 2, 3, 4]), 2.5);
  assert.equal(median([]), null);
});
