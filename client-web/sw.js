// Service worker (scope: the whole site): answers requests for the pose estimator's content-hashed files
// (/pose-model/<hash>/<name>) from Cache Storage, so after the first download the estimator starts with no
// network at all. Nothing else is cached or even touched: pages, the session hub, the API, media and the echo
// test go to the network exactly as without a service worker.
//   /pose-model/<hash>/<name>      cache first; a file fetched from the network is stored (it never changes)
//   /pose-model/manifest.json      network first (a stored copy only when offline); stored files that a new
//                                  manifest no longer lists (older hashes) are deleted
// The rules match pose/model-manifest.js (CACHE_NAME, isModelFileUrl, staleUrls); tests/sw.test.mjs runs this
// file against fakes of the service worker globals.
'use strict';

const POSE_CACHE = 'telerehab-pose-model';
const POSE_FILE = /^\/pose-model\/[0-9a-f]{16}\/[A-Za-z0-9._-]+$/;
const POSE_MANIFEST = '/pose-model/manifest.json';

self.addEventListener('install', (event) => { event.waitUntil(self.skipWaiting()); });
self.addEventListener('activate', (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (POSE_FILE.test(url.pathname)) event.respondWith(poseFile(request, url, event));
  else if (url.pathname === POSE_MANIFEST) event.respondWith(poseManifest(request, event));
});

// A file from the network streams to the page as it arrives (so its progress shows) while a copy is stored.
async function poseFile(request, url, event) {
  const cache = await caches.open(POSE_CACHE);
  const stored = await cache.match(url.href);
  if (stored) return stored;
  const response = await fetch(request);
  if (response.status === 200) event.waitUntil(cache.put(url.href, response.clone()).catch(() => {}));
  return response;
}

async function poseManifest(request, event) {
  const cache = await caches.open(POSE_CACHE);
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const stored = await cache.match(POSE_MANIFEST);
    if (stored) return stored;
    throw error;
  }
  if (response.status === 200) event.waitUntil(keepManifest(cache, response.clone()));
  return response;
}

async function keepManifest(cache, response) {
  const manifest = await response.clone().json();
  const listed = new Set((manifest.files ?? []).map((f) => new URL(f.url, self.location.origin).pathname));
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (POSE_FILE.test(path) && !listed.has(path)) await cache.delete(request);
  }
  await cache.put(POSE_MANIFEST, response);
}
