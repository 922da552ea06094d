import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKGROUND_MIN_KBPS, backgroundFetchDecision, isAudioOnly, poseFilesMessage } from '../session/pose-files.js';
import { useEnglish } from './catalogue.mjs';

useEnglish();

const decide = (p) => backgroundFetchDecision({ stored: false, ...p });
const fourG = { effectiveType: '4g', downlink: 10, saveData: false };

test('stored files are never fetched again', () => {
  assert.deepEqual(backgroundFetchDecision({ stored: true, connection: fourG, downlinkKbps: 5000 }), { fetch: false, reason: 'stored' });
});

test('a 4g link fetches in the background; 3g, 2g and slow-2g never do', () => {
  assert.deepEqual(decide({ connection: fourG }), { fetch: true, reason: 'fast-connection' });
  for (const effectiveType of ['3g', '2g', 'slow-2g']) {
    assert.deepEqual(decide({ connection: { effectiveType, downlink: 0.4 } }), { fetch: false, reason: 'slow-connection' });
    // The session's own measure cannot override a slow link the browser reports.
    assert.equal(decide({ connection: { effectiveType }, downlinkKbps: 5000 }).fetch, false);
  }
});

test('the measured downlink decides: comfortably above the threshold, or not at all', () => {
  assert.deepEqual(decide({ connection: fourG, downlinkKbps: BACKGROUND_MIN_KBPS }), { fetch: true, reason: 'measured-fast' });
  assert.deepEqual(decide({ connection: fourG, downlinkKbps: BACKGROUND_MIN_KBPS - 1 }), { fetch: false, reason: 'measured-low' });
  // A browser without the Network Information API (Safari, Firefox): only a measured fast link.
  assert.deepEqual(decide({ connection: null, downlinkKbps: 3000 }), { fetch: true, reason: 'measured-fast' });
  assert.deepEqual(decide({ connection: null, downlinkKbps: 300 }), { fetch: false, reason: 'measured-low' });
  assert.deepEqual(decide({ connection: null, downlinkKbps: null }), { fetch: false, reason: 'unknown-link' });
  assert.deepEqual(decide({ connection: null, downlinkKbps: 0 }), { fetch: false, reason: 'unknown-link' });
  // 4g but the browser's own estimate is below the threshold, nothing measured yet.
  assert.deepEqual(decide({ connection: { effectiveType: '4g', downlink: 0.9 } }), { fetch: false, reason: 'slow-connection' });
});

test('never in audio-only mode, with Save-Data, or offline', () => {
  assert.deepEqual(decide({ connection: fourG, downlinkKbps: 9000, audioOnly: true }), { fetch: false, reason: 'audio-only' });
  assert.deepEqual(decide({ connection: { ...fourG, saveData: true }, downlinkKbps: 9000 }), { fetch: false, reason: 'save-data' });
  assert.deepEqual(decide({ connection: { type: 'none' } }), { fetch: false, reason: 'offline' });
});

test('audio-only mode: every received video is paused', () => {
  const sub = (kind, layer) => ({ participantId: 'p', trackId: 't', kind, layer, target: layer });
  assert.equal(isAudioOnly(null), false);
  assert.equal(isAudioOnly({ subscriptions: [] }), false);
  assert.equal(isAudioOnly({ subscriptions: [sub('audio', 'all'), sub('video', 'paused')] }), true);
  assert.equal(isAudioOnly({ subscriptions: [sub('audio', 'all'), sub('video', 'S0T0')] }), false);
  assert.equal(isAudioOnly({ subscriptions: [sub('video', 'paused'), sub('video', 'S1T2')] }), false);
  // Paused only until the first layer arrives (the start of a call): not the weak-link mode.
  assert.equal(isAudioOnly({ subscriptions: [{ ...sub('video', 'paused'), target: 'S0T0' }] }), false);
  assert.equal(isAudioOnly({ subscriptions: [{ ...sub('video', 'S0T0'), target: 'paused' }] }), true);
});

test('what the patient is told', () => {
  assert.equal(poseFilesMessage({ state: 'missing' }), 'Movement tracking is off: its files are not on this phone yet.');
  assert.equal(poseFilesMessage({ state: 'off' }), 'Movement tracking is off on this device.');
  assert.match(poseFilesMessage({ state: 'fetching', loadedBytes: 500, totalBytes: 1000 }), /not on this phone yet \(getting them in the background, 50 %\)/);
  assert.match(poseFilesMessage({ state: 'stored' }), /^Movement tracking is ready/);
  assert.match(poseFilesMessage({ state: 'unavailable' }), /cannot store/);
  assert.equal(poseFilesMessage({ state: 'checking' }), '');
});
