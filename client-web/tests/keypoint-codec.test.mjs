// Checks the JavaScript pose keypoint codec against the vectors shared with the C# tests (tests/Pose).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createEncoderState, createDecoderState, encodeFrame, decodeFrame, requestKeyFrame, resetDecoder,
  ERROR_BOUNDS, MAX_FRAME_LENGTH, LANDMARK_COUNT,
} from '../pose/keypoint-codec.js';

const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../tests/Pose/keypoint-vectors.json', import.meta.url)), 'utf8'));
const toHex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (hex) => Uint8Array.from(Buffer.from(hex, 'hex'));
const EPS = 1e-6; // float32 rounding of the inputs
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

function assertWithinBounds(decoded, input, encoder, where) {
  const thr = encoder.absentThreshold ?? 0.5;
  input.landmarks.forEach(([x, y, z, v, p], i) => {
    const d = decoded.landmarks[i];
    const present = v >= thr && p >= thr;
    assert.equal(d.presence, present ? 1 : 0, `${where} landmark ${i} presence`);
    if (!present) return;
    assert.ok(Math.abs(d.x - clamp(x, -0.25, 1.25)) <= ERROR_BOUNDS.xy + EPS, `${where} landmark ${i} x`);
    assert.ok(Math.abs(d.y - clamp(y, -0.25, 1.25)) <= ERROR_BOUNDS.xy + EPS, `${where} landmark ${i} y`);
    if (encoder.includeZ === false) assert.equal(d.z, 0);
    else assert.ok(Math.abs(d.z - clamp(z, -1, 1)) <= ERROR_BOUNDS.z + EPS, `${where} landmark ${i} z`);
    if (encoder.includeVisibility === false) assert.equal(d.visibility, 1);
    else assert.ok(Math.abs(d.visibility - clamp(v, 0, 1)) <= ERROR_BOUNDS.visibility + EPS, `${where} landmark ${i} visibility`);
  });
}

test('the vectors file has a dozen or more cases', () => {
  assert.ok(vectors.cases.length >= 12);
  assert.ok(vectors.cases.some((c) => c.frames.some((f) => !f.keyFrame)));
  assert.ok(vectors.cases.some((c) => c.frames.some((f) => f.drop)));
});

for (const c of vectors.cases) {
  test(`vector ${c.name}: encodes to the expected bytes`, () => {
    const enc = createEncoderState(c.encoder);
    c.frames.forEach((f, k) => {
      if (f.input.requestKeyFrame) requestKeyFrame(enc);
      const bytes = encodeFrame(f.input, enc);
      assert.equal(toHex(bytes), f.hex, `frame ${k}`);
      assert.equal(bytes.length, f.length);
      assert.ok(bytes.length <= MAX_FRAME_LENGTH);
    });
  });

  test(`vector ${c.name}: decodes within the error bounds`, () => {
    const dec = createDecoderState();
    let lastTimestamp = null;
    c.frames.forEach((f, k) => {
      if (f.drop) return;
      const frame = decodeFrame(fromHex(f.hex), dec);
      assert.equal(dec.lastStatus, f.expect, `frame ${k}`);
      if (f.expect !== 'ok') {
        assert.equal(frame, null);
        return;
      }
      assert.equal(frame.keyFrame, f.keyFrame);
      assert.equal(frame.timestampMs, ((f.input.timestampMs % 2 ** 32) + 2 ** 32) % 2 ** 32);
      assert.equal(frame.landmarks.length, LANDMARK_COUNT);
      assertWithinBounds(frame, f.input, c.encoder, `frame ${k}`);
      lastTimestamp = frame.timestampMs;
    });
    assert.notEqual(lastTimestamp, null);
  });
}

test('malformed vectors are rejected', () => {
  for (const m of vectors.malformed) {
    const dec = createDecoderState();
    if (m.after) assert.ok(decodeFrame(fromHex(m.after), dec), m.name);
    assert.equal(decodeFrame(fromHex(m.hex), dec), null, m.name);
    assert.equal(dec.lastStatus, m.expect, m.name);
  }
});

test('a full key frame of 33 landmarks fits in 120 bytes', () => {
  const all = vectors.cases.find((c) => c.name === 'key-all-present').frames[0];
  assert.ok(all.length <= 120);
  assert.ok(MAX_FRAME_LENGTH <= 120);
});

test('stale and duplicate frames are ignored without losing the reference', () => {
  const c = vectors.cases.find((x) => x.name === 'delta-sequence');
  const dec = createDecoderState();
  assert.ok(decodeFrame(fromHex(c.frames[0].hex), dec));
  assert.ok(decodeFrame(fromHex(c.frames[1].hex), dec));
  assert.equal(decodeFrame(fromHex(c.frames[1].hex), dec), null);
  assert.equal(dec.lastStatus, 'stale');
  assert.equal(decodeFrame(fromHex(c.frames[0].hex), dec), null);
  assert.equal(dec.lastStatus, 'stale');
  assert.ok(decodeFrame(fromHex(c.frames[2].hex), dec), 'the next delta still decodes');
  resetDecoder(dec);
  assert.equal(decodeFrame(fromHex(c.frames[3].hex), dec), null);
  assert.equal(dec.lastStatus, 'missing-reference');
});

test('a malformed frame leaves the decoder state unchanged', () => {
  const c = vectors.cases.find((x) => x.name === 'delta-sequence');
  const dec = createDecoderState();
  decodeFrame(fromHex(c.frames[0].hex), dec);
  const bad = fromHex(c.frames[1].hex + '00');
  assert.equal(decodeFrame(bad, dec), null);
  assert.equal(dec.lastStatus, 'malformed');
  assert.ok(decodeFrame(fromHex(c.frames[1].hex), dec));
});

test('random and mutated bytes never throw', () => {
  let seed = 99;
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const samples = vectors.cases.flatMap((c) => c.frames.map((f) => fromHex(f.hex)));
  for (let k = 0; k < 5000; k++) {
    let bytes;
    if (k % 2 === 0) {
      bytes = new Uint8Array(rnd(130));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rnd(256);
      if (bytes.length && rnd(2)) bytes[0] = 0xd1;
    } else {
      bytes = samples[rnd(samples.length)].slice();
      const flips = 1 + rnd(3);
      for (let j = 0; j < flips && bytes.length; j++) bytes[rnd(bytes.length)] ^= 1 << rnd(8);
      if (rnd(4) === 0) bytes = bytes.subarray(0, rnd(bytes.length + 1));
    }
    const dec = createDecoderState();
    decodeFrame(samples[0], dec);
    const out = decodeFrame(bytes, dec);
    if (out) {
      assert.equal(out.landmarks.length, LANDMARK_COUNT);
      for (const lm of out.landmarks) assert.ok(lm.x >= -0.25 - EPS && lm.x <= 1.25 + EPS);
    } else {
      assert.ok(['malformed', 'missing-reference', 'stale'].includes(dec.lastStatus));
    }
  }
  assert.equal(decodeFrame('not bytes', createDecoderState()), null);
});

test('long random walks round-trip within the bounds and never exceed the maximum length', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const enc = createEncoderState({ keyFrameInterval: 25 });
  const dec = createDecoderState();
  let lms = Array.from({ length: LANDMARK_COUNT }, () => [rnd(), rnd(), rnd() * 2 - 1, rnd(), rnd()]);
  let deltas = 0;
  for (let k = 0; k < 400; k++) {
    const step = k % 50 < 40 ? 0.01 : 0.3;
    lms = lms.map(([x, y, z, v, p]) => [
      clamp(x + (rnd() - 0.5) * step, -0.3, 1.3), clamp(y + (rnd() - 0.5) * step, -0.3, 1.3),
      clamp(z + (rnd() - 0.5) * step, -1.1, 1.1), clamp(v + (rnd() - 0.5) * 0.2, 0, 1), clamp(p + (rnd() - 0.5) * 0.2, 0, 1)]);
    const input = { timestampMs: 1000 + 200 * k, landmarks: lms };
    const bytes = encodeFrame(input, enc);
    assert.ok(bytes.length <= MAX_FRAME_LENGTH);
    if (bytes[1] & 1) deltas++;
    const out = decodeFrame(bytes, dec);
    assert.ok(out, `frame ${k}: ${dec.lastStatus}`);
    assertWithinBounds(out, input, {}, `frame ${k}`);
  }
  assert.ok(deltas > 100);
});

test('encoder input checks', () => {
  assert.throws(() => encodeFrame({ timestampMs: 0, landmarks: [] }, createEncoderState()), RangeError);
  assert.throws(() => createEncoderState({ keyFrameInterval: 0 }), RangeError);
  assert.throws(() => createEncoderState({ initialSequence: 70000 }), RangeError);
  const lms = Array.from({ length: LANDMARK_COUNT }, () => ({ x: NaN, y: 0.5 }));
  lms[3] = { x: 0.5, y: 0.5 }; // z, visibility and presence default to 0, 1, 1
  const out = decodeFrame(encodeFrame({ timestampMs: 5, landmarks: lms }, createEncoderState()), createDecoderState());
  assert.equal(out.landmarks.filter((l) => l.presence === 1).length, 1);
  assert.ok(Math.abs(out.landmarks[3].x - 0.5) <= ERROR_BOUNDS.xy);
  assert.equal(out.landmarks[3].visibility, 1);
});

test('the longest valid frame (127 bytes: delta with mask, widths 11/3/3) decodes', () => {
  const key = vectors.cases.find((c) => c.name === 'key-all-present').frames[0];
  const dec = createDecoderState();
  assert.ok(decodeFrame(fromHex(key.hex), dec));
  const bytes = new Uint8Array(127);
  bytes.set([0xd1, 0x0f, 0x00, 0x01, 0x00, 0xc8, 0xbf]);
  bytes.fill(0xff, 7, 11); // 32 mask bits ...
  bytes[11] = 0x80; // ... and the 33rd; then 33 x 28 zero delta bits and padding
  const frame = decodeFrame(bytes, dec);
  assert.ok(frame, dec.lastStatus);
  assert.equal(frame.keyFrame, false);
  assert.equal(frame.timestampMs, key.input.timestampMs + 200);
  assert.equal(decodeFrame(new Uint8Array([...bytes, 0]), createDecoderState()), null);
});
