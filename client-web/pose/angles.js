// Joint angles from the 33 MediaPipe pose landmarks. Pure: no DOM.
//
// Each angle is the angle at the middle landmark between the two segments to its neighbours, in degrees
// (0..180; a straight limb is 180), measured in the picture plane (x scaled by the frame's aspect ratio so
// that normalized coordinates become square; MediaPipe's z is too noisy for clinical numbers).
//   knee     = hip(23/24)      - knee(25/26)     - ankle(27/28)
//   hip      = shoulder(11/12) - hip(23/24)      - knee(25/26)
//   elbow    = shoulder(11/12) - elbow(13/14)    - wrist(15/16)
//   shoulder = hip(23/24)      - shoulder(11/12) - elbow(13/14)   (arm against the trunk: 0 arm down, 90 raised sideways/forwards)
// (left/right = the person's own sides, indices left/right.) A joint whose three landmarks are not all at
// least `threshold` visible gets null: no number rather than a wrong one.
import { LM, VISIBILITY_THRESHOLD, isVisible } from './landmarks.js';

export const JOINTS = Object.freeze([
  { name: 'leftKnee', label: 'L knee', points: [LM.LEFT_HIP, LM.LEFT_KNEE, LM.LEFT_ANKLE] },
  { name: 'rightKnee', label: 'R knee', points: [LM.RIGHT_HIP, LM.RIGHT_KNEE, LM.RIGHT_ANKLE] },
  { name: 'leftHip', label: 'L hip', points: [LM.LEFT_SHOULDER, LM.LEFT_HIP, LM.LEFT_KNEE] },
  { name: 'rightHip', label: 'R hip', points: [LM.RIGHT_SHOULDER, LM.RIGHT_HIP, LM.RIGHT_KNEE] },
  { name: 'leftElbow', label: 'L elbow', points: [LM.LEFT_SHOULDER, LM.LEFT_ELBOW, LM.LEFT_WRIST] },
  { name: 'rightElbow', label: 'R elbow', points: [LM.RIGHT_SHOULDER, LM.RIGHT_ELBOW, LM.RIGHT_WRIST] },
  { name: 'leftShoulder', label: 'L shoulder', points: [LM.LEFT_HIP, LM.LEFT_SHOULDER, LM.LEFT_ELBOW] },
  { name: 'rightShoulder', label: 'R shoulder', points: [LM.RIGHT_HIP, LM.RIGHT_SHOULDER, LM.RIGHT_ELBOW] },
]);

/** Angle at b between b->a and b->c in degrees (0..180), or null when a segment has no length. */
export function angleAt(a, b, c, aspect = 1) {
  const ux = (a.x - b.x) * aspect, uy = a.y - b.y;
  const vx = (c.x - b.x) * aspect, vy = c.y - b.y;
  const lu = Math.hypot(ux, uy), lv = Math.hypot(vx, vy);
  if (lu < 1e-9 || lv < 1e-9) return null;
  const cos = Math.min(1, Math.max(-1, (ux * vx + uy * vy) / (lu * lv)));
  return Math.acos(cos) * 180 / Math.PI;
}

/**
 * All joint angles of one pose: { leftKnee: 172.4 | null, ... }.
 * @param {Array<{x:number,y:number,visibility?:number}>} landmarks 33 normalized landmarks
 * @param {{aspect?: number, threshold?: number}} options aspect = frame width / height
 */
export function jointAngles(landmarks, { aspect = 1, threshold = VISIBILITY_THRESHOLD } = {}) {
  const result = {};
  for (const joint of JOINTS) {
    const [a, b, c] = joint.points.map((i) => landmarks?.[i]);
    result[joint.name] = isVisible(a, threshold) && isVisible(b, threshold) && isVisible(c, threshold)
      ? angleAt(a, b, c, aspect) : null;
  }
  return result;
}
