// The patient's side of pose in a session, pure: when to estimate, and whether a keypoint frame goes out now.
// A frame is only worth its moment: the channel is unordered with no retransmissions, and a frame that would wait
// behind unsent bytes is dropped before it is encoded (the next one is encoded against the last frame that left,
// so the server's decoder never sees a gap this page made).

/** The channel every session page opens before its first offer (so the offer negotiates it). */
export const POSE_LABEL = 'pose';
export const POSE_CHANNEL_OPTIONS = Object.freeze({ ordered: false, maxRetransmits: 0 });

/** Above this many unsent bytes on the channel a new frame is dropped, not queued (about two frames). */
export const MAX_BUFFERED_BYTES = 256;

/**
 * Whether the estimator should run: a patient in the call, with the estimator's files on this phone, and the camera
 * on (pose comes from the camera: when the patient turns it off, pose stops too). Whether the server forwards the
 * patient's video does not matter: when the link pauses video, pose is what carries the movement.
 */
export function shouldEstimate({ role, inCall, filesStored, cameraOn }) {
  if (role !== 'patient') return { run: false, reason: 'not-patient' };
  if (!inCall) return { run: false, reason: 'not-in-call' };
  if (!filesStored) return { run: false, reason: 'files-missing' };
  if (!cameraOn) return { run: false, reason: 'camera-off' };
  return { run: true, reason: 'ok' };
}

/** Whether a frame goes out on the channel now: it must be open and hold at most `threshold` unsent bytes. */
export function sendDecision({ readyState, bufferedAmount, threshold = MAX_BUFFERED_BYTES }) {
  if (readyState !== 'open') return { send: false, reason: 'not-open' };
  if (bufferedAmount > threshold) return { send: false, reason: 'buffered' };
  return { send: true, reason: 'ok' };
}

/**
 * Sends estimated poses on a data channel in the keypoint format. `encode(frame) -> Uint8Array` is the codec's
 * encodeFrame bound to this stream's encoder state; `clock()` gives the capture time in ms (wall clock, so the
 * therapist's page can tell a frame's age when both clocks agree).
 */
export class PoseSender {
  constructor(channel, { encode, threshold = MAX_BUFFERED_BYTES, clock = () => Date.now() } = {}) {
    this.channel = channel;
    this.encode = encode;
    this.threshold = threshold;
    this.clock = clock;
    this.sent = 0;
    this.dropped = 0;
    this.bytes = 0;
    this.lastReason = null;
    this.minIntervalMs = 0; // a cap on the rate (0: none), see setMaxRate
    this.nextAt = -Infinity; // when the cap lets the next frame go
  }

  /**
   * At most `fps` frames a second (0: as many as the estimator gives). On a weak link every frame costs about a hundred
   * bytes of headers besides its keypoints: 8 a second still show movement smoothly and leave the voice its room.
   * A frame skipped for the rate is not encoded, so the stream stays decodable.
   */
  setMaxRate(fps) {
    this.minIntervalMs = fps > 0 ? 1000 / fps : 0;
  }

  /** One estimate's landmarks (null: nobody seen, nothing sent). Returns why it was or was not sent. */
  offer(landmarks) {
    if (!landmarks) return (this.lastReason = 'no-pose');
    const now = this.clock();
    // A schedule, not a minimum gap (which would halve a 10 a second estimator capped at 8): each frame sent moves
    // the next slot one interval on, with at most one interval of credit; 5 ms of slack for the estimator's jitter.
    if (this.minIntervalMs > 0 && now < this.nextAt - 5) return (this.lastReason = 'rate');
    const decision = sendDecision({ readyState: this.channel.readyState, bufferedAmount: this.channel.bufferedAmount, threshold: this.threshold });
    this.lastReason = decision.reason;
    if (!decision.send) {
      if (decision.reason === 'buffered') this.dropped++;
      return decision.reason;
    }
    const bytes = this.encode({ timestampMs: now >>> 0, landmarks });
    try {
      this.channel.send(bytes);
    } catch {
      this.dropped++;
      return (this.lastReason = 'send-failed');
    }
    this.sent++;
    this.bytes += bytes.length;
    this.nextAt = Math.max(this.nextAt, now - this.minIntervalMs) + this.minIntervalMs;
    return 'sent';
  }
}
