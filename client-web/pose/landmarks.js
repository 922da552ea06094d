// The 33 MediaPipe pose landmarks (BlazePose topology) and the bones drawn between them. Pure data.
// "left"/"right" are the person's own sides (MediaPipe's convention), not the sides of the picture.
export const LANDMARK_COUNT = 33;

export const LM = Object.freeze({
  NOSE: 0, LEFT_EYE_INNER: 1, LEFT_EYE: 2, LEFT_EYE_OUTER: 3, RIGHT_EYE_INNER: 4, RIGHT_EYE: 5, RIGHT_EYE_OUTER: 6,
  LEFT_EAR: 7, RIGHT_EAR: 8, MOUTH_LEFT: 9, MOUTH_RIGHT: 10,
  LEFT_SHOULDER: 11, RIGHT_SHOULDER: 12, LEFT_ELBOW: 13, RIGHT_ELBOW: 14, LEFT_WRIST: 15, RIGHT_WRIST: 16,
  LEFT_PINKY: 17, RIGHT_PINKY: 18, LEFT_INDEX: 19, RIGHT_INDEX: 20, LEFT_THUMB: 21, RIGHT_THUMB: 22,
  LEFT_HIP: 23, RIGHT_HIP: 24, LEFT_KNEE: 25, RIGHT_KNEE: 26, LEFT_ANKLE: 27, RIGHT_ANKLE: 28,
  LEFT_HEEL: 29, RIGHT_HEEL: 30, LEFT_FOOT_INDEX: 31, RIGHT_FOOT_INDEX: 32,
});

/** Bones of the skeleton as [from, to] landmark indices (the face is reduced to the nose-ear lines). */
export const BONES = Object.freeze([
  [LM.NOSE, LM.LEFT_EYE], [LM.LEFT_EYE, LM.LEFT_EAR], [LM.NOSE, LM.RIGHT_EYE], [LM.RIGHT_EYE, LM.RIGHT_EAR],
  [LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER], [LM.LEFT_HIP, LM.RIGHT_HIP],
  [LM.LEFT_SHOULDER, LM.LEFT_HIP], [LM.RIGHT_SHOULDER, LM.RIGHT_HIP],
  [LM.LEFT_SHOULDER, LM.LEFT_ELBOW], [LM.LEFT_ELBOW, LM.LEFT_WRIST],
  [LM.RIGHT_SHOULDER, LM.RIGHT_ELBOW], [LM.RIGHT_ELBOW, LM.RIGHT_WRIST],
  [LM.LEFT_WRIST, LM.LEFT_INDEX], [LM.RIGHT_WRIST, LM.RIGHT_INDEX],
  [LM.LEFT_HIP, LM.LEFT_KNEE], [LM.LEFT_KNEE, LM.LEFT_ANKLE], [LM.LEFT_ANKLE, LM.LEFT_HEEL], [LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX],
  [LM.RIGHT_HIP, LM.RIGHT_KNEE], [LM.RIGHT_KNEE, LM.RIGHT_ANKLE], [LM.RIGHT_ANKLE, LM.RIGHT_HEEL], [LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX],
]);

/** A landmark counts as tracked (drawn, counted, used for angles) at or above this visibility. */
export const VISIBILITY_THRESHOLD = 0.5;

export function isVisible(point, threshold = VISIBILITY_THRESHOLD) {
  return point != null && Number.isFinite(point.x) && Number.isFinite(point.y) && (point.visibility ?? 1) >= threshold;
}

/** How many of the landmarks are tracked (visible enough). */
export function countTracked(landmarks, threshold = VISIBILITY_THRESHOLD) {
  if (!landmarks) return 0;
  let n = 0;
  for (const point of landmarks) if (isVisible(point, threshold)) n++;
  return n;
}
