import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveRate, WORKER_MAX_DUTY } from '../pose/rate.js';
import { locator, softwareWebGl } from '../pose/estimator.js';

test('fast estimates run at the 10/s target', () => {
  const rate = new AdaptiveRate();
  assert.equal(rate.intervalMs(), 100);
  for (let i = 0; i < 10; i++) rate.record(20);
  assert.equal(rate.intervalMs(), 100);
  assert.equal(rate.hz, 10);
});

test('estimates over the 40 ms budget slow the rate so they take at most 40 % of the time', () => {
  const rate = new AdaptiveRate();
  for (let i = 0; i < 30; i++) rate.record(80);
  assert.ok(Math.abs(rate.intervalMs() - 200) < 1, String(rate.intervalMs()));
  for (let i = 0; i < 30; i++) rate.record(5000);
  assert.equal(rate.intervalMs(), 500); // floor: 2 estimates/s
});

test('one slow estimate does not halve the rate (smoothed)', () => {
  const rate = new AdaptiveRate();
  for (let i = 0; i < 10; i++) rate.record(20);
  rate.record(60);
  assert.equal(rate.intervalMs(), 100);
});

test('MediaPipe finds its files at the manifest\'s hashed URLs; an unlisted file gets a URL that is never served', () => {
  const locate = locator({ 'pose.js': '/pose-model/0123456789abcdef/pose.js' });
  assert.equal(locate('pose.js'), '/pose-model/0123456789abcdef/pose.js');
  assert.equal(locate('pose_landmark_full.tflite'), '/pose-model/unlisted/pose_landmark_full.tflite');
});

test('in a worker the duty cap lets 80 ms estimates run 8 times a second', () => {
  const rate = new AdaptiveRate({ maxDuty: WORKER_MAX_DUTY });
  for (let i = 0; i < 20; i++) rate.record(80);
  assert.ok(rate.hz >= 8, `hz ${rate.hz}`);
});

test('software WebGL (SwiftShader, llvmpipe) sends the model to the CPU; a GPU or no WebGL does not', () => {
  const saved = globalThis.OffscreenCanvas;
  const withRenderer = (renderer) => {
    globalThis.OffscreenCanvas = class {
      getContext() {
        return renderer === null ? null : {
          RENDERER: 0x1F01,
          getExtension: (name) => (name === 'WEBGL_debug_renderer_info' ? { UNMASKED_RENDERER_WEBGL: 0x9246 } : null),
          getParameter: () => renderer,
        };
      }
    };
    return softwareWebGl();
  };
  try {
    assert.equal(withRenderer('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)'), true);
    assert.equal(withRenderer('llvmpipe (LLVM 15.0.6, 256 bits)'), true);
    assert.equal(withRenderer('ANGLE (Qualcomm, Adreno (TM) 610, OpenGL ES 3.2)'), false);
    assert.equal(withRenderer(null), false);
  } finally {
    globalThis.OffscreenCanvas = saved;
  }
});
