// Pose estimation in the browser with MediaPipe Pose (npm @mediapipe/pose, lite model). Its files come from this
// server under content-hashed URLs listed in /pose-model/manifest.json (never a CDN); once stored on the device
// (pose/model-store.js) the service worker (sw.js) answers for them, so the estimator starts with no network.
//
//   const estimator = createPoseEstimator();
//   estimator.addEventListener('landmarks', (e) => e.detail);  // { t, landmarks|null, tracked, durationMs, hz }
//   await estimator.start(videoElement);  ...  estimator.stop();
//
// Thread: by default the model runs in a dedicated Worker (pose-worker.js, with an OffscreenCanvas and
// WebGL 2; frames go there as ImageBitmaps). Where a browser has no WebGL 2 in workers, or the worker fails
// to start, it runs on the page's thread instead (`thread` says which, `note` why). Either way an adaptive
// rate (rate.js) targets 10 estimates/s and slows down when an estimate takes longer than its budget (at most
// 40 % of a core on the page's thread, 70 % in the worker), so the page and the call never stutter; estimation
// pauses while the page is hidden. Where WebGL is software the model infers on the CPU (softwareWebGl). `thread: 'main' | 'worker'` forces one. `files` (file name -> URL, see model-manifest.js urlMap)
// may be given; otherwise the manifest is fetched.
import { AdaptiveRate, WORKER_MAX_DUTY } from './rate.js';
import { countTracked } from './landmarks.js';
import { urlMap } from './model-manifest.js';
import { fetchManifest } from './model-store.js';

/** MediaPipe's locateFile over a name -> URL map (a file the manifest does not list cannot load). */
export function locator(files) {
  return (file) => files[file] ?? `/pose-model/unlisted/${file}`;
}

let scriptPromise = null;
function loadScript(files) {
  if (globalThis.Pose) return Promise.resolve();
  scriptPromise ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = locator(files)('pose.js');
    script.onload = () => resolve();
    script.onerror = () => { scriptPromise = null; reject(new Error('could not load the pose model script')); };
    document.head.appendChild(script);
  });
  return scriptPromise;
}

/**
 * True when this browser's WebGL draws in software (SwiftShader, llvmpipe: no usable GPU, as in a headless browser or
 * on some low-end devices). There the model's inference runs several times faster on the CPU (MediaPipe's
 * `useCpuInference`: XNNPACK in WebAssembly) than through software WebGL; measured in headless Chromium, an estimate
 * took about 520 ms through SwiftShader.
 */
export function softwareWebGl() {
  try {
    const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    if (!gl) return false;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
  } catch {
    return false;
  }
}

/** Runs the model on the page's thread. */
class MainThreadBackend {
  constructor() { this.thread = 'main'; this.pose = null; this.pending = null; }

  async init(files, modelComplexity, cpuInference) {
    await loadScript(files);
    const pose = new globalThis.Pose({ locateFile: locator(files) });
    pose.setOptions({ modelComplexity, smoothLandmarks: true, enableSegmentation: false,
      minDetectionConfidence: 0.5, minTrackingConfidence: 0.5, useCpuInference: cpuInference });
    pose.onResults((results) => { this.pending = results; });
    await pose.initialize();
    this.pose = pose;
  }

  async estimate(video) {
    this.pending = null;
    await this.pose.send({ image: video });
    return { landmarks: this.pending?.poseLandmarks ?? null, worldLandmarks: this.pending?.poseWorldLandmarks ?? null };
  }

  close() { this.pose?.close?.(); this.pose = null; }
}

/** Runs the model in pose-worker.js; frames go there as ImageBitmaps (transferred, not copied). */
class WorkerBackend {
  constructor() { this.thread = 'worker'; this.worker = null; this.waiting = null; }

  static supported() {
    if (typeof Worker !== 'function' || typeof OffscreenCanvas !== 'function' || typeof createImageBitmap !== 'function') return false;
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
    return !!gl;
  }

  init(files, modelComplexity, cpuInference, timeoutMs = 300_000) { // generous: the model is ~12 MB on a slow link
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./pose-worker.js', import.meta.url));
      this.worker = worker;
      const timer = setTimeout(() => reject(new Error('the pose worker did not start in time')), timeoutMs);
      worker.onerror = (event) => { clearTimeout(timer); reject(new Error(event.message || 'pose worker error')); };
      worker.onmessage = (event) => {
        const message = event.data;
        if (message.type === 'ready') { clearTimeout(timer); resolve(); }
        else if (message.type === 'error') { clearTimeout(timer); reject(new Error(message.message)); }
        else if (message.type === 'result' && this.waiting) { const done = this.waiting; this.waiting = null; done(message); }
      };
      worker.postMessage({ type: 'init', files, modelComplexity, cpuInference });
    });
  }

  async estimate(video) {
    const image = await createImageBitmap(video);
    const result = await new Promise((resolve) => {
      this.waiting = resolve;
      this.worker.postMessage({ type: 'frame', t: performance.now(), image }, [image]);
    });
    if (result.error) throw new Error(result.error);
    return { landmarks: result.landmarks, worldLandmarks: result.worldLandmarks };
  }

  close() { this.worker?.terminate(); this.worker = null; }
}

export class PoseEstimator extends EventTarget {
  /** @param {{files?: Object<string, string>, rate?: object, modelComplexity?: number, thread?: 'auto'|'worker'|'main',
   *   inference?: 'auto'|'cpu'|'gpu'}} options  inference 'auto': on the CPU where WebGL is software (softwareWebGl) */
  constructor({ files = null, rate = {}, modelComplexity = 0, thread = 'auto', inference = 'auto' } = {}) {
    super();
    this.files = files;
    this.inference = inference;
    this.rateOptions = rate;
    this.rate = new AdaptiveRate(rate);
    this.modelComplexity = modelComplexity;
    this.preferred = thread;
    this.thread = null; // 'worker' or 'main' once started
    this.note = '';
    this.backend = null;
    this.video = null;
    this.timer = null;
    this.running = false;
    this.estimates = 0;
  }

  status(state, message = '') {
    this.dispatchEvent(new CustomEvent('status', { detail: { state, message, thread: this.thread, note: this.note } }));
  }

  async createBackend() {
    const cpu = this.inference === 'cpu' || (this.inference === 'auto' && softwareWebGl());
    this.inferenceOn = cpu ? 'cpu' : 'gpu';
    if (this.preferred !== 'main' && WorkerBackend.supported()) {
      const backend = new WorkerBackend();
      try {
        await backend.init(this.files, this.modelComplexity, cpu);
        return backend;
      } catch (error) {
        backend.close();
        if (this.preferred === 'worker') throw error;
        this.note = `no pose worker (${error.message}): running on the page's thread`;
      }
    } else if (this.preferred !== 'main') {
      this.note = 'no WebGL in workers here: running on the page\'s thread';
    }
    const backend = new MainThreadBackend();
    await backend.init(this.files, this.modelComplexity, cpu);
    return backend;
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
    let backend;
    try {
      this.files ??= urlMap(await fetchManifest());
      backend = await this.createBackend();
    } catch (error) {
      this.running = false;
      throw error;
    }
    if (!this.running) { backend.close(); return; }
    this.backend = backend;
    this.thread = backend.thread;
    if (this.thread === 'worker' && this.rateOptions.maxDuty === undefined)
      this.rate = new AdaptiveRate({ ...this.rateOptions, maxDuty: WORKER_MAX_DUTY });
    this.status('running', 'Model loaded');
    this.schedule(0);
  }

  schedule(delayMs) {
    if (!this.running) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, delayMs));
  }

  async tick() {
    const video = this.video;
    if (!this.running || !this.backend) return;
    if (document.hidden || !video || video.readyState < 2 || video.videoWidth === 0) {
      this.schedule(this.rate.intervalMs());
      return;
    }
    const started = performance.now();
    let result;
    try {
      result = await this.backend.estimate(video);
    } catch (error) {
      this.status('error', String(error?.message ?? error));
      this.schedule(1000);
      return;
    }
    if (!this.running) return;
    const durationMs = performance.now() - started;
    const interval = this.rate.record(durationMs);
    const landmarks = result.landmarks ?? null;
    this.estimates++;
    this.dispatchEvent(new CustomEvent('landmarks', { detail: {
      t: started, landmarks, worldLandmarks: result.worldLandmarks ?? null,
      tracked: countTracked(landmarks), durationMs, hz: 1000 / interval, thread: this.thread, inference: this.inferenceOn,
      width: video.videoWidth, height: video.videoHeight } }));
    this.schedule(interval - durationMs);
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.backend?.close();
    this.backend = null;
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
