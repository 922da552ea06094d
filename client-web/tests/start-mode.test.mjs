import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHECK_KEY, CHECK_MAX_AGE_MS, CHECK_START_MESSAGE, checkRecord, forgetCheck, modeBadge, readCheck, saveCheck, startModeFrom,
} from '../session/start-mode.js';
import { useEnglish } from './catalogue.mjs';
import { t } from '../i18n/i18n.js';

useEnglish();

function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => { items.set(key, String(value)); },
    removeItem: (key) => { items.delete(key); },
    items,
  };
}

const HOUR = 60 * 60 * 1000;
const weak = { state: 'done', mode: 'audio + pose', kbps: 48, rttMs: 910, loss: 0.04 };
const good = { state: 'done', mode: 'video', kbps: 1800, rttMs: 45, loss: 0 };

test('a weak check, kept on the device, starts the session in audio + pose for "check"', () => {
  const storage = memoryStorage();
  assert.equal(saveCheck(storage, weak, 1_000_000), true);
  assert.deepEqual(JSON.parse(storage.items.get(CHECK_KEY)),
    { version: 1, mode: 'audio + pose', kbps: 48, rttMs: 910, loss: 0.04, failed: false, at: 1_000_000 });
  const record = readCheck(storage, 1_000_000 + HOUR);
  assert.equal(record.mode, 'audio + pose');
  assert.deepEqual(startModeFrom(record), { mode: 'audio+pose', reason: 'check', message: CHECK_START_MESSAGE });
  assert.match(t(CHECK_START_MESSAGE), /^Your connection test found a weak connection: starting with audio and movement only/);
});

test('video and low video start in video; a failed test counts as weak', () => {
  const storage = memoryStorage();
  saveCheck(storage, good, 0);
  assert.equal(startModeFrom(readCheck(storage, 1)), null);
  saveCheck(storage, { ...good, mode: 'low video', kbps: 150 }, 0);
  assert.equal(startModeFrom(readCheck(storage, 1)), null);
  saveCheck(storage, { state: 'failed', mode: 'audio + pose', kbps: null, rttMs: undefined, loss: NaN }, 0);
  const failed = readCheck(storage, 1);
  assert.deepEqual({ failed: failed.failed, kbps: failed.kbps, rttMs: failed.rttMs, loss: failed.loss }, { failed: true, kbps: null, rttMs: null, loss: null });
  assert.equal(startModeFrom(failed).mode, 'audio+pose');
});

test('old, future, garbled or foreign records are ignored; nothing stored is no start mode', () => {
  const storage = memoryStorage();
  assert.equal(readCheck(storage, 0), null);
  assert.equal(startModeFrom(null), null);
  saveCheck(storage, weak, 0);
  assert.notEqual(readCheck(storage, CHECK_MAX_AGE_MS), null);
  assert.equal(readCheck(storage, CHECK_MAX_AGE_MS + 1), null);
  assert.notEqual(readCheck(storage, HOUR, HOUR), null); // a custom age
  assert.equal(readCheck(storage, 2 * HOUR, HOUR), null);
  saveCheck(storage, weak, 10 * HOUR);
  assert.equal(readCheck(storage, 9 * HOUR), null, 'from the future (a clock changed)');
  for (const text of ['{', '"weak"', '[]', '{"version":2,"mode":"audio + pose","at":0}', '{"version":1,"mode":"hologram","at":0}',
    '{"version":1,"mode":"audio + pose","at":"yesterday"}']) {
    storage.items.set(CHECK_KEY, text);
    assert.equal(readCheck(storage, 1), null, text);
  }
});

test('storage that refuses (private mode, full, blocked) keeps nothing and breaks nothing', () => {
  const refusing = { getItem() { throw new Error('SecurityError'); }, setItem() { throw new Error('QuotaExceededError'); }, removeItem() { throw new Error('no'); } };
  assert.equal(saveCheck(refusing, weak, 0), false);
  assert.equal(readCheck(refusing, 0), null);
  forgetCheck(refusing);
  const storage = memoryStorage();
  saveCheck(storage, weak, 0);
  forgetCheck(storage);
  assert.equal(readCheck(storage, 1), null);
});

test('the tile badge says the mode and why', () => {
  assert.equal(modeBadge('video', 'recovered'), null);
  assert.equal(modeBadge('audio+pose', 'therapist'), 'audio + movement (held by the therapist)');
  assert.equal(modeBadge('audio+pose', 'weak-uplink'), 'audio + movement (weak connection)');
  assert.equal(modeBadge('audio+pose', 'device'), 'audio + movement (weak connection)');
  assert.equal(modeBadge('audio+pose', 'check'), 'audio + movement (connection test)');
  assert.equal(modeBadge('audio+pose', ''), 'audio + movement');
});
