// Regenerates keypoint-vectors.json from the JavaScript codec (run once: `node tests/Pose/generate-vectors.mjs`).
// The C# codec is then required to produce the same bytes; both test suites read the file.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEncoderState, createDecoderState, encodeFrame, decodeFrame, requestKeyFrame, ERROR_BOUNDS }
  from '../../client-web/pose/keypoint-codec.js';

const round = (v) => Math.round(v * 1e5) / 1e5;
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

// A standing person, roughly MediaPipe's 33 landmark order (nose, eyes, ears, mouth, shoulders, elbows, wrists,
// hands, hips, knees, ankles, heels, toes).
const base = [
  [0.50, 0.15], [0.51, 0.13], [0.52, 0.13], [0.53, 0.13], [0.49, 0.13], [0.48, 0.13], [0.47, 0.13],
  [0.55, 0.14], [0.45, 0.14], [0.52, 0.17], [0.48, 0.17], [0.60, 0.28], [0.40, 0.28], [0.64, 0.42],
  [0.36, 0.42], [0.66, 0.55], [0.34, 0.55], [0.67, 0.58], [0.33, 0.58], [0.665, 0.585], [0.335, 0.585],
  [0.66, 0.57], [0.34, 0.57], [0.56, 0.56], [0.44, 0.56], [0.57, 0.74], [0.43, 0.74], [0.575, 0.92],
  [0.425, 0.92], [0.57, 0.95], [0.43, 0.95], [0.59, 0.96], [0.41, 0.96],
];
const baseZ = base.map(() => -0.3 + 0.6 * rand());
const baseVis = base.map(() => 0.6 + 0.4 * rand());
function pose(t, { jitter = 0.004, lowVis = [] } = {}) {
  return base.map(([x, y], i) => {
    const arm = i >= 13 && i <= 22 ? 0.08 * Math.sin(t + (i % 2) * Math.PI) : 0;
    return [
      round(x + arm + (rand() - 0.5) * jitter),
      round(y - Math.abs(arm) + (rand() - 0.5) * jitter),
      round(baseZ[i] + 0.1 * Math.sin(t + i) + (rand() - 0.5) * 0.02),
      lowVis.includes(i) ? round(0.1 + 0.3 * rand()) : round(Math.min(1, baseVis[i] + (rand() - 0.5) * 0.1)),
      round(0.6 + 0.4 * rand()),
    ];
  });
}

const cases = [];
function addCase(name, description, encoder, inputs, { drop = [], mutate } = {}) {
  const enc = createEncoderState(encoder);
  const dec = createDecoderState();
  const frames = inputs.map((input, k) => {
    if (input.requestKeyFrame) requestKeyFrame(enc);
    const bytes = encodeFrame(input, enc);
    const dropped = drop.includes(k);
    let expect = 'dropped';
    if (!dropped) {
      decodeFrame(bytes, dec);
      expect = dec.lastStatus;
    }
    const f = { timestampMs: input.timestampMs, landmarks: input.landmarks };
    if (input.requestKeyFrame) f.requestKeyFrame = true;
    return { input: f, hex: Buffer.from(bytes).toString('hex'), keyFrame: (bytes[1] & 1) === 0, length: bytes.length,
      ...(dropped ? { drop: true } : {}), expect };
  });
  cases.push({ name, description, encoder, frames });
}

const t0 = 1_700_000;
addCase('key-all-present', 'one key frame, all 33 landmarks present, z and visibility carried', {},
  [{ timestampMs: t0, landmarks: pose(0) }]);

const boundary = pose(0);
boundary[0] = [-0.25, 1.25, -1, 1, 1];
boundary[1] = [1.25, -0.25, 1, 0.5, 0.5];
boundary[2] = [-3, 7, -5, 2, 1];
boundary[3] = [0, 1, 0, 0.99999, 1];
boundary[4] = [0.5, 0.5, 0.53333, 0.83333, 1];
boundary[5] = [0.25, 0.75, -0.06667, 0.66667, 1];
addCase('key-boundaries', 'range ends (-0.25, 1.25, z -1/1), clamped out-of-range values, visibility exactly at the threshold', {},
  [{ timestampMs: 0xffffffff, landmarks: boundary }]);

addCase('key-absent', 'landmarks below the visibility or presence threshold are sent absent (33-bit mask)', {},
  [{ timestampMs: t0, landmarks: (() => { const p = pose(1, { lowVis: [0, 7, 8, 29, 30, 31, 32] }); p[15][4] = 0.2; return p; })() }]);

addCase('key-one-absent', 'the largest key frame: mask plus 32 landmarks', {},
  [{ timestampMs: t0, landmarks: pose(1, { lowVis: [32] }) }]);

addCase('key-all-absent', 'nothing visible: only header and an all-zero mask', {},
  [{ timestampMs: 42, landmarks: pose(0, { lowVis: base.map((_, i) => i) }) }]);

addCase('key-2d-only', 'includeZ and includeVisibility off: x and y only', { includeZ: false, includeVisibility: false },
  [{ timestampMs: t0, landmarks: pose(2) }]);

addCase('key-frames-only', 'keyFrameInterval 1: every frame is a key frame', { keyFrameInterval: 1, initialSequence: 7 },
  [0, 1, 2].map((k) => ({ timestampMs: t0 + 200 * k, landmarks: pose(k * 0.3) })));

addCase('delta-sequence', 'a key frame then delta frames at 5 frames/s (slow arm raise)', {},
  [0, 1, 2, 3, 4, 5].map((k) => ({ timestampMs: t0 + 200 * k, landmarks: pose(k * 0.25, { jitter: 0.002 }) })));

const still = pose(0, { jitter: 0 });
addCase('delta-still', 'identical frames: zero-width deltas', {},
  [0, 1, 2].map((k) => ({ timestampMs: t0 + 100 * k, landmarks: still })));

addCase('delta-mask-change', 'landmarks disappear then reappear inside delta frames', {},
  [
    { timestampMs: t0, landmarks: pose(0, { jitter: 0.002 }) },
    { timestampMs: t0 + 200, landmarks: pose(0.1, { jitter: 0.002, lowVis: [15, 17, 19, 21] }) },
    { timestampMs: t0 + 400, landmarks: pose(0.2, { jitter: 0.002, lowVis: [15, 17, 19, 21] }) },
    { timestampMs: t0 + 600, landmarks: pose(0.3, { jitter: 0.002, lowVis: [17] }) },
  ]);

const jump = pose(0);
addCase('delta-overflow', 'a large jump (z and visibility deltas beyond 2-bit widths, then a person re-entering) falls back to key frames', {},
  [
    { timestampMs: t0, landmarks: jump },
    { timestampMs: t0 + 200, landmarks: jump.map(([x, y, z, v, p]) => [x, y, round(z + 0.9), v, p]) },
    { timestampMs: t0 + 400, landmarks: jump.map(([x, y, z, v, p]) => [round(x + 0.001), y, round(z + 0.9), v, p]) },
    { timestampMs: t0 + 600, landmarks: jump.map(([x, y, z, v, p]) => [round(1 - x), round(y * 0.5), z, v, p]) },
  ]);

addCase('sequence-gap', 'frame 2 is lost: frames 3 and 4 are undecodable until the requested key frame 5', { initialSequence: 100 },
  [0, 1, 2, 3, 4, 5, 6].map((k) => ({ timestampMs: t0 + 200 * k, landmarks: pose(k * 0.2, { jitter: 0.002 }),
    ...(k === 5 ? { requestKeyFrame: true } : {}) })), { drop: [2] });

addCase('keyframe-interval-and-wrap', 'keyFrameInterval 3 and a sequence number wrapping 65535 -> 0', { keyFrameInterval: 3, initialSequence: 65534 },
  [0, 1, 2, 3, 4].map((k) => ({ timestampMs: t0 + 200 * k, landmarks: pose(k * 0.2, { jitter: 0.002 }) })));

addCase('timestamp-wrap-and-pause', 'timestamps wrapping 2^32 inside a delta; a pause over 65.535 s forces a key frame', {},
  [
    { timestampMs: 4294967200, landmarks: pose(0, { jitter: 0.002 }) },
    { timestampMs: 4294967400, landmarks: pose(0.1, { jitter: 0.002 }) }, // = 104 after wrapping
    { timestampMs: 104 + 70000, landmarks: pose(0.2, { jitter: 0.002 }) },
    { timestampMs: 104 + 70000 + 65535, landmarks: pose(0.3, { jitter: 0.002 }) },
  ]);

addCase('fast-motion', 'large per-frame motion at 5 frames/s (wide deltas, still smaller than key frames)', {},
  [0, 1, 2, 3].map((k) => ({ timestampMs: t0 + 200 * k, landmarks: pose(k * 1.2) })));

const hex = (s) => s.replace(/\s+/g, '');
const good = cases[0].frames[0].hex;
const malformed = [
  { name: 'empty', hex: '' },
  { name: 'header-only', hex: good.slice(0, 14) },
  { name: 'wrong-version', hex: 'd2' + good.slice(2) },
  { name: 'reserved-flag', hex: good.slice(0, 2) + '16' + good.slice(4) },
  { name: 'truncated-by-one', hex: good.slice(0, -2) },
  { name: 'extra-byte', hex: good + '00' },
  { name: 'nonzero-padding', hex: cases[5].frames[0].hex.slice(0, -2) + (parseInt(cases[5].frames[0].hex.slice(-2), 16) | 1).toString(16).padStart(2, '0') },
  { name: 'mask-flag-without-mask', hex: good.slice(0, 2) + '0e' + good.slice(4) },
  { name: 'delta-without-key-frame', hex: hex('d1 07 0001 00c8 00') },
  { name: 'delta-width-12', hex: hex('d1 07 0001 00c8 c0') },
  { name: 'too-long', hex: 'd1' + '00'.repeat(127) },
  { name: 'delta-flags-differ-from-reference', after: cases[1].frames[0].hex, hex: hex('d1 01 0001 00c8 00') },
  { name: 'delta-leaves-range', after: cases[1].frames[0].hex, hex: hex('d1 07 0001 00c8 10 80') + '00'.repeat(8) },
  { name: 'delta-truncated', after: cases[1].frames[0].hex, hex: hex('d1 07 0001 00c8 10') + '00'.repeat(8) },
  { name: 'delta-duplicate', after: cases[1].frames[0].hex, hex: hex('d1 07 0000 00c8 00') },
  { name: 'delta-after-gap', after: cases[1].frames[0].hex, hex: hex('d1 07 0002 00c8 00') },
];
for (const m of malformed) {
  const dec = createDecoderState();
  if (m.after && !decodeFrame(Uint8Array.from(Buffer.from(m.after, 'hex')), dec)) throw new Error(m.name);
  const res = decodeFrame(Uint8Array.from(Buffer.from(m.hex, 'hex')), dec);
  m.expect = res ? 'ok' : dec.lastStatus;
}

const out = {
  format: 'TeleRehab pose keypoints, wire format version 1 (docs/pose-format.md)',
  landmarkFields: ['x', 'y', 'z', 'visibility', 'presence'],
  errorBounds: ERROR_BOUNDS,
  note: 'Inputs are rounded to float32 before quantisation. Each case uses a fresh encoder and decoder; frames marked drop are not given to the decoder; expect is the decoder status. Each malformed entry is given to a fresh decoder, after the frame in after (if any), and must be refused with status expect.',
  cases,
  malformed,
};
const json = JSON.stringify(out, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, body) => `[${body.replace(/\s+/g, '')}]`);
writeFileSync(fileURLToPath(new URL('./keypoint-vectors.json', import.meta.url)), json + '\n');
console.log(cases.map((c) => `${c.name}: ${c.frames.map((f) => `${f.keyFrame ? 'K' : 'D'}${f.length}/${f.expect}`).join(' ')}`).join('\n'));
console.log(malformed.map((m) => `${m.name}: ${m.expect}`).join('\n'));
