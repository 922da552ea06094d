// Pose keypoint wire format, version 1: encoder and decoder (ES module, no dependencies, browsers and Node).
// The byte layout is specified in docs/pose-format.md; the C# twin (media-server/Pose) produces identical bytes,
// and both are checked against the shared vectors in tests/Pose/keypoint-vectors.json.

export const LANDMARK_COUNT = 33;
export const FORMAT_BYTE = 0xd1; // magic 0xD, version 1
export const MAX_FRAME_LENGTH = 117; // largest frame the encoder can produce (a key frame with a mask and 32 landmarks)
export const MAX_VALID_LENGTH = 127; // largest valid frame (a delta frame with a mask and the widest deltas)

export const FLAG_DELTA = 0x01;
export const FLAG_VISIBILITY = 0x02;
export const FLAG_Z = 0x04;
export const FLAG_MASK = 0x08;
const RESERVED_FLAGS = 0xf0;

const XY_BITS = 10;
const Z_BITS = 4;
const V_BITS = 2;
const XY_MAX = (1 << XY_BITS) - 1; // 1023
const Z_MAX = (1 << Z_BITS) - 1; // 15
const V_MAX = (1 << V_BITS) - 1; // 3
const XY_MIN_VALUE = -0.25;
const XY_SCALE = 682; // 1023 steps over -0.25..1.25 (1.5 / 1023 = 1 / 682)
const Z_SCALE = 7.5; // 15 steps over -1..1
const V_SCALE = 3; // 3 steps over 0..1
const MAX_XY_DELTA_BITS = 11;
const KEY_HEADER = 8;
const DELTA_HEADER = 7;
const STALE_WINDOW = 1024;

/** Largest |decoded - original| per component for inputs inside the coded ranges. */
export const ERROR_BOUNDS = Object.freeze({
  xy: 0.5 / XY_SCALE, // 0.000733
  z: 0.5 / Z_SCALE, // 0.0667
  visibility: 0.5 / V_SCALE, // 0.1667
});

/**
 * Encoder state. Options: keyFrameInterval (a key frame at least every N frames, default 10; 1 = key frames only),
 * absentThreshold (a landmark whose visibility or presence is below it is sent absent, default 0.5),
 * includeZ (default true), includeVisibility (default true), initialSequence (default 0).
 */
export function createEncoderState(options = {}) {
  const interval = options.keyFrameInterval ?? 10;
  if (!Number.isInteger(interval) || interval < 1) throw new RangeError('keyFrameInterval must be an integer >= 1');
  const seq = options.initialSequence ?? 0;
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) throw new RangeError('initialSequence must be 0..65535');
  return {
    keyFrameInterval: interval,
    absentThreshold: options.absentThreshold ?? 0.5,
    includeZ: options.includeZ ?? true,
    includeVisibility: options.includeVisibility ?? true,
    nextSequence: seq,
    hasReference: false,
    forceKeyFrame: false,
    framesSinceKey: 0,
    refTimestamp: 0,
    ref: newQuantised(),
    cur: newQuantised(),
  };
}

/** Makes the next encoded frame a key frame (e.g. when the receiver reports it lost one). */
export function requestKeyFrame(state) {
  state.forceKeyFrame = true;
}

/** Decoder state. After decodeFrame returns null, state.lastStatus says why: 'malformed', 'missing-reference' or 'stale'. */
export function createDecoderState() {
  return {
    hasReference: false,
    lastSequence: 0,
    refTimestamp: 0,
    refFlags: 0,
    ref: newQuantised(),
    cur: newQuantised(),
    lastStatus: 'none',
  };
}

/** Forgets the reference frame: the decoder waits for the next key frame. */
export function resetDecoder(state) {
  state.hasReference = false;
}

function newQuantised() {
  return {
    mask: new Uint8Array(LANDMARK_COUNT),
    x: new Int32Array(LANDMARK_COUNT),
    y: new Int32Array(LANDMARK_COUNT),
    z: new Int32Array(LANDMARK_COUNT),
    v: new Int32Array(LANDMARK_COUNT),
  };
}

function copyQuantised(from, to) {
  to.mask.set(from.mask);
  to.x.set(from.x);
  to.y.set(from.y);
  to.z.set(from.z);
  to.v.set(from.v);
}

// Inputs are rounded to float32 first, so that JS and C# (whose landmarks are floats) quantise the same value.
function quantise(value, offset, scale, max) {
  const q = Math.floor((Math.fround(value) + offset) * scale + 0.5);
  return q < 0 ? 0 : q > max ? max : q;
}

function fitsSigned(d, bits) {
  if (bits === 0) return d === 0;
  const half = 1 << (bits - 1);
  return d >= -half && d < half;
}

function signedBits(d) {
  let bits = 0;
  while (!fitsSigned(d, bits)) bits++;
  return bits;
}

function landmarkField(lm, index, name, fallback) {
  const v = Array.isArray(lm) ? lm[index] : lm[name];
  return v === undefined || v === null ? fallback : Number(v);
}

/**
 * Encodes one frame: { timestampMs (integer, taken modulo 2^32), landmarks: 33 x {x, y, z, visibility, presence}
 * (or [x, y, z, visibility, presence] arrays; z, visibility and presence default to 0, 1, 1) }. Returns the bytes.
 */
export function encodeFrame(frame, state) {
  const landmarks = frame.landmarks;
  if (!landmarks || landmarks.length !== LANDMARK_COUNT) throw new RangeError('a frame has exactly 33 landmarks');
  const ts = Number(frame.timestampMs);
  if (!Number.isFinite(ts)) throw new RangeError('timestampMs must be a finite number');
  const timestamp = ((Math.floor(ts) % 0x100000000) + 0x100000000) % 0x100000000;
  const cur = state.cur;
  const thr = state.absentThreshold;
  let present = 0;
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const lm = landmarks[i];
    const x = landmarkField(lm, 0, 'x', NaN);
    const y = landmarkField(lm, 1, 'y', NaN);
    let z = landmarkField(lm, 2, 'z', 0);
    let vis = landmarkField(lm, 3, 'visibility', 1);
    let pres = landmarkField(lm, 4, 'presence', 1);
    if (Number.isNaN(z)) z = 0;
    if (Number.isNaN(vis)) vis = 0;
    if (Number.isNaN(pres)) pres = 0;
    const on = Number.isFinite(x) && Number.isFinite(y) && !(Math.fround(vis) < thr) && !(Math.fround(pres) < thr);
    if (!on) {
      cur.mask[i] = 0;
      cur.x[i] = cur.y[i] = cur.z[i] = cur.v[i] = 0;
      continue;
    }
    present++;
    cur.mask[i] = 1;
    cur.x[i] = quantise(x, -XY_MIN_VALUE, XY_SCALE, XY_MAX);
    cur.y[i] = quantise(y, -XY_MIN_VALUE, XY_SCALE, XY_MAX);
    cur.z[i] = state.includeZ ? quantise(z, 1, Z_SCALE, Z_MAX) : 0;
    cur.v[i] = state.includeVisibility ? quantise(vis, 0, V_SCALE, V_MAX) : 0;
  }

  const hasZ = state.includeZ;
  const hasV = state.includeVisibility;
  const absBits = 2 * XY_BITS + (hasZ ? Z_BITS : 0) + (hasV ? V_BITS : 0);
  const keyBits = (present < LANDMARK_COUNT ? LANDMARK_COUNT : 0) + present * absBits;
  const keyLength = KEY_HEADER + ((keyBits + 7) >> 3);
  const tsDelta = (timestamp - state.refTimestamp + 0x100000000) % 0x100000000;

  let delta = state.hasReference && !state.forceKeyFrame && state.framesSinceKey + 1 < state.keyFrameInterval && tsDelta <= 0xffff;
  let wxy = 0, wz = 0, wv = 0, maskChanged = false, deltaLength = 0;
  if (delta) {
    const ref = state.ref;
    let shared = 0, fresh = 0;
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      if (cur.mask[i] !== ref.mask[i]) maskChanged = true;
      if (!cur.mask[i]) continue;
      if (!ref.mask[i]) { fresh++; continue; }
      shared++;
      wxy = Math.max(wxy, signedBits(cur.x[i] - ref.x[i]), signedBits(cur.y[i] - ref.y[i]));
      if (hasZ) wz = Math.max(wz, signedBits(cur.z[i] - ref.z[i]));
      if (hasV) wv = Math.max(wv, signedBits(cur.v[i] - ref.v[i]));
    }
    if (wz > 3 || wv > 3) {
      delta = false; // the delta does not fit its 2-bit width field: fall back to a key frame
    } else {
      const bits = (maskChanged ? LANDMARK_COUNT : 0) + fresh * absBits + shared * (2 * wxy + (hasZ ? wz : 0) + (hasV ? wv : 0));
      deltaLength = DELTA_HEADER + ((bits + 7) >> 3);
      if (deltaLength >= keyLength) delta = false;
    }
  }

  const seq = state.nextSequence;
  const out = new Uint8Array(delta ? deltaLength : keyLength);
  const w = new BitWriter(out);
  out[0] = FORMAT_BYTE;
  let flags = (hasV ? FLAG_VISIBILITY : 0) | (hasZ ? FLAG_Z : 0);
  out[2] = seq >> 8;
  out[3] = seq & 0xff;
  if (delta) {
    flags |= FLAG_DELTA | (maskChanged ? FLAG_MASK : 0);
    out[4] = tsDelta >> 8;
    out[5] = tsDelta & 0xff;
    out[6] = (wxy << 4) | (wz << 2) | wv;
    w.pos = DELTA_HEADER * 8;
    if (maskChanged) writeMask(w, cur.mask);
    const ref = state.ref;
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      if (!cur.mask[i]) continue;
      if (!ref.mask[i]) { writeAbsolute(w, cur, i, hasZ, hasV); continue; }
      w.write(cur.x[i] - ref.x[i], wxy);
      w.write(cur.y[i] - ref.y[i], wxy);
      if (hasZ) w.write(cur.z[i] - ref.z[i], wz);
      if (hasV) w.write(cur.v[i] - ref.v[i], wv);
    }
    state.framesSinceKey++;
  } else {
    const withMask = present < LANDMARK_COUNT;
    flags |= withMask ? FLAG_MASK : 0;
    out[4] = timestamp >>> 24;
    out[5] = (timestamp >>> 16) & 0xff;
    out[6] = (timestamp >>> 8) & 0xff;
    out[7] = timestamp & 0xff;
    w.pos = KEY_HEADER * 8;
    if (withMask) writeMask(w, cur.mask);
    for (let i = 0; i < LANDMARK_COUNT; i++) if (cur.mask[i]) writeAbsolute(w, cur, i, hasZ, hasV);
    state.framesSinceKey = 0;
    state.forceKeyFrame = false;
  }
  out[1] = flags;
  copyQuantised(cur, state.ref);
  state.refTimestamp = timestamp;
  state.hasReference = true;
  state.nextSequence = (seq + 1) & 0xffff;
  return out;
}

function writeMask(w, mask) {
  for (let i = 0; i < LANDMARK_COUNT; i++) w.write(mask[i], 1);
}

function writeAbsolute(w, q, i, hasZ, hasV) {
  w.write(q.x[i], XY_BITS);
  w.write(q.y[i], XY_BITS);
  if (hasZ) w.write(q.z[i], Z_BITS);
  if (hasV) w.write(q.v[i], V_BITS);
}

class BitWriter {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }
  // Writes the low `bits` bits of value (two's complement for negatives), most significant bit first.
  write(value, bits) {
    for (let b = bits - 1; b >= 0; b--) {
      if ((value >> b) & 1) this.bytes[this.pos >> 3] |= 0x80 >> (this.pos & 7);
      this.pos++;
    }
  }
}

class BitReader {
  constructor(bytes, bitPos) {
    this.bytes = bytes;
    this.pos = bitPos;
    this.limit = bytes.length * 8;
  }
  // Returns -1 when reading past the end (values are at most 11 bits, so -1 is never a valid unsigned result).
  read(bits) {
    if (this.pos + bits > this.limit) return -1;
    let v = 0;
    for (let b = 0; b < bits; b++) {
      v = (v << 1) | ((this.bytes[this.pos >> 3] >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }
}

function toSigned(v, bits) {
  return bits > 0 && v >= 1 << (bits - 1) ? v - (1 << bits) : v;
}

/**
 * Decodes one frame. Returns { sequence, timestampMs, keyFrame, landmarks: 33 x {x, y, z, visibility, presence} }
 * (absent landmarks are all zero; present ones have presence 1), or null with state.lastStatus set:
 * 'malformed' (bytes are not a valid frame; state unchanged), 'stale' (an old or duplicate frame; state unchanged),
 * 'missing-reference' (a delta frame whose previous frame was lost: the decoder now waits for a key frame).
 */
export function decodeFrame(bytes, state) {
  if (!(bytes instanceof Uint8Array)) {
    state.lastStatus = 'malformed';
    return null;
  }
  const status = decodeInto(bytes, state);
  state.lastStatus = status;
  if (status !== 'ok') return null;
  const q = state.ref;
  const flags = state.refFlags;
  const landmarks = new Array(LANDMARK_COUNT);
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    if (!q.mask[i]) {
      landmarks[i] = { x: 0, y: 0, z: 0, visibility: 0, presence: 0 };
      continue;
    }
    landmarks[i] = {
      x: q.x[i] / XY_SCALE + XY_MIN_VALUE,
      y: q.y[i] / XY_SCALE + XY_MIN_VALUE,
      z: flags & FLAG_Z ? q.z[i] / Z_SCALE - 1 : 0,
      visibility: flags & FLAG_VISIBILITY ? q.v[i] / V_SCALE : 1,
      presence: 1,
    };
  }
  return {
    sequence: state.lastSequence,
    timestampMs: state.refTimestamp,
    keyFrame: (bytes[1] & FLAG_DELTA) === 0,
    landmarks,
  };
}

function decodeInto(bytes, state) {
  const n = bytes.length;
  if (n < DELTA_HEADER || n > MAX_VALID_LENGTH || bytes[0] !== FORMAT_BYTE) return 'malformed';
  const flags = bytes[1];
  if (flags & RESERVED_FLAGS) return 'malformed';
  const isDelta = (flags & FLAG_DELTA) !== 0;
  const hasZ = (flags & FLAG_Z) !== 0;
  const hasV = (flags & FLAG_VISIBILITY) !== 0;
  const seq = (bytes[2] << 8) | bytes[3];
  const cur = state.cur;
  const ref = state.ref;
  const absBits = 2 * XY_BITS + (hasZ ? Z_BITS : 0) + (hasV ? V_BITS : 0);
  let r;
  let timestamp;
  if (!isDelta) {
    if (n < KEY_HEADER) return 'malformed';
    timestamp = ((bytes[4] << 24) >>> 0) + (bytes[5] << 16) + (bytes[6] << 8) + bytes[7];
    r = new BitReader(bytes, KEY_HEADER * 8);
    if (!readMask(r, flags, cur.mask, null)) return 'malformed';
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      if (!cur.mask[i]) { clearAt(cur, i); continue; }
      if (!readAbsolute(r, cur, i, hasZ, hasV)) return 'malformed';
    }
    if (!finished(r)) return 'malformed';
    if (state.hasReference) {
      const back = (state.lastSequence - seq) & 0xffff;
      if (back < STALE_WINDOW) return 'stale';
    }
  } else {
    const wxy = bytes[6] >> 4;
    const wz = (bytes[6] >> 2) & 3;
    const wv = bytes[6] & 3;
    if (wxy > MAX_XY_DELTA_BITS || (!hasZ && wz) || (!hasV && wv)) return 'malformed';
    if (!state.hasReference) return 'missing-reference';
    const ahead = (seq - state.lastSequence) & 0xffff;
    if (ahead === 0 || ahead >= 0x8000) return 'stale';
    if (ahead !== 1) {
      state.hasReference = false; // a frame was lost: wait for the next key frame
      return 'missing-reference';
    }
    if (flags !== ((state.refFlags & (FLAG_Z | FLAG_VISIBILITY)) | FLAG_DELTA | (flags & FLAG_MASK))) return 'malformed';
    timestamp = (state.refTimestamp + ((bytes[4] << 8) | bytes[5])) % 0x100000000;
    r = new BitReader(bytes, DELTA_HEADER * 8);
    if (!readMask(r, flags, cur.mask, ref.mask)) return 'malformed';
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      if (!cur.mask[i]) { clearAt(cur, i); continue; }
      if (!ref.mask[i]) {
        if (!readAbsolute(r, cur, i, hasZ, hasV)) return 'malformed';
        continue;
      }
      const dx = r.read(wxy), dy = r.read(wxy);
      const dz = hasZ ? r.read(wz) : 0, dv = hasV ? r.read(wv) : 0;
      if (dx < 0 || dy < 0 || dz < 0 || dv < 0) return 'malformed';
      cur.x[i] = ref.x[i] + toSigned(dx, wxy);
      cur.y[i] = ref.y[i] + toSigned(dy, wxy);
      cur.z[i] = ref.z[i] + toSigned(dz, wz);
      cur.v[i] = ref.v[i] + toSigned(dv, wv);
      if (cur.x[i] < 0 || cur.x[i] > XY_MAX || cur.y[i] < 0 || cur.y[i] > XY_MAX) return 'malformed';
      if (cur.z[i] < 0 || cur.z[i] > Z_MAX || cur.v[i] < 0 || cur.v[i] > V_MAX) return 'malformed';
    }
    if (!finished(r)) return 'malformed';
  }
  copyQuantised(cur, ref);
  state.refFlags = flags & (FLAG_Z | FLAG_VISIBILITY);
  state.refTimestamp = timestamp;
  state.lastSequence = seq;
  state.hasReference = true;
  return 'ok';
}

// Key frame: no mask flag = all landmarks present. Delta frame: no mask flag = same mask as the reference frame.
function readMask(r, flags, mask, refMask) {
  if (!(flags & FLAG_MASK)) {
    if (refMask) mask.set(refMask);
    else mask.fill(1);
    return true;
  }
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const b = r.read(1);
    if (b < 0) return false;
    mask[i] = b;
  }
  return true;
}

function readAbsolute(r, q, i, hasZ, hasV) {
  const x = r.read(XY_BITS), y = r.read(XY_BITS);
  const z = hasZ ? r.read(Z_BITS) : 0, v = hasV ? r.read(V_BITS) : 0;
  if (x < 0 || y < 0 || z < 0 || v < 0) return false;
  q.x[i] = x;
  q.y[i] = y;
  q.z[i] = z;
  q.v[i] = v;
  return true;
}

function clearAt(q, i) {
  q.x[i] = q.y[i] = q.z[i] = q.v[i] = 0;
}

// The frame must end in the byte holding its last bit, and the padding bits must be zero.
function finished(r) {
  const end = (r.pos + 7) >> 3;
  if (end * 8 !== r.limit) return false;
  return r.pos === r.limit || r.read(r.limit - r.pos) === 0;
}
