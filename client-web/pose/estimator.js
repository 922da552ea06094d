// Pose estimation in the browser with MediaPipe Pose (npm @mediapipe/pose, vendored by client-web.targets
// under vendor/mediapipe/: the script, wasm and models all come from this server, never a CDN).
//
//   const estimator = createPoseEstimator();
//   estimator.addEventListener('landmarks', (e) => e.detail);  // { t, landmarks|null, tracked, durationMs, hz }
//   await estimator.start(videoElement);  ...  estimator.stop();
//
// Thread: the model runs on the page's thread. MediaPipe's Pose solution (this pinned version) does have a
// worker path (importScripts + OffscreenCanvas), but it is broken: it never stores the WebGL context its
// send() uses, and once that is patched it runs on WebGL 1 and finds no person in any frame (tried with
// this version in headless Chromium). So: page thread, with an adaptive rate (rate.js) that targets 10 estimates/s and
// keeps estimation to at most 40 % of the thread (fewer estimates/s when one takes longer than 40 ms), so
// the page stays responsive. The call's media (capture, encode, network) runs on the browser's own threads
// and does not wait for it. Estimation pauses while the page is hidden. `thread` reports 'main'.
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
    this.thread = 'main';
  }

  status(state, message = '') {
    this.dispatchEvent(new CustomEvent('status', { detail: { state, message, thread: this.thread } }));
  }

  async start(video) {
    if (this.running) return;
    this.video = video;
    this.running = true;
    // Without WebGL the library would stop the page with an alert(): say so instead.
    const probe = document.createElement('canvas');
    const gl = probe.getContext('webgl2') ?? probe.getContext('webgl');
    if (!gl) {
      this.running = false;
      throw new Error('this device cannot track body pose (no WebGL)');
    }
    gl.getExtension('WEBGL_lose_context')?.loseContext();
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
      tracked: countTracked(landmarks), durationMs, hz: 1000 / interval, thread: this.thread,
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
