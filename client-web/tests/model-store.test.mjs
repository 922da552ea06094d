import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { CACHE_NAME, parseManifest } from '../pose/model-manifest.js';
import { downloadMissing, evictStale, fetchManifest, storedStatus } from '../pose/model-store.js';
import { FakeCaches, fakeFetch, fakeModel } from './fake-cache.mjs';

const model = () => fakeModel([
  { name: 'pose.js', bytes: 2500 },
  { name: 'pose_landmark_lite.tflite', bytes: 7000, fill: 2 },
  { name: 'pose_solution_simd_wasm_bin.wasm', bytes: 9000, simd: true, fill: 3 },
  { name: 'pose_solution_wasm_bin.wasm', bytes: 8000, simd: false, fill: 4 },
]);
const subtle = webcrypto.subtle;

test('the manifest is fetched and checked', async () => {
  const { json, bodies } = model();
  const { fetch } = fakeFetch(bodies, { manifest: json });
  const manifest = await fetchManifest({ fetch });
  assert.equal(manifest.totalBytes, 2500 + 7000 + 9000);
  await assert.rejects(fetchManifest({ fetch: fakeFetch(new Map()).fetch }), /no pose model \(404\)/);
});

test('a download stores exactly the files this browser loads, with progress up to the total', async () => {
  const { json, bodies } = model();
  const manifest = parseManifest(json);
  const caches = new FakeCaches();
  const { fetch, calls } = fakeFetch(bodies);
  const before = await storedStatus(manifest, { caches, simd: true });
  assert.equal(before.complete, false);
  assert.equal(before.storedBytes, 0);

  const progress = [];
  const after = await downloadMissing(manifest, { caches, fetch, subtle, simd: true, onProgress: (p) => progress.push(p) });
  assert.equal(after.complete, true);
  assert.equal(after.storedBytes, manifest.totalBytes);
  assert.deepEqual(calls.sort(), manifest.files.filter((f) => f.simd !== false).map((f) => f.url).sort());
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].loadedBytes >= progress[i - 1].loadedBytes);
  assert.equal(progress.at(-1).loadedBytes, manifest.totalBytes);
  assert.ok(progress.every((p) => p.totalBytes === manifest.totalBytes));
  assert.ok(progress.length > 10, 'progress per chunk');

  // Stored bytes are the file's, with its content type.
  const cache = await caches.open(CACHE_NAME);
  const wasm = manifest.files.find((f) => f.name === 'pose_solution_simd_wasm_bin.wasm');
  const stored = await cache.match(wasm.url);
  assert.equal(stored.headers.get('Content-Type'), 'application/wasm');
  assert.deepEqual(new Uint8Array(await stored.arrayBuffer()), bodies.get(wasm.url));

  // Nothing more to fetch the second time.
  const again = fakeFetch(bodies);
  await downloadMissing(manifest, { caches, fetch: again.fetch, subtle, simd: true });
  assert.deepEqual(again.calls, []);
});

test('a damaged file is not stored, and an interrupted download resumes with the files still missing', async () => {
  const { json, bodies } = model();
  const manifest = parseManifest(json);
  const caches = new FakeCaches();
  const lite = manifest.files.find((f) => f.name === 'pose_landmark_lite.tflite');
  await assert.rejects(downloadMissing(manifest, { caches, fetch: fakeFetch(bodies, { corrupt: lite.url }).fetch, subtle, simd: true }), /damaged/);
  const status = await storedStatus(manifest, { caches, simd: true });
  assert.deepEqual(status.missing.map((f) => f.name), ['pose_landmark_lite.tflite', 'pose_solution_simd_wasm_bin.wasm']);
  assert.equal(status.storedBytes, 2500);

  const progress = [];
  const resumed = fakeFetch(bodies);
  await downloadMissing(manifest, { caches, fetch: resumed.fetch, subtle, simd: true, onProgress: (p) => progress.push(p.loadedBytes) });
  assert.equal(progress[0], 2500);
  assert.deepEqual(resumed.calls, [lite.url, manifest.files.find((f) => f.name === 'pose_solution_simd_wasm_bin.wasm').url]);
});

test('an aborted download throws and keeps what was complete', async () => {
  const { json, bodies } = model();
  const manifest = parseManifest(json);
  const caches = new FakeCaches();
  const controller = new AbortController();
  const { fetch } = fakeFetch(bodies);
  await assert.rejects(downloadMissing(manifest, {
    caches, fetch, subtle, simd: true, signal: controller.signal,
    onProgress: (p) => { if (p.file === 'pose.js' && p.loadedBytes === 2500) controller.abort(); },
  }));
  const status = await storedStatus(manifest, { caches, simd: true });
  assert.equal(status.storedBytes, 2500);
});

test('a browser without SIMD gets the other wasm build; a wrong size is refused', async () => {
  const { json, bodies } = model();
  const manifest = parseManifest(json);
  const caches = new FakeCaches();
  const { fetch, calls } = fakeFetch(bodies);
  await downloadMissing(manifest, { caches, fetch, subtle, simd: false });
  assert.ok(calls.some((c) => c.endsWith('/pose_solution_wasm_bin.wasm')));
  assert.ok(!calls.some((c) => c.endsWith('/pose_solution_simd_wasm_bin.wasm')));

  const short = parseManifest({ ...json, files: [{ ...json.files[0], bytes: 2499 }] });
  await assert.rejects(downloadMissing(short, { caches: new FakeCaches(), fetch, subtle: null, simd: true }), /expected 2499/);
});

test('files of an older manifest are evicted', async () => {
  const oldModel = fakeModel([{ name: 'pose.js', bytes: 10, fill: 9 }]);
  const { json, bodies } = model();
  const caches = new FakeCaches();
  const cache = await caches.open(CACHE_NAME);
  await cache.put(oldModel.json.files[0].url, new Response('old'));
  await cache.put('/pose-model/manifest.json', new Response('{}'));
  const manifest = parseManifest(json);
  assert.equal(await evictStale(manifest, { caches }), 1);
  assert.deepEqual((await cache.keys()).map((r) => new URL(r.url).pathname), ['/pose-model/manifest.json']);
  await downloadMissing(manifest, { caches, fetch: fakeFetch(bodies).fetch, subtle, simd: true });
  assert.equal((await cache.keys()).length, 4);
});

test('without Cache Storage nothing can be stored', async () => {
  const manifest = parseManifest(model().json);
  const status = await storedStatus(manifest, { caches: null, simd: true });
  assert.equal(status.noCache, true);
  assert.equal(status.complete, false);
});
