// The renderer's math, pure (no DOM): playout of received pose frames with a small delay, linear
// interpolation between the two frames around the playout time, and the staleness fade.
//
// A frame is { t: sender time in ms (capture time on the patient's device), landmarks: [{x,y,visibility}] }.
// Sender and receiver clocks differ: the buffer learns the offset (receiver arrival - sender time) as its
// minimum over the frames seen, i.e. the fastest path; the playout time is then
//   now - offset - playoutDelay  (in sender time)
// so a 3-5 frames/s stream is drawn one frame interval late and moves smoothly between its frames.

/** Linear interpolation of two landmark lists (same length); visibility is interpolated too. */
export function lerpLandmarks(a, b, alpha) {
  const k = Math.min(1, Math.max(0, alpha));
  const out = new Array(Math.min(a.length, b.length));
  for (let i = 0; i < out.length; i++) {
    const p = a[i], q = b[i];
    out[i] = {
      x: p.x + (q.x - p.x) * k,
      y: p.y + (q.y - p.y) * k,
      z: (p.z ?? 0) + ((q.z ?? 0) - (p.z ?? 0)) * k,
      visibility: (p.visibility ?? 1) + ((q.visibility ?? 1) - (p.visibility ?? 1)) * k,
    };
  }
  return out;
}

/**
 * Landmarks at sender time `t` from frames sorted by t: interpolated between the two frames around t,
 * the first frame before them, the last frame after them (no extrapolation: a guess would be a lie).
 */
export function sampleFrames(frames, t) {
  if (frames.length === 0) return null;
  if (t <= frames[0].t) return frames[0].landmarks;
  const last = frames[frames.length - 1];
  if (t >= last.t) return last.landmarks;
  for (let i = 1; i < frames.length; i++) {
    const b = frames[i];
    if (b.t >= t) {
      const a = frames[i - 1];
      const span = b.t - a.t;
      return span <= 0 ? b.landmarks : lerpLandmarks(a.landmarks, b.landmarks, (t - a.t) / span);
    }
  }
  return last.landmarks;
}

/** Opacity of the skeleton given the time since the last frame arrived: full for `freshMs`, then fading
 * linearly to `minOpacity` over `fadeMs` (a faint ghost stays so the therapist sees where it was). */
export function stalenessOpacity(ageMs, { freshMs = 1000, fadeMs = 2000, minOpacity = 0.15 } = {}) {
  if (!(ageMs > freshMs)) return 1;
  const k = Math.min(1, (ageMs - freshMs) / fadeMs);
  return 1 - (1 - minOpacity) * k;
}

export function isStale(ageMs, freshMs = 1000) {
  return ageMs > freshMs;
}

/** Received frames, played out with a fixed delay. Times in ms; `now` is the receiver's monotonic clock. */
export class PlayoutBuffer {
  constructor({ delayMs = 250, capacity = 8 } = {}) {
    this.delayMs = delayMs;
    this.capacity = capacity;
    this.frames = [];
    this.offset = null;
    this.lastArrival = null;
  }

  /** Adds a frame that arrived at receiver time `now`. Old or duplicate frames (t not increasing) are dropped. */
  push(frame, now) {
    const last = this.frames[this.frames.length - 1];
    if (last && frame.t <= last.t) return false;
    const offset = now - frame.t;
    this.offset = this.offset == null ? offset : Math.min(this.offset, offset);
    this.frames.push(frame);
    if (this.frames.length > this.capacity) this.frames.shift();
    this.lastArrival = now;
    return true;
  }

  /** The pose to draw at receiver time `now`: { landmarks, opacity, stale, ageMs } or null before any frame. */
  sample(now) {
    if (this.frames.length === 0) return null;
    const t = now - this.offset - this.delayMs;
    const ageMs = now - this.lastArrival;
    return { landmarks: sampleFrames(this.frames, t), opacity: stalenessOpacity(ageMs), stale: isStale(ageMs), ageMs };
  }

  clear() {
    this.frames = [];
    this.offset = null;
    this.lastArrival = null;
  }
}
