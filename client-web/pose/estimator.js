// Pose estimation in the browser with MediaPipe Pose (npm @mediapipe/pose, vendored by client-web.targets
// under vendor/mediapipe/: the script, wasm and models all come from this server, never a CDN).
//
//   const estimator = createPoseEstimator();
//   estimator.addEventListener('landmarks', (e) => e.detail);  // { t, landmarks|null, tracked, durationMs, hz }
//   await estimator.start(videoElement);  ...  estimator.stop();
//
// Thread: MediaPipe's legacy Pose solution loads its wasm through <script> elements and draws through a
// WebGL canvas of the document, so it cannot run in a Worker; it runs on the page's thread, and the
// adaptive rate (rate.js) keeps it to at most 40 % of that thread: 10 estimates/s when an estimate takes
// <= 40 ms, fewer when it takes longer, so the page (and the call) never stutters. Estimation is skipped
// while the page is hidden.
import { AdaptiveRate } from './rate.js';
import { countTracked } from './landmarks.js';

const DEFAULT_BASE = new URL('../vendor/mediapipe/', import.meta.url).href;

/** Maps a file name MediaPipe asks for to its vendored URL (see client-web.targets for the ".bin" suffix). */
export function vendoredUrl(file, base = DEFAULT_BASE) {
  return base + file + (/\.(js|wasm)$/.test(file) ? '' : '.bin');
}

let scriptPromise = null;
function loadScript(base) {
  if (globalThis.Pose) return Promise.resolve();
  scriptPromise ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = base + 'pose.js';
    script.onload = () => resolve();
    script.onerror = () => { scriptPromise = null; reject(new Error('could not load the pose model script')); };
    document.head.appendChild(script);
  });
  return scriptPromise;
}

export class PoseEstimator extends EventTarget {
  constructor({ base = DEFAULT_BASE, rate = {}, modelComplexity = 0 } = {}) {
    super();
    this.base = base;
    this.rate = new AdaptiveRate(rate);
    this.modelComplexity = modelComplexity;
    this.pose = null;
    this.video = null;
    this.timer = null;
    this.running = false;
    this.pending = null;
    this.estimates = 0;
  }

  status(state, message = '') {
    this.dispatchEvent(new CustomEvent('status', { detail: { state, message } }));
  }

  async start(video) {
    if (this.running) return;
    this.video = video;
    this.running = true;
    this.status('loading', 'Loading the pose model');
    await loadScript(this.base);
    if (!this.running) return;
    const pose = new globalThis.Pose({ locateFile: (file) => vendoredUrl(file, this.base) });
    pose.setOptions({ modelComplexity: this.modelComplexity, smoothLandmarks: true, enableSegmentation: false,
      minDetectionConfidence: 0.5, minTrackingConfidence: 0.5 });
    pose.onResults((results) => { this.pending = results; });
    await pose.initialize();
    this.pose = pose;
    if (!this.running) { this.stop(); return; }
    this.status('running', 'Model loaded');
    this.schedule(0);
  }

  schedule(delayMs) {
    if (!this.running) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, delayMs));
  }

  async tick() {
    const video = this.video;
    if (!this.running || !this.pose) return;
    if (document.hidden || !video || video.readyState < 2 || video.videoWidth === 0) {
      this.schedule(this.rate.intervalMs());
      return;
    }
    const started = performance.now();
    this.pending = null;
    try {
      await this.pose.send({ image: video });
    } catch (error) {
      this.status('error', String(error?.message ?? error));
      this.schedule(1000);
      return;
    }
    const durationMs = performance.now() - started;
    const interval = this.rate.record(durationMs);
    const landmarks = this.pending?.poseLandmarks ?? null;
    this.estimates++;
    this.dispatchEvent(new CustomEvent('landmarks', { detail: {
      t: started, landmarks, worldLandmarks: this.pending?.poseWorldLandmarks ?? null,
      tracked: countTracked(landmarks), durationMs, hz: 1000 / interval,
      width: video.videoWidth, height: video.videoHeight } }));
    this.schedule(interval - durationMs);
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = null;
    const pose = this.pose;
    this.pose = null;
    pose?.close?.();
    this.status('stopped');
  }
}

export function createPoseEstimator(options) {
  return new PoseEstimator(options);
}

/** Starts estimating on `video`; returns the estimator (an EventTarget with 'landmarks' and 'status' events). */
export async function start(video, options) {
  const estimator = new PoseEstimator(options);
  await estimator.start(video);
  return estimator;
}
