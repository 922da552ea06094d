// Keeps the pose estimator's files on the device: reads the manifest, tells what is stored, downloads what is
// missing into Cache Storage (with progress, checking each file's size and SHA-256 before keeping it), and
// registers the service worker (sw.js) that answers the estimator's requests from that cache.
// The browser objects (fetch, caches, crypto.subtle) are parameters, so node tests can pass fakes.
import { CACHE_NAME, MANIFEST_URL, filesFor, hasWasmSimd, missingFiles, parseManifest, staleUrls } from './model-manifest.js';

const env = (o = {}) => ({
  fetch: o.fetch ?? globalThis.fetch?.bind(globalThis),
  caches: o.caches ?? globalThis.caches,
  subtle: o.subtle === undefined ? globalThis.crypto?.subtle : o.subtle,
  simd: o.simd ?? hasWasmSimd(),
});

/** Fetches and checks the manifest. */
export async function fetchManifest(options = {}) {
  const { fetch } = env(options);
  const response = await fetch(MANIFEST_URL, { cache: 'no-cache', signal: options.signal });
  if (!response.ok) throw new Error(`the server has no pose model (${response.status})`);
  return parseManifest(await response.json());
}

/** What of this browser's files is stored: { files, missing, storedBytes, totalBytes, complete }. */
export async function storedStatus(manifest, options = {}) {
  const { caches, simd } = env(options);
  const files = filesFor(manifest, simd);
  const totalBytes = files.reduce((t, f) => t + f.bytes, 0);
  if (!caches) return { files, missing: files, storedBytes: 0, totalBytes, complete: false, noCache: true };
  const cache = await caches.open(CACHE_NAME);
  const cached = (await cache.keys()).map((request) => request.url);
  const missing = missingFiles(files, cached);
  const storedBytes = totalBytes - missing.reduce((t, f) => t + f.bytes, 0);
  return { files, missing, storedBytes, totalBytes, complete: missing.length === 0 };
}

/** Deletes stored files of older manifests; returns how many. */
export async function evictStale(manifest, options = {}) {
  const { caches } = env(options);
  if (!caches) return 0;
  const cache = await caches.open(CACHE_NAME);
  const stale = staleUrls(manifest, (await cache.keys()).map((request) => request.url));
  await Promise.all(stale.map((url) => cache.delete(url)));
  return stale.length;
}

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Downloads the missing files one after another (a weak link is not split between them) and stores each once
 * it is complete and its SHA-256 matches. onProgress({ loadedBytes, totalBytes, file }) counts stored files
 * too, so a resumed download starts where the last one stopped. `signal` aborts (the file in flight is lost,
 * the stored ones stay). Resolves to the final storedStatus.
 */
export async function downloadMissing(manifest, options = {}) {
  const { fetch, caches, subtle } = env(options);
  const onProgress = options.onProgress ?? (() => {});
  if (!caches) throw new Error('this browser cannot store files for later');
  await evictStale(manifest, options);
  const status = await storedStatus(manifest, options);
  const cache = await caches.open(CACHE_NAME);
  let loaded = status.storedBytes;
  onProgress({ loadedBytes: loaded, totalBytes: status.totalBytes, file: null });
  for (const file of status.missing) {
    const response = await fetch(file.url, { signal: options.signal });
    if (!response.ok) throw new Error(`could not download ${file.name} (${response.status})`);
    const chunks = [];
    let received = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      onProgress({ loadedBytes: loaded + Math.min(received, file.bytes), totalBytes: status.totalBytes, file: file.name });
    }
    const body = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) { body.set(chunk, offset); offset += chunk.byteLength; }
    if (received !== file.bytes) throw new Error(`${file.name}: got ${received} bytes, expected ${file.bytes}`);
    if (subtle && hex(await subtle.digest('SHA-256', body)) !== file.sha256) throw new Error(`${file.name} arrived damaged`);
    const type = response.headers.get('Content-Type') ?? 'application/octet-stream';
    await cache.put(file.url, new Response(body, { status: 200, headers: { 'Content-Type': type, 'Content-Length': String(received) } }));
    loaded += file.bytes;
    onProgress({ loadedBytes: loaded, totalBytes: status.totalBytes, file: file.name });
  }
  return storedStatus(manifest, options);
}

/** Registers /sw.js (scope: the whole site). Resolves to the registration, or null where there is none. */
export async function registerServiceWorker(nav = globalThis.navigator) {
  if (!nav?.serviceWorker) return null;
  try {
    return await nav.serviceWorker.register('/sw.js', { scope: '/' });
  } catch (error) {
    console.info(`pose model: no service worker (${error?.message ?? error}); files come from the HTTP cache`);
    return null;
  }
}
