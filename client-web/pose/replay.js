// Skeleton playback without video (the "audio + pose" mode as the therapist sees it), fed with a synthetic
// patient at a low frame rate (?fps=4). window.poseReplay exposes the renderer for automated tests.
import { SkeletonRenderer } from './renderer.js';
import { LANDMARK_COUNT, LM } from './landmarks.js';

const params = new URLSearchParams(location.search);
const fps = Math.min(30, Math.max(1, Number(params.get('fps')) || 4));
document.getElementById('fps').textContent = String(fps);

/** A standing person (normalized coordinates) whose right arm swings up and down with phase 0..1. */
export function syntheticPose(phase) {
  const points = Array.from({ length: LANDMARK_COUNT }, () => ({ x: 0.5, y: 0.15, z: 0, visibility: 0.1 }));
  const set = (i, x, y) => { points[i] = { x, y, z: 0, visibility: 0.95 }; };
  set(LM.NOSE, 0.5, 0.15); set(LM.LEFT_EYE, 0.52, 0.13); set(LM.RIGHT_EYE, 0.48, 0.13);
  set(LM.LEFT_EAR, 0.54, 0.14); set(LM.RIGHT_EAR, 0.46, 0.14);
  set(LM.LEFT_SHOULDER, 0.58, 0.3); set(LM.RIGHT_SHOULDER, 0.42, 0.3);
  set(LM.LEFT_ELBOW, 0.6, 0.45); set(LM.LEFT_WRIST, 0.61, 0.58);
  const a = Math.PI * (0.1 + 0.8 * (0.5 - 0.5 * Math.cos(2 * Math.PI * phase))); // shoulder abduction 18..162 deg
  const ex = 0.42 - Math.sin(a) * 0.15, ey = 0.3 + Math.cos(a) * 0.15 * 4 / 3;
  set(LM.RIGHT_ELBOW, ex, ey);
  set(LM.RIGHT_WRIST, ex - Math.sin(a) * 0.13, ey + Math.cos(a) * 0.13 * 4 / 3);
  set(LM.LEFT_HIP, 0.55, 0.58); set(LM.RIGHT_HIP, 0.45, 0.58);
  set(LM.LEFT_KNEE, 0.56, 0.75); set(LM.RIGHT_KNEE, 0.44, 0.75);
  set(LM.LEFT_ANKLE, 0.56, 0.92); set(LM.RIGHT_ANKLE, 0.44, 0.92);
  set(LM.LEFT_HEEL, 0.55, 0.94); set(LM.RIGHT_HEEL, 0.45, 0.94);
  set(LM.LEFT_FOOT_INDEX, 0.59, 0.95); set(LM.RIGHT_FOOT_INDEX, 0.41, 0.95);
  return points;
}

const renderer = new SkeletonRenderer(document.getElementById('skeleton'), { delayMs: 1000 / fps + 50 });
const senderStart = Date.now(); // another clock than the receiver's: the playout buffer learns the offset
let sending = true;
let sent = 0;
const timer = setInterval(() => {
  if (!sending) return;
  const t = Date.now() - senderStart + 1_000_000;
  renderer.push({ t, landmarks: syntheticPose((t % 4000) / 4000), width: 640, height: 480 });
  sent++;
}, 1000 / fps);

const button = document.getElementById('pause');
button.addEventListener('click', () => {
  sending = !sending;
  button.textContent = sending ? 'Stop sending' : 'Resume sending';
});
window.poseReplay = {
  renderer,
  get sent() { return sent; },
  pause() { sending = false; },
  resume() { sending = true; },
  stop() { clearInterval(timer); renderer.stop(); },
};
