// Estimates frame sizes and on-the-wire bitrates of the pose keypoint format for a simulated exercise
// (`node tests/Pose/bitrate-estimate.mjs`); the figures are quoted in docs/pose-format.md.
import { createEncoderState, encodeFrame } from '../../client-web/pose/keypoint-codec.js';

// Per data-channel message: SCTP common header 12 + DATA chunk 16 (payload padded to 4 bytes),
// DTLS 1.2 record header 13 + AES-GCM explicit nonce 8 + tag 16, UDP 8, IPv4 20.
const OVERHEAD = 12 + 16 + 13 + 8 + 16 + 8 + 20;
let seed = 2024;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const gauss = () => (rand() + rand() + rand() - 1.5) * 0.8;

// A standing person doing arm raises (a 4 s cycle, hands travelling ~0.5 of the image height), with MediaPipe-like
// jitter (sd ~0.002 in x/y, ~0.02 in z); feet occasionally drop below the visibility threshold.
function simulate(fps, seconds, { keyFrameInterval = 10, jitter = 0.002, period = 4 } = {}) {
  const enc = createEncoderState({ keyFrameInterval });
  const base = Array.from({ length: 33 }, (_, i) => [0.35 + 0.3 * rand(), 0.1 + (i / 33) * 0.85, -0.3 + 0.6 * rand(), 0.7 + 0.3 * rand()]);
  let key = 0, delta = 0, keyBytes = 0, deltaBytes = 0, wire = 0;
  const n = fps * seconds;
  for (let k = 0; k < n; k++) {
    const phase = (2 * Math.PI * k) / (fps * period);
    const lms = base.map(([x, y, z, v], i) => {
      const arm = i >= 11 && i <= 22 ? (i <= 12 ? 0.05 : i <= 14 ? 0.15 : 0.25) * Math.sin(phase) : 0;
      const side = i % 2 ? -1 : 1;
      const foot = i >= 27 && Math.sin(phase * 0.7 + i) > 0.95;
      return [x + side * arm * 0.5 + gauss() * jitter, y - Math.abs(arm) + gauss() * jitter, z + 0.1 * Math.sin(phase) + gauss() * 0.02,
        foot ? 0.3 : Math.min(1, v + gauss() * 0.05), 0.9];
    });
    const bytes = encodeFrame({ timestampMs: Math.round((k * 1000) / fps), landmarks: lms }, enc);
    if (bytes[1] & 1) { delta++; deltaBytes += bytes.length; } else { key++; keyBytes += bytes.length; }
    wire += ((bytes.length + 3) & ~3) + OVERHEAD;
  }
  return {
    fps, keyFrameInterval, key, delta,
    avgKey: +(keyBytes / Math.max(1, key)).toFixed(1), avgDelta: +(deltaBytes / Math.max(1, delta)).toFixed(1),
    avgPayload: +((keyBytes + deltaBytes) / n).toFixed(1),
    payloadKbps: +(((keyBytes + deltaBytes) * 8) / seconds / 1000).toFixed(2),
    wireKbps: +((wire * 8) / seconds / 1000).toFixed(2),
  };
}

console.log(`per-message overhead ${OVERHEAD} B`);
for (const fps of [5, 10]) {
  for (const keyFrameInterval of [1, 10]) console.table([simulate(fps, 120, { keyFrameInterval })]);
}
