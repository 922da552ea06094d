// The pose estimator's files as the server lists them (GET /pose-model/manifest.json, made by
// signaling/PoseModel from the files it serves): each under a URL that names its content, with its size and
// SHA-256. Pure functions, shared by the pages; the service worker (sw.js) repeats the two rules it needs.
//   { format: 1, version, files: [{ name, url, bytes, sha256, simd? }], totalBytes, totalBytesWithoutSimd }
// `simd`: true/false when only browsers with/without WebAssembly SIMD load the file; absent when all do.

export const MANIFEST_URL = '/pose-model/manifest.json';

/** The Cache Storage cache that holds the files (the pages write it, the service worker reads it). */
export const CACHE_NAME = 'telerehab-pose-model';

const MODEL_FILE_PATH = /^\/pose-model\/[0-9a-f]{16}\/[A-Za-z0-9._-]+$/;

/** True for a content-hashed file URL (absolute or a path), which never changes and may be kept for good. */
export function isModelFileUrl(url, base = 'http://localhost/') {
  try {
    return MODEL_FILE_PATH.test(new URL(url, base).pathname);
  } catch {
    return false;
  }
}

/** Checks a manifest (parsed JSON) and returns it in a known shape; throws on anything unexpected. */
export function parseManifest(json) {
  if (!json || typeof json !== 'object' || json.format !== 1 || !Array.isArray(json.files)) {
    throw new Error('not a pose model manifest');
  }
  const names = new Set();
  const files = json.files.map((f) => {
    if (!f || typeof f.name !== 'string' || typeof f.url !== 'string' || !isModelFileUrl(f.url)
      || !Number.isSafeInteger(f.bytes) || f.bytes < 0 || typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) {
      throw new Error(`bad manifest entry ${JSON.stringify(f)}`);
    }
    if (names.has(f.name)) throw new Error(`file ${f.name} listed twice`);
    names.add(f.name);
    const simd = f.simd === true || f.simd === false ? f.simd : null;
    return Object.freeze({ name: f.name, url: f.url, bytes: f.bytes, sha256: f.sha256, simd });
  });
  return Object.freeze({ format: 1, version: String(json.version ?? ''), files: Object.freeze(files),
    totalBytes: sum(filesFor({ files }, true)), totalBytesWithoutSimd: sum(filesFor({ files }, false)) });
}

const sum = (files) => files.reduce((total, f) => total + f.bytes, 0);

/** The files a browser loads: those for every browser plus its wasm build (with SIMD or without). */
export function filesFor(manifest, simd) {
  return manifest.files.filter((f) => f.simd == null || f.simd === simd);
}

/** Bytes of the first download for a browser (`simd`: whether it has WebAssembly SIMD). */
export function downloadBytes(manifest, simd) {
  return sum(filesFor(manifest, simd));
}

/** file name -> hashed URL, for MediaPipe's locateFile (every listed file: MediaPipe picks the wasm build). */
export function urlMap(manifest) {
  return Object.fromEntries(manifest.files.map((f) => [f.name, f.url]));
}

/** Of the URLs a cache holds, the model files this manifest no longer lists (an older version: to delete). */
export function staleUrls(manifest, cachedUrls) {
  const current = new Set(manifest.files.map((f) => new URL(f.url, 'http://localhost/').pathname));
  return cachedUrls.filter((url) => isModelFileUrl(url) && !current.has(new URL(url, 'http://localhost/').pathname));
}

/** Of `files`, those whose URL is not among `cachedUrls` (absolute URLs or paths). */
export function missingFiles(files, cachedUrls) {
  const have = new Set(cachedUrls.map((url) => new URL(url, 'http://localhost/').pathname));
  return files.filter((f) => !have.has(new URL(f.url, 'http://localhost/').pathname));
}

/** "12.2 MB" (decimal megabytes, as phone plans count them). */
export function formatMegabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

// The smallest module that uses a 128-bit vector: a function () -> v128 returning v128.const 0.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,       // type section: one type, () -> v128
  0x03, 0x02, 0x01, 0x00,                         // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c,       // code section: one body, no locals, v128.const
  ...new Array(16).fill(0), 0x0b,                 // 16 zero bytes, end
]);

/** Whether this JavaScript engine has WebAssembly SIMD (then MediaPipe loads its SIMD wasm build). */
export function hasWasmSimd(wasm = globalThis.WebAssembly) {
  try {
    return !!wasm && wasm.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}
