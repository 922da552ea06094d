// Pose in a session (docs/pose-format.md, "Pose in a session"). Every page opens the "pose" data channel before its
// first offer. A patient's page runs the estimator (off the main thread where it can: pose/estimator.js) while it is
// in the call, the estimator's files are on the phone and its camera is on, and sends each keypoint frame on the
// channel, dropping frames rather than queueing them (session/pose-send.js). The therapist's and observers' pages
// receive every patient's frames from the server and draw them on the patient's tile (session/pose-view.js,
// pose/renderer.js): over the video, or alone on a neutral background with an "audio + movement" badge when the
// video is paused or absent, fading when it goes stale, with the pose rate and age.
import { createPoseEstimator } from '../pose/estimator.js';
import { SkeletonRenderer } from '../pose/renderer.js';
import { createDecoderState, createEncoderState, decodeFrame, encodeFrame } from '../pose/keypoint-codec.js';
import { POSE_CHANNEL_OPTIONS, POSE_LABEL, PoseSender, shouldEstimate } from './pose-send.js';
import { PoseRateMeter, parsePoseMessage, poseTileView } from './pose-view.js';
import { t } from '../i18n/i18n.js';

export class SessionPose {
  /** Opens the "pose" channel on `pc` (call before the first offer so that it is negotiated). */
  constructor(pc, { role }) {
    this.role = role;
    this.channel = pc.createDataChannel(POSE_LABEL, POSE_CHANNEL_OPTIONS);
    this.channel.binaryType = 'arraybuffer';
    this.channel.onmessage = (event) => this.receive(event.data);
    this.encoder = createEncoderState();
    this.sender = new PoseSender(this.channel, { encode: (frame) => encodeFrame(frame, this.encoder) });
    this.estimator = null;
    this.estimating = false;
    this.decision = null;
    this.video = null;
    this.senders = new Map(); // participantId -> { decoder, meter, frames, undecodable, tile }
    this.timer = setInterval(() => this.paintTiles(), 250);
  }

  // ------------------------------------------------------------ patient: estimate and send

  /** Starts or stops the estimator from the page's state: { inCall, filesStored, cameraOn, stream, files }. */
  update({ inCall, filesStored, cameraOn, stream, files }) {
    const decision = shouldEstimate({ role: this.role, inCall, filesStored, cameraOn: cameraOn && !!stream });
    this.decision = decision.reason;
    if (decision.run && !this.estimating) this.startEstimator(stream, files);
    else if (!decision.run && this.estimating) this.stopEstimator();
  }

  startEstimator(stream, files) {
    this.estimating = true;
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    video.play().catch(() => {});
    this.video = video;
    const estimator = createPoseEstimator(files ? { files } : {});
    this.estimator = estimator;
    estimator.addEventListener('landmarks', (event) => {
      if (this.estimator !== estimator) return;
      this.lastEstimate = { durationMs: Math.round(event.detail.durationMs), hz: Math.round(event.detail.hz * 10) / 10,
        thread: event.detail.thread, inference: event.detail.inference };
      this.sender.offer(event.detail.landmarks);
    });
    estimator.start(video).catch(() => { if (this.estimator === estimator) this.stopEstimator(); });
  }

  stopEstimator() {
    this.estimating = false;
    this.estimator?.stop();
    this.estimator = null;
    if (this.video) this.video.srcObject = null;
    this.video = null;
  }

  // ------------------------------------------------------------ viewers: receive and draw

  receive(data) {
    const message = parsePoseMessage(data);
    if (!message) return;
    const entry = this.entry(message.senderId);
    const frame = decodeFrame(message.frame, entry.decoder);
    if (!frame) { entry.undecodable++; return; }
    const now = performance.now();
    entry.frames++;
    entry.meter.record(now);
    entry.lastTimestamp = frame.timestampMs;
    entry.latencyMs = ((Date.now() >>> 0) - frame.timestampMs) | 0; // meaningful when both clocks agree
    entry.latencies.push(entry.latencyMs);
    if (entry.latencies.length > 200) entry.latencies.shift();
    entry.tile?.renderer.push({ t: frame.timestampMs, landmarks: frame.landmarks });
  }

  entry(id) {
    let entry = this.senders.get(id);
    if (!entry) {
      entry = { decoder: createDecoderState(), meter: new PoseRateMeter(), frames: 0, undecodable: 0, tile: null, latencyMs: null, latencies: [] };
      this.senders.set(id, entry);
    }
    return entry;
  }

  /** Gives a remote participant's tile a skeleton layer over its video, a toggle, a status line and the badge. */
  attachTile(id, tile, video) {
    const entry = this.entry(id);
    if (entry.tile?.element === tile) return;
    entry.tile?.renderer.stop();
    const canvas = document.createElement('canvas');
    canvas.className = 'pose-layer';
    canvas.dataset.testid = `pose-canvas-${id}`;
    const badge = document.createElement('span');
    badge.className = 'pose-badge';
    badge.dataset.testid = `pose-badge-${id}`;
    badge.hidden = true;
    const status = document.createElement('span');
    status.className = 'pose-status';
    status.dataset.testid = `pose-status-${id}`;
    const toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.className = 'pose-toggle';
    toggle.dataset.testid = `pose-toggle-${id}`;
    const view = { element: tile, canvas, badge, status, toggle, enabled: true, videoHidden: false, renderer: null };
    toggle.onclick = () => { view.enabled = !view.enabled; this.paintTiles(); };
    video.insertAdjacentElement('afterend', canvas);
    tile.append(badge);
    tile.querySelector('.name')?.append(status, toggle);
    view.renderer = new SkeletonRenderer(canvas, { delayMs: 120 });
    view.renderer.attachVideo(video);
    entry.tile = view;
    this.paintTiles();
  }

  /** The participant's camera is off (its video is not shown even if frames arrive). */
  setVideoHidden(id, hidden) {
    const view = this.senders.get(id)?.tile;
    if (!view) return;
    view.videoHidden = hidden;
    view.renderer.videoHidden = hidden;
    if (hidden) view.renderer.setBackdrop(null); // no still of a camera the patient turned off
  }

  detachTile(id) {
    const entry = this.senders.get(id);
    const view = entry?.tile;
    if (view) {
      view.renderer.stop();
      for (const element of [view.canvas, view.badge, view.status, view.toggle]) element.remove();
    }
    this.senders.delete(id);
  }

  /** Whether `id` has a skeleton layer on its tile. */
  hasTile(id) {
    return !!this.senders.get(id)?.tile;
  }

  paintTiles() {
    const now = performance.now();
    for (const [, entry] of this.senders) {
      const view = entry.tile;
      if (!view) continue;
      const videoLive = view.renderer.videoLive && !view.videoHidden;
      const state = poseTileView({ nowMs: now, lastAt: entry.meter.last, fps: entry.meter.fps(now), videoLive, enabled: true });
      // Over live video the skeleton is the therapist's choice; without video it is all there is, so it shows.
      const shown = state.hasPose && (view.enabled || !videoLive);
      view.canvas.hidden = !shown;
      view.badge.hidden = !state.badge;
      view.badge.textContent = state.badge ?? '';
      view.status.textContent = state.text;
      view.status.dataset.fps = String(entry.meter.fps(now));
      view.toggle.hidden = !state.hasPose;
      view.toggle.textContent = t('pose.skeleton');
      view.toggle.setAttribute('aria-label', t('pose.skeletonName'));
      view.toggle.setAttribute('aria-pressed', String(view.enabled));
    }
  }

  /** For tests and diagnostics. */
  stats() {
    const received = {};
    const now = performance.now();
    for (const [id, entry] of this.senders) {
      received[id] = { frames: entry.frames, undecodable: entry.undecodable, fps: entry.meter.fps(now), latencyMs: entry.latencyMs, latencies: [...entry.latencies],
        angles: entry.tile?.renderer.last?.angles ?? null, videoLive: entry.tile ? entry.tile.renderer.videoLive && !entry.tile.videoHidden : null };
    }
    return { channel: this.channel.readyState, estimating: this.estimating, decision: this.decision,
      sent: this.sender.sent, dropped: this.sender.dropped, lastSendReason: this.sender.lastReason,
      estimate: this.lastEstimate ?? null, received };
  }

  close() {
    clearInterval(this.timer);
    this.stopEstimator();
    for (const id of [...this.senders.keys()]) this.detachTile(id);
    try { this.channel.close(); } catch { /* closed already */ }
  }
}
