// Pre-session check (/check): camera preview with the live skeleton and joint angles, a microphone level
// meter, and a ~8 s network test against POST /api/echo that tells which mode the link can sustain.
// window.checkPage exposes the state for automated tests. Everything it loads comes from this server.
// Pose estimation runs in a Worker (or, where the browser cannot, on the page's thread: see
// pose/estimator.js; ?thread=main|worker forces one) at an adaptive rate of at most 10/s. The estimator's files
// (~12 MB) are offered for download here, on a good connection, and kept on the device (pose/model-store.js,
// sw.js), so that a session on a weak link never has to fetch them; body tracking starts once they are stored.
import { createPoseEstimator } from './pose/estimator.js';
import { urlMap } from './pose/model-manifest.js';
import { downloadMissing, fetchManifest, registerServiceWorker, storedStatus } from './pose/model-store.js';
import { SkeletonRenderer } from './pose/renderer.js';
import { JOINTS } from './pose/angles.js';
import { LANDMARK_COUNT } from './pose/landmarks.js';
import { linkMode, lossFraction, median } from './pose/link-quality.js';
import { saveCheck, startModeFrom } from './session/start-mode.js';
import { deviceErrorKey } from './session/errors.js';
import { fillLanguageSwitch, formatNumber, initLanguage, language, megabytes, onLanguageChange, say, t } from './i18n/i18n.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const NETWORK_TEST_MS = Number(params.get('networkMs')) || 8000;

const state = {
  error: null,
  pose: { state: 'idle', tracked: 0, estimates: 0, hz: 0, durationMs: null, meanDurationMs: null, message: '', thread: null },
  angles: {},
  mic: { level: 0, peak: 0, changes: 0 },
  network: { state: 'idle', kbps: null, rttMs: null, loss: null, mode: null, packetsSent: 0, packetsReceived: 0, packetsLost: 0 },
  // The estimator's files: 'checking' | 'missing' | 'downloading' | 'stored' | 'unavailable' (no Cache Storage:
  // the browser's HTTP cache only) | 'failed'.
  model: { state: 'checking', loadedBytes: 0, totalBytes: 0, message: '' },
};
window.checkPage = state;

function fail(where, error) {
  state.error = `${where}: ${error?.message ?? error}`;
  say($('error'), 'check.error', { where: t(`check.where.${where}`), reason: t(where === 'pose' ? 'error.notStarted' : deviceErrorKey(error)) });
}

// ---- Pose: estimator -> renderer (overlay over the live video) -> status and angles ----
let renderer = null;
function showPose() {
  const p = state.pose;
  if (p.state === 'running') {
    const key = p.tracked > 0 ? (p.hz ? 'check.pose.trackingRate' : 'check.pose.tracking') : (p.hz ? 'check.pose.noneRate' : 'check.pose.none');
    say($('pose-status'), key, { tracked: p.tracked, of: LANDMARK_COUNT, hz: Math.round(p.hz) });
  } else say($('pose-status'), p.messageKey ?? `check.pose.state.${p.state}`, { reason: p.message });
}

const angleItems = JOINTS.map((joint) => {
  const li = document.createElement('li');
  li.dataset.joint = joint.name;
  $('angles').appendChild(li);
  return li;
});

function showAngles() {
  JOINTS.forEach((joint, i) => {
    const value = state.angles[joint.name];
    const text = t(value == null ? 'check.angleNone' : 'check.angle', { joint: t(`joint.${joint.name}`), degrees: Math.round(value ?? 0) });
    if (angleItems[i].textContent !== text) angleItems[i].textContent = text;
    angleItems[i].className = value == null ? 'hidden' : '';
  });
}

async function startPose(video, files) {
  renderer = new SkeletonRenderer($('skeleton'), { delayMs: 120 });
  renderer.attachVideo(video);
  const thread = ['main', 'worker'].includes(params.get('thread')) ? params.get('thread') : 'auto';
  const estimator = createPoseEstimator({ thread, files });
  estimator.addEventListener('status', (e) => {
    state.pose.state = e.detail.state;
    state.pose.message = e.detail.message;
    state.pose.thread = e.detail.thread;
    state.pose.note = e.detail.note;
    if (e.detail.note) console.info(`pose: ${e.detail.note}`);
    if (e.detail.state === 'error') fail('pose', e.detail.message);
    showPose();
  });
  estimator.addEventListener('landmarks', (e) => {
    const d = e.detail;
    const estimates = state.pose.estimates + 1;
    // Mean estimate time per frame (the first estimate includes the model's start-up and is left out).
    const timed = Math.max(0, estimates - 1);
    const meanMs = estimates === 1 ? null : ((state.pose.meanDurationMs ?? 0) * (timed - 1) + d.durationMs) / timed;
    Object.assign(state.pose, { state: 'running', tracked: d.tracked, estimates, hz: d.hz, durationMs: d.durationMs, meanDurationMs: meanMs });
    renderer.push(d);
    showPose();
  });
  // The angles shown are those of the skeleton as drawn (interpolated), refreshed a few times a second.
  setInterval(() => {
    state.angles = renderer.last?.angles ?? {};
    showAngles();
  }, 250);
  showAngles();
  await estimator.start(video);
}

// ---- The estimator's files: stored on this device, or offered for download ----
let manifest = null;
function showModel(key, params = {}) {
  state.model.message = t(key, params);
  say($('model-status'), key, params);
  const downloading = state.model.state === 'downloading';
  $('model-progress').hidden = !downloading;
  if (state.model.totalBytes) $('model-progress').value = state.model.loadedBytes / state.model.totalBytes;
  $('model-download').hidden = state.model.state !== 'missing' && state.model.state !== 'failed';
}

async function checkModel() {
  try {
    manifest = await fetchManifest();
  } catch (error) {
    state.model.state = 'failed';
    showModel('check.model.notFound', { reason: t('error.connection') });
    return;
  }
  const status = await storedStatus(manifest).catch(() => null);
  state.model.totalBytes = status?.totalBytes ?? 0;
  if (!status || status.noCache) {
    state.model.state = 'unavailable';
    showModel('check.model.unavailable');
  } else if (status.complete) {
    state.model.state = 'stored';
    state.model.loadedBytes = status.totalBytes;
    showModel('check.model.stored', { size: megabytes(status.totalBytes) });
  } else {
    state.model.state = 'missing';
    state.model.loadedBytes = status.storedBytes;
    say($('model-download'), 'check.downloadSize', { size: megabytes(status.totalBytes - status.storedBytes) });
    showModel('check.model.offer', { size: megabytes(status.totalBytes) });
  }
}

async function downloadModel() {
  $('model-download').disabled = true;
  if (!manifest) { // the manifest could not be read before: try again first
    await checkModel();
    if (!manifest || state.model.state !== 'missing') { $('model-download').disabled = false; modelReady(); return; }
  }
  state.model.state = 'downloading';
  showModel('check.model.downloading');
  try {
    await downloadMissing(manifest, {
      onProgress: ({ loadedBytes, totalBytes }) => {
        Object.assign(state.model, { loadedBytes, totalBytes });
        showModel('check.model.progress', { loaded: megabytes(loadedBytes), total: megabytes(totalBytes) });
      },
    });
    state.model.state = 'stored';
    showModel('check.model.stored', { size: megabytes(state.model.totalBytes) });
    modelReady();
  } catch (error) {
    state.model.state = 'failed';
    say($('model-download'), 'check.tryAgain');
    showModel('check.model.stopped', { reason: t('error.connection') });
  } finally {
    $('model-download').disabled = false;
  }
}

// Body tracking starts when the files are stored (or cannot be: then from the network as they load).
let video = null;
let networkDone = false;
let poseStarted = false;
function modelReady() {
  if (poseStarted || !networkDone || !video || !manifest) return;
  if (state.model.state !== 'stored' && state.model.state !== 'unavailable') {
    state.pose.messageKey = 'check.pose.afterDownload';
    showPose();
    return;
  }
  poseStarted = true;
  state.pose.messageKey = null;
  startPose(video, urlMap(manifest)).catch((error) => { state.pose.state = 'error'; fail('pose', error); showPose(); });
}

// ---- Microphone level (Web Audio AnalyserNode, RMS of the waveform) ----
function startMic(stream) {
  const audio = new AudioContext();
  const source = audio.createMediaStreamSource(stream);
  const analyser = audio.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  document.addEventListener('click', () => audio.resume(), { once: true }); // phones start it suspended
  audio.resume().catch(() => {});
  let last = 0;
  setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    const rms = Math.sqrt(sum / samples.length);
    // Level on a dB scale: -60 dBFS (or silence) -> 0, 0 dBFS -> 1; normal speech near the phone ~0.4-0.7.
    const level = rms > 0 ? Math.min(1, Math.max(0, (20 * Math.log10(rms) + 60) / 60)) : 0;
    if (Math.abs(level - last) > 0.01) state.mic.changes++;
    last = level;
    state.mic.level = level;
    state.mic.peak = Math.max(state.mic.peak * 0.95, level);
    $('mic-meter').value = level;
    const key = audio.state === 'running' ? (state.mic.peak > 0.1 ? 'check.mic.level' : 'check.mic.silent') : 'check.mic.tap';
    if (state.mic.peak > 0.1) state.mic.heard = true;
    say($('mic-level'), key, { percent: Math.round(level * 100) });
  }, 100);
}

// ---- Network test against POST /api/echo ----
// What it found is kept on this device (session/start-mode.js): a link too weak for video starts the session in
// audio + pose, and the server's trials bring the video back when the link allows.
function keepResult(net) {
  state.network.saved = saveCheck(localStorage, net, Date.now());
  const weak = startModeFrom({ mode: net.mode }) !== null;
  say($('network-start'), weak ? 'check.resultWeak' : null);
  $('network-start').hidden = !weak;
}

async function runNetworkTest(stream) {
  const net = state.network;
  Object.assign(net, { state: 'connecting', kbps: null, rttMs: null, loss: null, mode: null, error: null, saved: false });
  $('network-run').disabled = true;
  say($('network-result'), 'check.net.testing');
  const pc = new RTCPeerConnection();
  try {
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetch('/api/echo', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    const answer = await response.text();
    if (response.status !== 201) {
      throw Object.assign(new Error(`the server refused the test (${response.status})`),
        { refused: true, key: 'check.net.why.refused', params: { status: response.status } });
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await new Promise((resolve, reject) => {
      const timeout = setTimeout(() => reject(Object.assign(new Error('could not connect to the server within 10 s'), { key: 'check.net.why.timeout' })), 10_000);
      const check = () => {
        if (pc.connectionState === 'connected') { clearTimeout(timeout); resolve(); }
        if (pc.connectionState === 'failed') { clearTimeout(timeout); reject(Object.assign(new Error('the connection failed'), { key: 'check.net.why.failed' })); }
      };
      pc.addEventListener('connectionstatechange', check);
      check();
    });
    net.state = 'measuring';
    const rtts = [];
    let bwe = 0, first = null, lastSample = null;
    const started = performance.now();
    while (performance.now() - started < NETWORK_TEST_MS) {
      await new Promise((r) => setTimeout(r, 1000));
      const sample = { at: performance.now(), bytesSent: 0, packetsSent: 0, packetsReceived: 0, packetsLost: 0 };
      for (const report of (await pc.getStats()).values()) {
        if (report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') {
          if (report.currentRoundTripTime != null) rtts.push(report.currentRoundTripTime * 1000);
          if (report.availableOutgoingBitrate != null) bwe = Math.max(bwe, report.availableOutgoingBitrate);
        }
        if (report.type === 'outbound-rtp') { sample.bytesSent += report.bytesSent ?? 0; sample.packetsSent += report.packetsSent ?? 0; }
        if (report.type === 'inbound-rtp') { sample.packetsReceived += report.packetsReceived ?? 0; sample.packetsLost += report.packetsLost ?? 0; }
      }
      first ??= sample;
      lastSample = sample;
      const seconds = (sample.at - first.at) / 1000;
      const sentKbps = seconds > 0 ? (sample.bytesSent - first.bytesSent) * 8 / 1000 / seconds : 0;
      Object.assign(net, {
        kbps: Math.round(Math.max(bwe / 1000, sentKbps)), bweKbps: Math.round(bwe / 1000), sentKbps: Math.round(sentKbps),
        rttMs: median(rtts), loss: lossFraction(sample.packetsReceived, sample.packetsLost),
        packetsSent: sample.packetsSent, packetsReceived: sample.packetsReceived, packetsLost: sample.packetsLost,
      });
      say($('network-result'), 'check.net.progress', { seconds: Math.round((performance.now() - started) / 1000) });
    }
    if (!lastSample || lastSample.packetsReceived === 0) throw new Error('no media came back from the server');
    net.mode = linkMode(net);
    net.state = 'done';
    say($('network-result'), net.rttMs == null ? 'check.net.resultNoRtt' : 'check.net.result', {
      kbps: net.kbps, rtt: Math.round(net.rttMs ?? 0), loss: formatNumber((net.loss ?? 0) * 100, 1, true), mode: t(`mode.${net.mode}`) });
    keepResult(net);
  } catch (error) {
    net.state = 'failed';
    net.error = String(error?.message ?? error);
    if (error?.refused) {
      // The server's limit, not the link: nothing learnt about the connection (an earlier result stays).
      say($('network-result'), 'check.net.refused', { reason: t(error.key ?? 'error.connection', error.params) });
    } else {
      // No media through: a link this weak starts the session as audio + pose.
      net.mode = 'audio + pose';
      say($('network-result'), 'check.net.failed', { reason: t(error?.key ?? 'error.connection', error?.params) });
      keepResult(net);
    }
  } finally {
    pc.close();
    $('network-run').disabled = false;
    showSummary();
  }
}

// In plain words, once the connection test ended: what the check found, and what the session will do.
function showSummary() {
  const net = state.network;
  if (net.state !== 'done' && net.state !== 'failed') return;
  const section = $('summary');
  const line = (key, params = {}) => {
    const p = document.createElement('p');
    say(p, key, params);
    return p;
  };
  const heading = document.createElement('h2');
  say(heading, 'check.summary.heading');
  const found = [
    line(state.camera ? 'check.summary.cameraOk' : 'check.summary.cameraNone'),
    line(!state.camera ? 'check.summary.micNone' : state.mic.heard ? 'check.summary.micOk' : 'check.summary.micSilent'),
    line(net.state === 'done' ? 'check.summary.connection' : 'check.summary.connectionFailed', { kbps: net.kbps ?? 0 }),
  ];
  const mode = net.mode === 'audio + pose' ? 'check.summary.willMovement' : net.mode === 'low video' ? 'check.summary.willLowVideo'
    : net.mode === 'video' ? 'check.summary.willVideo' : 'check.summary.willRetry';
  const will = line(mode);
  will.className = 'summary-will';
  section.replaceChildren(heading, ...found, will);
  section.hidden = false;
}

async function main() {
  registerServiceWorker();
  await initLanguage();
  fillLanguageSwitch($('language-switch'));
  onLanguageChange(() => { showAngles(); });
  const model = checkModel();
  $('model-download').addEventListener('click', () => downloadModel());
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15 } } });
  } catch (error) {
    fail('camera', error);
    state.pose.messageKey = 'check.pose.noCamera';
    showPose();
    await model;
    $('model-download').disabled = false; // the files can still be stored for the session
    return;
  }
  state.camera = stream.getVideoTracks().length > 0;
  video = $('video');
  video.srcObject = stream;
  video.addEventListener('loadedmetadata', () => {
    if (video.videoWidth && video.videoHeight) $('stage').style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
  });
  try { startMic(stream); } catch (error) { fail('microphone', error); }
  $('network-run').addEventListener('click', () => runNetworkTest(stream));
  // The connection test runs first and alone: the pose model (~12 MB, stored afterwards) would otherwise
  // share the link with it and make a good link look poor. So the download is offered after it.
  if (params.get('network') !== '0') {
    state.pose.messageKey = 'check.pose.afterTest';
    showPose();
    await runNetworkTest(stream);
  }
  await model;
  networkDone = true;
  $('model-download').disabled = false;
  modelReady();
}

main();
