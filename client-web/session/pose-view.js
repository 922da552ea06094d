// The therapist's (and observers') side of pose in a session, pure: the server's messages, the pose rate and age
// shown on a patient's tile, the "audio + movement" badge and the stale fade.
import { formatNumber, t } from '../i18n/i18n.js';
import { stalenessOpacity, isStale } from '../pose/skeleton-math.js';

const utf8 = new TextDecoder();

/**
 * One message from the server's "pose" channel: [n][n bytes: the sender's participant id, UTF-8][one keypoint frame]
 * (docs/pose-format.md, "Forwarding in rooms"). Returns { senderId, frame: Uint8Array } or null when malformed.
 */
export function parsePoseMessage(data) {
  const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : null;
  if (!bytes || bytes.length < 2) return null;
  const n = bytes[0];
  if (n === 0 || bytes.length <= 1 + n) return null;
  return { senderId: utf8.decode(bytes.subarray(1, 1 + n)), frame: bytes.subarray(1 + n) };
}

/** Frames per second over the last `windowMs` (arrival times, ms). */
export class PoseRateMeter {
  constructor(windowMs = 2000) {
    this.windowMs = windowMs;
    this.arrivals = [];
  }

  record(nowMs) {
    this.arrivals.push(nowMs);
    this.trim(nowMs);
  }

  trim(nowMs) {
    while (this.arrivals.length && this.arrivals[0] <= nowMs - this.windowMs) this.arrivals.shift();
  }

  fps(nowMs) {
    this.trim(nowMs);
    return this.arrivals.length * 1000 / this.windowMs;
  }

  get last() {
    return this.arrivals.length ? this.arrivals[this.arrivals.length - 1] : null;
  }
}

/**
 * What a patient's tile shows of its pose at `nowMs`: `lastAt` is when the latest frame arrived (null: none yet),
 * `videoLive` whether the tile's video shows frames. The badge says the movement comes without video; a pose that
 * stopped arriving fades (as on the replay page) and says for how long.
 */
export function poseTileView({ nowMs, lastAt, fps, videoLive, enabled = true, freshMs = 1000 }) {
  if (lastAt == null) {
    return { hasPose: false, badge: null, text: '', opacity: 0, stale: false };
  }
  const ageMs = Math.max(0, nowMs - lastAt);
  const stale = isStale(ageMs, freshMs);
  return {
    hasPose: true,
    badge: !videoLive && enabled ? t('mode.badge') : null,
    text: formatPoseStatus({ fps, ageMs }),
    opacity: stalenessOpacity(ageMs, { freshMs }),
    stale,
  };
}

/** "pose 12 fps · 80 ms" (age under a second in ms, then in seconds). */
export function formatPoseStatus({ fps, ageMs }) {
  const rate = fps >= 10 ? Math.round(fps) : Math.round(fps * 10) / 10;
  const age = ageMs < 1000 ? t('unit.ms', { value: Math.round(ageMs) })
    : t('unit.s', { value: formatNumber(ageMs / 1000, ageMs < 10_000 ? 1 : 0, true) });
  return t('pose.status', { rate, age });
}
