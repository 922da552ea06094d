// Skeleton renderer: draws received (or locally estimated) poses on a canvas at display rate, interpolated
// between the last two frames with a small playout delay (skeleton-math.js), with joint angles beside the
// joints, fading when no frame arrived for a second.
//
//   const r = new SkeletonRenderer(canvas);    // the canvas lies over the <video> element (same box)
//   r.attachVideo(videoElement);               // optional: the video under the canvas
//   r.push({ t, landmarks, width, height });   // each received (or estimated) frame, t = sender ms
//   r.stop();
// While the attached video shows frames (one in the last second) the canvas is transparent: the skeleton is
// drawn over the live video. When video stops (or none is attached), the canvas paints the last decoded
// video frame, dimmed (captured once a second while video played), or a neutral background, under the
// skeleton. setBackdrop(image) sets that picture directly (e.g. a decoded keyframe).
import { BONES, isVisible } from './landmarks.js';
import { JOINTS, jointAngles } from './angles.js';
import { PlayoutBuffer } from './skeleton-math.js';

const NEUTRAL = '#1f252d';

export class SkeletonRenderer {
  constructor(canvas, { delayMs = 250, showAngles = true, now = () => performance.now() } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.video = null;
    this.lastVideoFrameAt = -Infinity;
    this.lastCaptureAt = -Infinity;
    this.videoLive = false;
    this.videoHidden = false; // set when the sender turned its camera off: its video counts as absent
    this.showAngles = showAngles;
    this.now = now;
    this.buffer = new PlayoutBuffer({ delayMs });
    this.backdrop = null;
    this.aspect = 4 / 3;
    this.last = null; // what was drawn last: { landmarks, opacity, stale, angles }
    this.frameHandle = null;
    this.running = true;
    this.draw = this.draw.bind(this);
    this.frameHandle = requestAnimationFrame(this.draw);
  }

  push(frame) {
    if (frame.width && frame.height) this.aspect = frame.width / frame.height;
    if (!frame.landmarks) return;
    this.buffer.push({ t: frame.t, landmarks: frame.landmarks }, this.now());
  }

  setBackdrop(image) {
    this.backdrop?.close?.();
    this.backdrop = image;
  }

  /** The <video> under the canvas: the renderer notices when it stops showing frames. */
  attachVideo(video) {
    this.video = video;
    const onFrame = () => {
      if (this.video !== video || !this.running) return;
      this.lastVideoFrameAt = this.now();
      video.requestVideoFrameCallback(onFrame);
    };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
    else this.pollVideo = true; // older browsers: watch currentTime instead
  }

  watchVideo(now) {
    const video = this.video;
    if (!video) { this.videoLive = false; return; }
    if (this.pollVideo && video.currentTime !== this.lastVideoTime) { this.lastVideoTime = video.currentTime; this.lastVideoFrameAt = now; }
    this.videoLive = !this.videoHidden && video.readyState >= 2 && now - this.lastVideoFrameAt < 1000;
    if (this.videoLive && now - this.lastCaptureAt > 1000 && globalThis.createImageBitmap) {
      this.lastCaptureAt = now;
      createImageBitmap(video, { resizeWidth: 320, resizeHeight: Math.max(1, Math.round(320 * video.videoHeight / video.videoWidth)) })
        .then((image) => this.setBackdrop(image), () => {});
    }
  }

  fitCanvas() {
    const { canvas } = this;
    const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr)), h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  }

  draw() {
    if (!this.running) return;
    this.frameHandle = requestAnimationFrame(this.draw);
    this.fitCanvas();
    const { ctx, canvas } = this;
    const W = canvas.width, H = canvas.height;
    this.watchVideo(this.now());
    if (this.videoLive) ctx.clearRect(0, 0, W, H);
    else if (this.backdrop) {
      ctx.drawImage(this.backdrop, 0, 0, W, H);
      ctx.fillStyle = 'rgba(31,37,45,0.55)'; // dimmed: it is a still, not live video
      ctx.fillRect(0, 0, W, H);
    } else { ctx.fillStyle = NEUTRAL; ctx.fillRect(0, 0, W, H); }

    const sample = this.buffer.sample(this.now());
    if (!sample) { this.last = null; return; }
    // A stale pose keeps its faded skeleton (where the patient was) but shows no numbers: they are not current.
    const angles = sample.stale ? jointAngles(null) : jointAngles(sample.landmarks, { aspect: this.aspect });
    this.last = { ...sample, angles };
    const px = (p) => [p.x * W, p.y * H];
    const unit = Math.max(2, Math.min(W, H) / 120);
    ctx.save();
    ctx.globalAlpha = sample.opacity;
    ctx.lineCap = 'round';
    ctx.lineWidth = unit;
    ctx.strokeStyle = sample.stale ? '#9aa4ad' : '#39e07a';
    ctx.beginPath();
    for (const [a, b] of BONES) {
      const p = sample.landmarks[a], q = sample.landmarks[b];
      if (!isVisible(p) || !isVisible(q)) continue;
      const [x1, y1] = px(p), [x2, y2] = px(q);
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
    }
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    for (const p of sample.landmarks) {
      if (!isVisible(p)) continue;
      const [x, y] = px(p);
      ctx.beginPath();
      ctx.arc(x, y, unit * 1.1, 0, Math.PI * 2);
      ctx.fill();
    }
    if (this.showAngles) {
      ctx.font = `${Math.round(unit * 5)}px system-ui, sans-serif`;
      ctx.textBaseline = 'middle';
      for (const joint of JOINTS) {
        const value = angles[joint.name];
        if (value == null) continue;
        const [x, y] = px(sample.landmarks[joint.points[1]]);
        const text = `${Math.round(value)}°`;
        const dx = joint.name.startsWith('left') ? unit * 3 : -unit * 3 - ctx.measureText(text).width;
        ctx.fillStyle = 'rgba(0,0,0,0.6)';
        ctx.fillRect(x + dx - unit, y - unit * 3, ctx.measureText(text).width + unit * 2, unit * 6);
        ctx.fillStyle = '#ffe066';
        ctx.fillText(text, x + dx, y);
      }
    }
    if (sample.stale) {
      ctx.globalAlpha = 1;
      ctx.fillStyle = '#ffcc00';
      ctx.font = `${Math.round(unit * 5)}px system-ui, sans-serif`;
      ctx.textBaseline = 'top';
      ctx.fillText(`no pose for ${(sample.ageMs / 1000).toFixed(0)} s`, unit * 2, unit * 2);
    }
    ctx.restore();
  }

  stop() {
    this.running = false;
    cancelAnimationFrame(this.frameHandle);
  }
}
