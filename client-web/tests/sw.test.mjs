// Runs the service worker (sw.js, a classic script) in a node vm context with fakes of its globals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { FakeCaches, fakeFetch, fakeModel } from './fake-cache.mjs';

const source = readFileSync(new URL('../sw.js', import.meta.url), 'utf8');
const ORIGIN = 'http://app.test';

function loadWorker({ bodies, manifest, offline = false }) {
  const listeners = {};
  const caches = new FakeCaches();
  const net = fakeFetch(bodies, { manifest });
  const fetch = async (request) => {
    if (offline) throw new TypeError('Failed to fetch');
    return net.fetch(typeof request === 'string' ? request : request.url);
  };
  const self = {
    location: new URL(ORIGIN + '/sw.js'),
    addEventListener: (type, fn) => { listeners[type] = fn; },
    skipWaiting: async () => {}, clients: { claim: async () => {} },
  };
  vm.runInNewContext(source, { self, caches, fetch, URL, Response, Request, Set, console });
  // Dispatches a fetch event: resolves to the response given to respondWith, or null when it left it alone.
  const request = async (path, method = 'GET') => {
    let responded = null;
    const pending = [];
    listeners.fetch({
      request: new Request(new URL(path, ORIGIN), { method }),
      respondWith: (p) => { responded = p; },
      waitUntil: (p) => pending.push(p),
    });
    const response = responded ? await responded : null;
    await Promise.all(pending);
    return response;
  };
  return { request, caches, calls: net.calls, setOffline: (v) => { offline = v; }, listeners };
}

test('model files: the first request goes to the network and is stored, the next ones come from the cache', async () => {
  const { json, bodies } = fakeModel([{ name: 'pose.js', bytes: 300 }]);
  const sw = loadWorker({ bodies, manifest: json });
  const url = json.files[0].url;
  const first = await sw.request(url);
  assert.equal(first.status, 200);
  assert.equal((await first.arrayBuffer()).byteLength, 300);
  const second = await sw.request(url);
  assert.equal((await second.arrayBuffer()).byteLength, 300);
  assert.deepEqual(sw.calls, [url]);
  sw.setOffline(true);
  assert.equal((await sw.request(url)).status, 200);
});

test('a file the page stored is answered with no network at all', async () => {
  const { json, bodies } = fakeModel([{ name: 'pose_web.binarypb', bytes: 50 }]);
  const sw = loadWorker({ bodies, manifest: json, offline: true });
  const cache = await sw.caches.open('telerehab-pose-model');
  await cache.put(ORIGIN + json.files[0].url, new Response(new Uint8Array(50)));
  assert.equal((await sw.request(json.files[0].url)).status, 200);
  assert.deepEqual(sw.calls, []);
});

test('errors are not stored', async () => {
  const sw = loadWorker({ bodies: new Map(), manifest: null });
  const url = '/pose-model/0123456789abcdef/pose.js';
  assert.equal((await sw.request(url)).status, 404);
  assert.equal((await (await sw.caches.open('telerehab-pose-model')).keys()).length, 0);
});

test('everything else is left alone and never cached: pages, hub, API, echo, other methods', async () => {
  const { json, bodies } = fakeModel([{ name: 'pose.js', bytes: 10 }]);
  const sw = loadWorker({ bodies, manifest: json });
  for (const path of ['/join', '/check', '/check.js', '/hubs/session?id=abc', '/hubs/session/negotiate', '/api/sessions',
    '/api/echo', '/sw.js', '/pose-model/', '/pose-model/0123/pose.js', '/metrics']) {
    assert.equal(await sw.request(path), null, path);
  }
  assert.equal(await sw.request(json.files[0].url, 'POST'), null);
  assert.equal(await sw.request('http://elsewhere.test' + json.files[0].url), null);
  assert.deepEqual(sw.calls, []);
  assert.equal((await (await sw.caches.open('telerehab-pose-model')).keys()).length, 0);
});

test('a new manifest evicts the stored files of older hashes; offline the stored manifest answers', async () => {
  const oldModel = fakeModel([{ name: 'pose.js', bytes: 10, fill: 7 }]);
  const { json, bodies } = fakeModel([{ name: 'pose.js', bytes: 10 }, { name: 'pose_web.binarypb', bytes: 20 }]);
  const sw = loadWorker({ bodies, manifest: json });
  const cache = await sw.caches.open('telerehab-pose-model');
  await cache.put(ORIGIN + oldModel.json.files[0].url, new Response('old'));
  await cache.put(ORIGIN + json.files[0].url, new Response('current'));
  const response = await sw.request('/pose-model/manifest.json');
  assert.equal((await response.json()).files.length, 2);
  const kept = (await cache.keys()).map((r) => new URL(r.url).pathname).sort();
  assert.deepEqual(kept, ['/pose-model/manifest.json', json.files[0].url].sort());
  sw.setOffline(true);
  assert.equal((await (await sw.request('/pose-model/manifest.json')).json()).files.length, 2);
});
