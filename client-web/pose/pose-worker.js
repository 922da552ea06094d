// MediaPipe Pose in a dedicated Worker (classic worker: the library loads its wasm with importScripts and
// draws into an OffscreenCanvas with WebGL). Messages:
//   in : { type: 'init', files, modelComplexity, cpuInference }   files: file name -> hashed URL (the manifest's)   out: { type: 'ready' } | { type: 'error', message }
//   in : { type: 'frame', t, image: ImageBitmap }   out: { type: 'result', t, landmarks, worldLandmarks, error? }
/* global Pose */
'use strict';

let pose = null;
let latest = null;

function locator(files) {
  return (file) => files[file] ?? `/pose-model/unlisted/${file}`; // the rule of estimator.js
}

// @mediapipe/pose 0.5.1675469404 has a worker path with two faults, patched here (the version is pinned):
// 1. it imports every file of its list as a script, the model too (the model is fetched on demand anyway);
// 2. it asks the wasm runtime for its WebGL context with an option name that runtime does not read, so it
//    gets WebGL 1, where the graph finds no person; and it never stores that context where send() reads it.
function patchedImportScripts(importOriginal) {
  return (...urls) => {
    importOriginal(...urls.filter((url) => /\.js(\?|$)/.test(url)));
    const create = self.createMediapipeSolutionsWasm;
    if (typeof create === 'function' && !create.patched) {
      const wrapped = (options) => create(options).then((module) => {
        const createContext = module.GL.createContext.bind(module.GL);
        module.GL.createContext = (canvas, attributes) =>
          createContext(canvas, { ...attributes, majorVersion: 2, minorVersion: 0 });
        return module;
      });
      wrapped.patched = true;
      self.createMediapipeSolutionsWasm = wrapped;
    }
  };
}

function storeGlContext(solution) {
  const inner = solution.h;
  if (inner && inner.m instanceof OffscreenCanvas && inner.K === undefined)
    inner.K = inner.m.getContext('webgl2') ?? inner.m.getContext('webgl');
}

async function init({ files, modelComplexity, cpuInference = false }) {
  const locateFile = locator(files);
  const importOriginal = self.importScripts.bind(self);
  self.importScripts = patchedImportScripts(importOriginal);
  self.createMediapipeSolutionsPackedAssets = { locateFile }; // the packed-assets loader reads this global
  importOriginal(locateFile('pose.js'));
  pose = new Pose({ locateFile });
  pose.setOptions({ modelComplexity, smoothLandmarks: true, enableSegmentation: false,
    minDetectionConfidence: 0.5, minTrackingConfidence: 0.5, useCpuInference: cpuInference });
  pose.onResults((results) => { latest = results; });
  await pose.initialize();
  storeGlContext(pose);
}

const plain = (list) => (list ? list.map((p) => ({ x: p.x, y: p.y, z: p.z, visibility: p.visibility })) : null);

self.onmessage = async (event) => {
  const message = event.data;
  if (message.type === 'init') {
    try {
      await init(message);
      self.postMessage({ type: 'ready' });
    } catch (error) {
      self.postMessage({ type: 'error', message: String(error?.message ?? error) });
    }
  } else if (message.type === 'frame') {
    try {
      latest = null;
      await pose.send({ image: message.image });
      self.postMessage({ type: 'result', t: message.t, landmarks: plain(latest?.poseLandmarks),
        worldLandmarks: plain(latest?.poseWorldLandmarks) });
    } catch (error) {
      self.postMessage({ type: 'result', t: message.t, landmarks: null, error: String(error?.message ?? error) });
    } finally {
      message.image.close?.();
    }
  }
};
