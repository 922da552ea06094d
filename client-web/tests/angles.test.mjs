import { test } from 'node:test';
import assert from 'node:assert/strict';
import { angleAt, jointAngles, JOINTS } from '../pose/angles.js';
import { LM, LANDMARK_COUNT, countTracked } from '../pose/landmarks.js';

const near = (actual, expected, eps = 1e-6) => assert.ok(Math.abs(actual - expected) < eps, `${actual} != ${expected}`);

function pose(overrides = {}, visibility = 0.99) {
  const points = Array.from({ length: LANDMARK_COUNT }, () => ({ x: 0.5, y: 0.5, z: 0, visibility }));
  for (const [index, p] of Object.entries(overrides)) points[index] = { z: 0, visibility, ...p };
  return points;
}

test('right angle is 90 degrees, straight limb 180, folded limb 0', () => {
  near(angleAt({ x: 0, y: 1 }, { x: 0, y: 0 }, { x: 1, y: 0 }), 90);
  near(angleAt({ x: -1, y: 0 }, { x: 0, y: 0 }, { x: 1, y: 0 }), 180);
  near(angleAt({ x: 1, y: 0 }, { x: 0, y: 0 }, { x: 2, y: 0 }), 0);
  near(angleAt({ x: 1, y: 0 }, { x: 0, y: 0 }, { x: 1, y: 1 }), 45);
});

test('aspect ratio scales x before measuring (normalized coordinates of a 16:9 frame)', () => {
  // In a 16:9 frame, (0.1, 0) and (0, 0.1*16/9) are equally long in pixels: the 45-degree diagonal.
  near(angleAt({ x: 0.1, y: 0 }, { x: 0, y: 0 }, { x: 0.1, y: 0.1 * 16 / 9 }, 16 / 9), 45);
});

test('zero-length segment gives null, not NaN', () => {
  assert.equal(angleAt({ x: 0, y: 0 }, { x: 0, y: 0 }, { x: 1, y: 0 }), null);
});

test('right knee bent to a right angle, left leg straight', () => {
  const angles = jointAngles(pose({
    [LM.RIGHT_HIP]: { x: 0.4, y: 0.5 }, [LM.RIGHT_KNEE]: { x: 0.4, y: 0.7 }, [LM.RIGHT_ANKLE]: { x: 0.6, y: 0.7 },
    [LM.LEFT_HIP]: { x: 0.6, y: 0.5 }, [LM.LEFT_KNEE]: { x: 0.6, y: 0.7 }, [LM.LEFT_ANKLE]: { x: 0.6, y: 0.9 },
  }));
  near(angles.rightKnee, 90);
  near(angles.leftKnee, 180);
});

test('elbow, shoulder and hip use the documented landmarks', () => {
  const angles = jointAngles(pose({
    // Standing, right arm raised sideways to horizontal and straight; left arm down, elbow bent 90 forwards.
    [LM.RIGHT_SHOULDER]: { x: 0.4, y: 0.3 }, [LM.RIGHT_ELBOW]: { x: 0.3, y: 0.3 }, [LM.RIGHT_WRIST]: { x: 0.2, y: 0.3 },
    [LM.RIGHT_HIP]: { x: 0.4, y: 0.6 }, [LM.RIGHT_KNEE]: { x: 0.4, y: 0.8 },
    [LM.LEFT_SHOULDER]: { x: 0.6, y: 0.3 }, [LM.LEFT_ELBOW]: { x: 0.6, y: 0.45 }, [LM.LEFT_WRIST]: { x: 0.75, y: 0.45 },
    [LM.LEFT_HIP]: { x: 0.6, y: 0.6 }, [LM.LEFT_KNEE]: { x: 0.7, y: 0.6 },
  }));
  near(angles.rightShoulder, 90);
  near(angles.rightElbow, 180);
  near(angles.rightHip, 180);
  near(angles.leftShoulder, 0);
  near(angles.leftElbow, 90);
  near(angles.leftHip, 90);
});

test('a hidden joint (any of its three landmarks below the cut-off) gives null, others still measured', () => {
  const landmarks = pose({
    [LM.LEFT_HIP]: { x: 0.6, y: 0.5 }, [LM.LEFT_KNEE]: { x: 0.6, y: 0.7, visibility: 0.2 }, [LM.LEFT_ANKLE]: { x: 0.6, y: 0.9 },
    [LM.RIGHT_HIP]: { x: 0.4, y: 0.5 }, [LM.RIGHT_KNEE]: { x: 0.4, y: 0.7 }, [LM.RIGHT_ANKLE]: { x: 0.4, y: 0.9, visibility: 0.49 },
    [LM.RIGHT_SHOULDER]: { x: 0.4, y: 0.3 },
  });
  const angles = jointAngles(landmarks);
  assert.equal(angles.leftKnee, null);
  assert.equal(angles.rightKnee, null);
  near(angles.rightHip, 180);
  assert.equal(jointAngles(landmarks, { threshold: 0.1 }).leftKnee != null, true);
});

test('no landmarks: every joint null', () => {
  const angles = jointAngles(null);
  assert.deepEqual(Object.keys(angles).sort(), JOINTS.map((j) => j.name).sort());
  assert.ok(Object.values(angles).every((v) => v === null));
});

test('countTracked counts landmarks at or above the cut-off', () => {
  const landmarks = pose({}, 0.9);
  landmarks[3].visibility = 0.1;
  landmarks[4].visibility = 0.5;
  assert.equal(countTracked(landmarks), 32);
  assert.equal(countTracked(null), 0);
});
