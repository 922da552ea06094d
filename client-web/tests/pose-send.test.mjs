import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BUFFERED_BYTES, POSE_CHANNEL_OPTIONS, POSE_LABEL, PoseSender, sendDecision, shouldEstimate } from '../session/pose-send.js';
import { createDecoderState, createEncoderState, decodeFrame, encodeFrame } from '../pose/keypoint-codec.js';

const pose = (shift = 0) => Array.from({ length: 33 }, (_, i) => ({ x: 0.3 + i * 0.01 + shift, y: 0.2 + i * 0.02, z: 0, visibility: 0.9 }));

function fakeChannel() {
  return { readyState: 'open', bufferedAmount: 0, messages: [], send(bytes) { this.messages.push(bytes); } };
}

test('the pose channel is unordered without retransmissions', () => {
  assert.equal(POSE_LABEL, 'pose');
  assert.deepEqual({ ...POSE_CHANNEL_OPTIONS }, { ordered: false, maxRetransmits: 0 });
});

test('a frame goes out only on an open channel with little buffered', () => {
  assert.deepEqual(sendDecision({ readyState: 'open', bufferedAmount: 0 }), { send: true, reason: 'ok' });
  assert.deepEqual(sendDecision({ readyState: 'open', bufferedAmount: MAX_BUFFERED_BYTES }), { send: true, reason: 'ok' });
  assert.deepEqual(sendDecision({ readyState: 'open', bufferedAmount: MAX_BUFFERED_BYTES + 1 }), { send: false, reason: 'buffered' });
  assert.deepEqual(sendDecision({ readyState: 'connecting', bufferedAmount: 0 }), { send: false, reason: 'not-open' });
  assert.deepEqual(sendDecision({ readyState: 'closed', bufferedAmount: 0 }), { send: false, reason: 'not-open' });
});

test('the estimator runs for a patient in the call with stored files and the camera on', () => {
  const base = { role: 'patient', inCall: true, filesStored: true, cameraOn: true };
  assert.equal(shouldEstimate(base).run, true);
  assert.deepEqual(shouldEstimate({ ...base, cameraOn: false }), { run: false, reason: 'camera-off' });
  assert.deepEqual(shouldEstimate({ ...base, filesStored: false }), { run: false, reason: 'files-missing' });
  assert.deepEqual(shouldEstimate({ ...base, role: 'therapist' }), { run: false, reason: 'not-patient' });
  assert.deepEqual(shouldEstimate({ ...base, inCall: false }), { run: false, reason: 'not-in-call' });
});

test('frames are dropped, not queued, while the channel is full, and the stream stays decodable', () => {
  const channel = fakeChannel();
  const encoder = createEncoderState();
  let now = 1_000;
  const sender = new PoseSender(channel, { encode: (frame) => encodeFrame(frame, encoder), clock: () => now });
  assert.equal(sender.offer(null), 'no-pose');
  for (let i = 0; i < 20; i++) {
    now += 100;
    channel.bufferedAmount = i % 3 === 1 ? 1000 : 0;
    sender.offer(pose(i * 0.001));
  }
  assert.equal(sender.dropped, 7);
  assert.equal(sender.sent, 13);
  assert.equal(channel.messages.length, 13);
  const decoder = createDecoderState();
  for (const bytes of channel.messages) assert.ok(decodeFrame(bytes, decoder), decoder.lastStatus);

  channel.readyState = 'closing';
  assert.equal(sender.offer(pose()), 'not-open');
  assert.equal(channel.messages.length, 13);
});

test('frames carry the wall-clock capture time modulo 2^32', () => {
  const channel = fakeChannel();
  const encoder = createEncoderState();
  const sender = new PoseSender(channel, { encode: (frame) => encodeFrame(frame, encoder), clock: () => 2 ** 32 + 1234 });
  sender.offer(pose());
  assert.equal(decodeFrame(channel.messages[0], createDecoderState()).timestampMs, 1234);
});

test('a rate cap skips frames without breaking the stream, and lifting it sends every frame again', () => {
  const channel = fakeChannel();
  const encoder = createEncoderState();
  let now = 5_000;
  const sender = new PoseSender(channel, { encode: (frame) => encodeFrame(frame, encoder), clock: () => now });
  sender.setMaxRate(8);
  const reasons = [];
  for (let i = 0; i < 50; i++, now += 100) reasons.push(sender.offer(pose(i * 0.001)));
  // 5 s of a 10 a second estimator at 8 a second at most: 4 of every 5 frames go out (and one of credit at the start).
  assert.equal(sender.sent, 41);
  assert.equal(reasons.filter((r) => r === 'rate').length, 9);
  sender.setMaxRate(0);
  for (let i = 0; i < 10; i++, now += 100) assert.equal(sender.offer(pose()), 'sent');
  const decoder = createDecoderState();
  for (const bytes of channel.messages) assert.ok(decodeFrame(bytes, decoder), decoder.lastStatus);
});
