import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  downloadBytes, filesFor, formatMegabytes, hasWasmSimd, isModelFileUrl, missingFiles, parseManifest, staleUrls, urlMap,
} from '../pose/model-manifest.js';
import { fakeModel } from './fake-cache.mjs';

const model = () => fakeModel([
  { name: 'pose.js', bytes: 100 },
  { name: 'pose_landmark_lite.tflite', bytes: 1000 },
  { name: 'pose_solution_simd_wasm_bin.wasm', bytes: 5000, simd: true },
  { name: 'pose_solution_wasm_bin.wasm', bytes: 4000, simd: false },
]);

test('a manifest is parsed and its totals are the files each kind of browser loads', () => {
  const manifest = parseManifest(model().json);
  assert.equal(manifest.files.length, 4);
  assert.equal(manifest.totalBytes, 100 + 1000 + 5000);
  assert.equal(manifest.totalBytesWithoutSimd, 100 + 1000 + 4000);
  assert.deepEqual(filesFor(manifest, true).map((f) => f.name), ['pose.js', 'pose_landmark_lite.tflite', 'pose_solution_simd_wasm_bin.wasm']);
  assert.deepEqual(filesFor(manifest, false).map((f) => f.name), ['pose.js', 'pose_landmark_lite.tflite', 'pose_solution_wasm_bin.wasm']);
  assert.equal(downloadBytes(manifest, true), 6100);
  assert.equal(downloadBytes(manifest, false), 5100);
  assert.equal(manifest.files[0].simd, null);
});

test('urlMap gives MediaPipe every listed file by name', () => {
  const manifest = parseManifest(model().json);
  const map = urlMap(manifest);
  assert.equal(Object.keys(map).length, 4);
  assert.match(map['pose.js'], /^\/pose-model\/[0-9a-f]{16}\/pose\.js$/);
});

test('a manifest that is not one is refused', () => {
  const good = model().json;
  assert.throws(() => parseManifest(null));
  assert.throws(() => parseManifest({ ...good, format: 2 }));
  assert.throws(() => parseManifest({ ...good, files: 'x' }));
  assert.throws(() => parseManifest({ ...good, files: [{ ...good.files[0], url: '/vendor/pose.js' }] }), /bad manifest entry/);
  assert.throws(() => parseManifest({ ...good, files: [{ ...good.files[0], bytes: -1 }] }));
  assert.throws(() => parseManifest({ ...good, files: [{ ...good.files[0], sha256: 'abc' }] }));
  assert.throws(() => parseManifest({ ...good, files: [good.files[0], good.files[0]] }), /twice/);
});

test('hashed model URLs are told from everything else', () => {
  assert.ok(isModelFileUrl('/pose-model/0123456789abcdef/pose.js'));
  assert.ok(isModelFileUrl('https://clinic.example/pose-model/0123456789abcdef/pose_web.binarypb'));
  assert.ok(!isModelFileUrl('/pose-model/manifest.json'));
  assert.ok(!isModelFileUrl('/pose-model/0123456789ABCDEF/pose.js'));
  assert.ok(!isModelFileUrl('/pose-model/0123456789abcde/pose.js'));
  assert.ok(!isModelFileUrl('/hubs/session?id=1'));
  assert.ok(!isModelFileUrl('/api/echo'));
  assert.ok(!isModelFileUrl('/pose-model/0123456789abcdef/../sw.js'));
});

test('stale URLs are stored model files the manifest no longer lists; missing files are listed ones not stored', () => {
  const manifest = parseManifest(model().json);
  const current = manifest.files.map((f) => `http://app.test${f.url}`);
  const old = 'http://app.test/pose-model/ffffffffffffffff/pose.js';
  const other = 'http://app.test/pose-model/manifest.json';
  assert.deepEqual(staleUrls(manifest, [...current, old, other]), [old]);
  assert.deepEqual(staleUrls(manifest, current), []);
  const simdFiles = filesFor(manifest, true);
  assert.deepEqual(missingFiles(simdFiles, current.slice(0, 1)).map((f) => f.name), ['pose_landmark_lite.tflite', 'pose_solution_simd_wasm_bin.wasm']);
  assert.deepEqual(missingFiles(simdFiles, current), []);
});

test('sizes in decimal megabytes', () => {
  assert.equal(formatMegabytes(12_219_060), '12.2 MB');
  assert.equal(formatMegabytes(960_000), '1.0 MB');
  assert.equal(formatMegabytes(0), '0.0 MB');
});

test('the SIMD probe is a valid module here (node has WebAssembly SIMD) and false without WebAssembly', () => {
  assert.equal(hasWasmSimd(), true);
  assert.equal(hasWasmSimd(null), false);
  assert.equal(hasWasmSimd({ validate: () => false }), false);
  assert.equal(hasWasmSimd({ validate: () => { throw new Error('no'); } }), false);
});
