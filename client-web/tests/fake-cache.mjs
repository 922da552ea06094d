// Fakes of Cache Storage and fetch for the pose model tests (node has Request and Response, not caches).
import { createHash } from 'node:crypto';

const ORIGIN = 'http://app.test';
const absolute = (url) => new URL(typeof url === 'string' ? url : url.url, ORIGIN + '/').href;

export class FakeCache {
  constructor() { this.entries = new Map(); }
  async keys() { return [...this.entries.keys()].map((url) => new Request(url)); }
  async match(url) { const r = this.entries.get(absolute(url)); return r ? r.clone() : undefined; }
  async put(url, response) { this.entries.set(absolute(url), response.clone()); }
  async delete(url) { return this.entries.delete(absolute(url)); }
}

export class FakeCaches {
  constructor() { this.caches = new Map(); }
  async open(name) {
    if (!this.caches.has(name)) this.caches.set(name, new FakeCache());
    return this.caches.get(name);
  }
}

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** A set of files with content and a manifest naming them the way the server does. */
export function fakeModel(specs) {
  const bodies = new Map();
  const files = specs.map(({ name, bytes, simd, fill = 1 }) => {
    const body = new Uint8Array(bytes).fill(fill);
    const hash = sha256(body);
    const url = `/pose-model/${hash.slice(0, 16)}/${name}`;
    bodies.set(url, body);
    return { name, url, bytes, sha256: hash, ...(simd == null ? {} : { simd }) };
  });
  return { json: { format: 1, version: 'v', files, totalBytes: 0, totalBytesWithoutSimd: 0 }, bodies };
}

/** fetch over a map path -> bytes, served in chunks; records the paths asked for. */
export function fakeFetch(bodies, { chunk = 1000, manifest = null, corrupt = null } = {}) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const path = new URL(url, ORIGIN + '/').pathname;
    calls.push(path);
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    if (manifest && path === '/pose-model/manifest.json') return Response.json(manifest);
    const body = bodies.get(path);
    if (!body) return new Response('no', { status: 404 });
    const bytes = corrupt === path ? body.map((b) => b ^ 0xff) : body;
    let offset = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (offset >= bytes.length) { controller.close(); return; }
        controller.enqueue(bytes.slice(offset, offset + chunk));
        offset += chunk;
      },
    });
    return new Response(stream, { status: 200, headers: { 'Content-Type': 'application/wasm' } });
  };
  return { fetch, calls };
}
