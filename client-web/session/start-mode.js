// The pre-session check's result, kept on the device, and the mode a session starts in. Pure apart from the
// storage passed in (localStorage in the pages; node tests in tests/start-mode.test.mjs).
//   /check (check.js) saves what its network test found: the mode the link can carry, its figures and the time.
//   The join page (join.js) reads it when the call starts: a result that the link is too weak for video, from the
//   last CHECK_MAX_AGE_MS, starts a patient in audio + pose; the server's ladder then starts there too ("check"),
//   and its trials bring video back by itself when the link allows (docs/weak-links.md).

import { t } from '../i18n/i18n.js';

export const CHECK_KEY = 'telerehab.check';

// A phone moves: after some hours the check says little about the link of now. (A stale weak result costs at most
// the ladder's first trial, 15 s of audio + pose on a good link; a stale good one, its usual step down.)
export const CHECK_MAX_AGE_MS = 4 * 60 * 60 * 1000;

// The notice a session started from a weak check shows (a catalogue key: i18n/).
export const CHECK_START_MESSAGE = 'start.checkStart';

const MODES = ['video', 'low video', 'audio + pose'];

// The record /check keeps: { version, mode, kbps, rttMs, loss, failed, at }. `network` is check.js's state.network
// once its test ended; `failed`: the test could not finish (no media came back, the connection failed), which the
// check takes as a link too weak for video.
export function checkRecord(network, now) {
  const figure = (value) => (Number.isFinite(value) ? value : null);
  return {
    version: 1,
    mode: MODES.includes(network.mode) ? network.mode : 'audio + pose',
    kbps: figure(network.kbps),
    rttMs: figure(network.rttMs),
    loss: figure(network.loss),
    failed: network.state === 'failed',
    at: now,
  };
}

// Keeps the record; false when the browser keeps nothing (private mode, storage full or blocked).
export function saveCheck(storage, network, now) {
  try {
    storage.setItem(CHECK_KEY, JSON.stringify(checkRecord(network, now)));
    return true;
  } catch {
    return false;
  }
}

// The last check's record when it is usable now: well formed, not from the future, at most maxAgeMs old; else null.
export function readCheck(storage, now, maxAgeMs = CHECK_MAX_AGE_MS) {
  let record;
  try {
    record = JSON.parse(storage.getItem(CHECK_KEY) ?? 'null');
  } catch {
    return null;
  }
  if (!record || typeof record !== 'object' || record.version !== 1 || !MODES.includes(record.mode)) return null;
  if (!Number.isFinite(record.at) || record.at > now + 60_000 || now - record.at > maxAgeMs) return null;
  return record;
}

// The session has measured the link itself since (its video came back after a trial): the check is superseded.
export function forgetCheck(storage) {
  try {
    storage.removeItem(CHECK_KEY);
  } catch {
    // nothing kept, nothing to forget
  }
}

// What a patient's session starts in from the last check: audio + pose when it found the link too weak for video
// (the server's "low video" rung is the layer selector's, so that starts in video), else null (video).
export function startModeFrom(record) {
  return record?.mode === 'audio + pose' ? { mode: 'audio+pose', reason: 'check', message: CHECK_START_MESSAGE } : null;
}

// The badge on a participant's tile: the mode and why (ParticipantDto mode, modeReason), or null in video.
export function modeBadge(mode, reason) {
  if (mode !== 'audio+pose') return null;
  const why = { therapist: 'therapist', 'weak-uplink': 'weak', device: 'weak', check: 'check' }[reason];
  return t(why ? `mode.badge.${why}` : 'mode.badge');
}
