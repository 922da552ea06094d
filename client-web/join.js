// TeleRehab session page: the join link's page for therapists, patients and observers.
// Standard WebRTC and the SignalR client only (vendored, no CDN). The protocol is in docs/signalling.md.
// window.telerehab exposes the page's state for automated tests.

import { linkView, qualityTitle } from './session/quality.js';
import { backgroundFetchDecision, isAudioOnly, poseFilesMessage } from './session/pose-files.js';
import { downloadMissing, fetchManifest, registerServiceWorker, storedStatus } from './pose/model-store.js';
import { urlMap } from './pose/model-manifest.js';
import { SessionPose } from './session/pose.js';
import { forgetCheck, modeBadge, readCheck, startModeFrom } from './session/start-mode.js';
import { fillLanguageSwitch, formatTime, initLanguage, language, onLanguageChange, say, t } from './i18n/i18n.js';
import { CallLayout } from './session/layout.js';
import { deviceErrorKey, errorMessage } from './session/errors.js';
import { JOINTS } from './pose/angles.js';
import { OwnEvidence, senderSample } from './session/own-evidence.js';
import {
  connectionMessage, ICE_RESTART_AFTER_DISCONNECTED_MS, iceUfragOf, newConnectionDelay, reconnectDelay, resumeOutcome, shouldRestartIce,
} from './session/reconnect.js';

const $ = (id) => document.getElementById(id);
const screens = ['error', 'preview', 'waiting', 'call', 'ended'];
const layout = new CallLayout($('tiles'));

const state = {
  screen: 'preview',
  me: null,               // JoinResult
  participants: new Map(), // id -> Participant
  tracks: [],             // tracks I may subscribe to
  waiting: [],            // therapist: who waits
  locked: false,
  focus: null,            // whom the therapist put in focus for the room (SetFocus), null: nobody (the therapist)
  error: null,
  notice: null,
  linkStats: null,        // the latest LinkStats: this page's downlink as the server sees it
  // The patient's pose estimator files (session/pose-files.js): 'checking' | 'missing' | 'fetching' | 'stored' |
  // 'unavailable'; `reason` is the last background-fetch decision's.
  poseFiles: { state: 'checking', loadedBytes: 0, totalBytes: 0, reason: null },
  ownPose: false,         // a patient watching its own skeleton
  movementOnly: false,    // a patient sending its movement (pose) and audio, no video
  modeReason: '',         // why this page is in its mode ('therapist', 'weak-uplink', 'check', 'device', 'recovered', '')
  held: false,            // the therapist holds this page's mode
  modeChangedAt: null,    // performance.now() of the server's latest ModeChanged (its word wins over the page's own)
  startMode: null,        // from the last /check (session/start-mode.js): { mode: 'audio+pose', reason: 'check' } or null
  ownStepDown: null,      // the page stepped down on its own evidence: { at, evidence, reported } until the server speaks
  trialKbps: 0,           // in audio + pose: the rate of the server's trial of the lowest video layer (0: none)
  trialWarmUntil: 0,      // until then (performance.now()) the trial runs at TRIAL_WARM_UP_SHARE of its rate
  audioMaxKbps: 0,        // the server's cap on this page's Opus rate while the room has someone on a weak link (0: none)
  poseMaxFps: 0,          // and on its keypoints' frame rate (0: the page's own)
  connection: 'connected', // this page's hub connection: 'connected' | 'reconnecting' (docs/signalling.md, "Reconnecting")
  resumes: 0,             // places taken back after the hub connection dropped
  iceRestarts: 0,         // ICE restarts of this page's peer connection (and why the last one)
  lastIceRestart: null,
};

let hub = null;
let pc = null;
let localStream = null;
const subscriptions = new Map(); // trackId -> { transceiver, track }
const remoteStreams = new Map();  // participantId -> MediaStream
let negotiation = Promise.resolve();
let qualityTimer = null;
let sessionPose = null;           // the "pose" channel: the patient's estimator and sender, the viewers' skeletons
let evidenceTimer = null;         // a patient's own evidence of its uplink, once a second (session/own-evidence.js)
let negotiated = false;           // the first Negotiate (which carries the start mode) is done
const lastInbound = new Map();    // participantId -> { packets, lost, frames, at }
const localQuality = new Map();   // participantId -> what this page measures of them
const decodedVideo = new Map();   // participantId -> { width, height, fps } this page decodes of them
const qualityRank = { unknown: 0, good: 1, fair: 2, poor: 3 };

// A participant's dot shows the worse of two views: their uplink as the server receives it (ParticipantUpdated)
// and what this page receives of them.
function paintQuality(id) {
  const dot = document.querySelector(`[data-testid="quality-${id}"]`);
  if (!dot) return;
  const server = state.participants.get(id)?.quality ?? 'unknown';
  const local = localQuality.get(id) ?? 'unknown';
  const quality = qualityRank[server] >= qualityRank[local] ? server : local;
  dot.className = `quality ${quality}`;
  dot.dataset.quality = quality;
  // Not by colour alone: the dot's shape (app.css) and a word say it too.
  const text = dot.parentElement?.querySelector('.quality-text');
  if (text) text.textContent = quality === 'unknown' ? '' : t(`quality.${quality}`);
  dot.title = qualityTitle({ quality, server, local, video: decodedVideo.get(id) ?? null, ...linkView(state.linkStats, id) });
}

window.telerehab = {
  state,
  // Per remote participant: what this page decodes from them (getStats inbound-rtp).
  async inboundStats() {
    const result = {};
    if (!pc) return result;
    const stats = await pc.getStats();
    for (const report of stats.values()) {
      if (report.type !== 'inbound-rtp') continue;
      const owner = ownerOfTrackIdentifier(report.trackIdentifier) ?? ownerOfMid(report.mid);
      if (!owner) continue;
      const entry = result[owner] ??= { framesDecoded: 0, audioPacketsReceived: 0, videoPacketsReceived: 0 };
      if (report.kind === 'video') {
        entry.framesDecoded += report.framesDecoded ?? 0;
        entry.videoPacketsReceived += report.packetsReceived ?? 0;
      } else {
        entry.audioPacketsReceived += report.packetsReceived ?? 0;
      }
    }
    return result;
  },
  invoke: (method, ...args) => hub.invoke(method, ...args),
  // The participant a received track (MediaStreamTrack.id) comes from, as this page's subscriptions say.
  trackOwner: (trackId) => ownerOfTrackIdentifier(trackId),
  // Restarts ICE as a network change would (reason 'network-change'); true when a restart started.
  restartIce: () => restartIce('network-change'),
  // The ICE ufrags of this page's current local and remote (the server's) descriptions, and the ufrag and port of the
  // local candidate its selected pair uses (and the remote candidate's ufrag, where the browser reports it).
  async iceUfrags() {
    if (!pc) return null;
    let selected = null;
    let selectedRemote = null;
    let port = null;
    const stats = await pc.getStats();
    for (const report of stats.values()) {
      if (report.type !== 'transport' || !report.selectedCandidatePairId) continue;
      const pair = stats.get(report.selectedCandidatePairId);
      const candidate = stats.get(pair?.localCandidateId);
      selected = candidate?.usernameFragment ?? null;
      selectedRemote = stats.get(pair?.remoteCandidateId)?.usernameFragment ?? null;
      port = candidate?.port ?? null;
    }
    return {
      local: iceUfragOf(pc.localDescription?.sdp), remote: iceUfragOf(pc.remoteDescription?.sdp),
      selected, selectedRemote, port, connectionState: pc.connectionState,
    };
  },
  // Pose in the session: the channel's state, frames sent and dropped, and per sender what this page received.
  pose: () => sessionPose?.stats() ?? null,
  // Sends one pose (33 landmarks) on the pose channel as the estimator would (replays of recorded keypoints).
  sendPose: (landmarks) => sessionPose?.sender.offer(landmarks) ?? 'no-session',
};

function ownerOfTrackIdentifier(trackIdentifier) {
  for (const { transceiver, track } of subscriptions.values()) {
    if (transceiver.receiver.track?.id === trackIdentifier) return track.participantId;
  }
  return null;
}

function ownerOfMid(mid) {
  for (const { transceiver, track } of subscriptions.values()) {
    if (transceiver.mid === mid) return track.participantId;
  }
  return null;
}

// A new screen takes the focus to its heading (a screen reader reads where the person now is); the call screen's
// goes to its first control instead, the one most often needed.
function show(screen) {
  const changed = state.screen !== screen;
  state.screen = screen;
  for (const name of screens) $(`screen-${name}`).hidden = name !== screen;
  document.body.dataset.screen = screen;
  if (!changed) return;
  const target = screen === 'call' ? $('mic-button') : $(`screen-${screen}`).querySelector('h1');
  target?.focus({ preventScroll: true });
}

function fail(key, params = {}) {
  state.error = t(key, params);
  say($('error-text'), key, params);
  show('error');
}

// The notice line: a message from the catalogue (key and its parameters), or null to hide it. Also announced.
function notify(key, params = {}) {
  state.notice = key ? t(key, params) : null;
  say($('notice'), key, params);
  $('notice').hidden = !key;
  if (key) announce(key, params);
}

// Says something to screen readers through the page's live region (status changes that have no place on screen).
function announce(key, params = {}) {
  const region = $('announcer');
  say(region, null);
  // A new node's text in a cleared region is announced even when it repeats the last one.
  setTimeout(() => say(region, key, params), 50);
}

// Hub errors come as "HubException: <code>: <sentence>": the page says them in its own words, from the catalogue
// (session/errors.js); the server's English sentence only for a code the page does not know.
function reason(error) {
  const { key, params } = errorMessage(error);
  return t(key, params);
}

// The links to /check carry the page's language.
function paintCheckLinks() {
  for (const link of document.querySelectorAll('.check-link')) link.href = `/check?lang=${language().code}`;
}

// ---------------------------------------------------------------- preview

async function startPreview(audioDeviceId, videoDeviceId) {
  localStream?.getTracks().forEach((t) => t.stop());
  localStream = await navigator.mediaDevices.getUserMedia({
    audio: audioDeviceId ? { deviceId: { exact: audioDeviceId } } : true,
    video: videoDeviceId ? { deviceId: { exact: videoDeviceId }, width: 640, height: 360 } : { width: 640, height: 360 },
  });
  $('preview-video').srcObject = localStream;
}

async function fillDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [select, kind] of [[$('camera-select'), 'videoinput'], [$('mic-select'), 'audioinput']]) {
    select.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) => {
      const option = document.createElement('option');
      option.value = d.deviceId;
      if (d.label) option.textContent = d.label;
      else say(option, kind === 'videoinput' ? 'join.preview.cameraN' : 'join.preview.microphoneN', { n: i + 1 });
      return option;
    }));
  }
}

function tokenFromLink() {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : '';
  return decodeURIComponent(hash.startsWith('t=') ? hash.slice(2) : hash);
}

// Reads the token's payload (not trusted: the server checks it) to greet the user before joining.
function peekToken(token) {
  try {
    const payload = token.split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload + '='.repeat((4 - payload.length % 4) % 4)));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- hub

// The hub connection reconnects by itself (SignalR's automatic reconnection, session/reconnect.js's schedule) and takes
// this participant's place back (Resume); once SignalR gives up, the page opens new connections of its own. Media keeps
// flowing meanwhile: the server keeps the place and the media connection for its grace period.
async function connectHub() {
  hub = new signalR.HubConnectionBuilder()
    .withUrl('/hubs/session')
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (context) => reconnectDelay(context, state.me?.reconnectGraceSeconds) })
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  const connection = hub;

  hub.on('ParticipantJoined', (p) => { upsertParticipant(p); });
  hub.on('ParticipantUpdated', (p) => { upsertParticipant(p); });
  hub.on('ParticipantLeft', ({ participantId }) => removeParticipant(participantId));
  hub.on('TracksChanged', (tracks) => { state.tracks = tracks; renegotiate(); });
  hub.on('WaitingRoomChanged', (waiting) => {
    const known = new Set(state.waiting.map((p) => p.id));
    const arrived = waiting.filter((p) => !known.has(p.id));
    state.waiting = waiting;
    renderWaitingList();
    if (arrived.length) announce('join.announce.waiting', { name: arrived.map((p) => p.displayName).join(t('list.separator')) });
  });
  hub.on('Admitted', (result) => { enterCall(result); });
  hub.on('MutedByTherapist', ({ kind }) => {
    setLocalMuted(kind, true);
    notify(kind === 'audio' ? 'join.notice.mutedByTherapist' : 'join.notice.cameraOffByTherapist');
  });
  // The server sets what this page sends: the therapist holding a mode (the page keeps it until released), or the
  // weak-link ladder (docs/weak-links.md), which may also ask for a trial of the lowest video layer while in audio +
  // pose; the trial's video goes to nobody, it only shows the server whether the uplink carries video again.
  hub.on('ModeChanged', ({ mode, reason: why, held, trialKbps }) => {
    $('movement-only-button').disabled = held;
    // The server has spoken: its decision wins over the page's own (a report not yet sent is dropped).
    state.modeChangedAt = performance.now();
    state.held = held;
    state.ownStepDown = null;
    // Video came back by a trial: the session measured the link itself, so the last check no longer starts the next.
    if (why === 'recovered') forgetCheck(localStorage);
    const audioPose = mode === 'audio+pose';
    const trial = audioPose && !held ? Math.max(0, trialKbps ?? 0) : 0;
    if (audioPose === state.movementOnly && why === state.modeReason) {
      // Only the trial changed: nothing to say. A trial starts for its first second at a fraction of its rate: its
      // first frame is a key frame, which the encoder sizes to the rate, and on a weak link the voice waits behind it.
      const starting = trial > 0 && state.trialKbps === 0;
      state.trialKbps = trial;
      state.trialWarmUntil = starting ? performance.now() + TRIAL_WARM_UP_MS : 0;
      applyVideoEncodings().catch(() => {});
      if (starting) setTimeout(() => applyVideoEncodings().catch(() => {}), TRIAL_WARM_UP_MS + 10);
      return;
    }
    state.modeReason = why;
    state.trialKbps = trial;
    const message = !audioPose
      ? (why === 'recovered' ? 'join.notice.recovered'
        : why === '' && state.movementOnly ? 'join.notice.videoAllowed' : null)
      : why === 'therapist' ? 'join.notice.heldByTherapist'
        : why === 'check' ? 'start.checkStart'
          : WEAK_MESSAGE;
    setMovementOnly(audioPose, message);
  });
  // Someone in the room is on a weak link (or no longer): the voice at the server's rate, and a renegotiation, after
  // which the server's answer asks for 60 ms packets (or 20 ms again).
  hub.on('AudioRate', ({ maxKbps, maxPoseFps }) => {
    state.audioMaxKbps = Math.max(0, maxKbps ?? 0);
    state.poseMaxFps = Math.max(0, maxPoseFps ?? 0);
    applyAudioRate().catch(() => {});
    if (pc) renegotiate();
  });
  hub.on('Removed', () => endCall('join.ended.removed'));
  hub.on('PublishLayers', ({ mid, activeRids }) => { publishLayers(mid, activeRids).catch(() => {}); });
  hub.on('LinkStats', (stats) => {
    state.linkStats = stats;
    considerPoseFiles();
    for (const id of state.participants.keys()) if (id !== state.me?.participantId) paintQuality(id);
  });
  hub.on('RoomLocked', ({ locked }) => { state.locked = locked; renderLock(); });
  // The therapist put someone in focus (or nobody): a patient's (or observer's) page makes that video the large one.
  hub.on('FocusChanged', ({ participantId }) => {
    setRoomFocus(participantId);
    if (state.me?.role === 'therapist') return;
    const focused = participantId ? state.participants.get(participantId) : null;
    if (focused && participantId !== state.me?.participantId) announce('join.announce.focus', { name: focused.displayName });
    else if (!participantId) announce('join.announce.focusTherapist');
  });
  hub.on('SessionEnded', () => endCall('join.ended.sessionEnded'));
  hub.on('Replaced', () => endCall(REPLACED_MESSAGE));
  hub.onreconnecting(() => setConnection('reconnecting'));
  hub.onreconnected(() => { if (hub === connection) resume(); });
  hub.onclose(() => {
    if (hub !== connection || !inSession()) return;
    if (state.me?.resumeId) connectAgain();
    else endCall('join.ended.lost');
  });
  await hub.start();
}

const REPLACED_MESSAGE = 'join.ended.replaced';

function inSession() {
  return state.screen === 'call' || state.screen === 'waiting';
}

// The live region (role="status") says "Reconnecting..." while this page's hub connection is away and "Connected" once
// its place is back, and who else in the room is reconnecting.
function setConnection(connection) {
  state.connection = connection;
  paintConnection();
}

function paintConnection() {
  const others = [...state.participants.values()]
    .filter((p) => p.state === 'reconnecting' && p.id !== state.me?.participantId).map((p) => p.displayName);
  const text = inSession() ? connectionMessage(state.connection, others) : '';
  const status = $('connection-status');
  if (status.textContent !== text) status.textContent = text;
  status.dataset.connection = state.connection;
  status.classList.toggle('away', state.connection === 'reconnecting');
}

// On a new hub connection: take the place back. Media kept: the same peer connection renegotiates to catch up with the
// tracks; media gone (the server's media connection ended while away) or the place no longer kept: a new one.
async function resume() {
  if (!state.me?.resumeId || !inSession()) return;
  try {
    const result = await hub.invoke('Resume', { token: tokenFromLink(), resumeId: state.me.resumeId });
    state.resumes++;
    await resumed(result, result.keepMedia);
  } catch (error) {
    switch (resumeOutcome(error)) {
      case 'join': await joinAgain(); break;
      case 'replaced': endCall(REPLACED_MESSAGE); break;
      case 'end': endCall('join.ended.reason', { reason: reason(error) }); break;
      default: break; // the connection dropped again: SignalR (or connectAgain) tries once more
    }
  }
}

async function joinAgain() {
  try {
    const result = await hub.invoke('Join', tokenFromLink());
    state.resumes++;
    await resumed(result, false);
  } catch (error) {
    if (resumeOutcome(error) === 'retry') return;
    endCall('join.ended.reason', { reason: reason(error) });
  }
}

async function resumed(result, keepMedia) {
  setConnection('connected');
  if (result.state !== 'joined') {
    closeMedia();
    state.me = result;
    show('waiting');
    return;
  }
  if (!keepMedia || !pc) {
    closeMedia();
    await enterCall(result);
    return;
  }
  state.me = result;
  state.locked = result.locked;
  state.participants = new Map(result.participants.map((p) => [p.id, p]));
  state.tracks = result.tracks;
  setRoomFocus(result.focus, false);
  // Muted by the therapist while away (its event went to the old connection): the server already holds it back.
  const self = state.participants.get(result.participantId);
  if (self?.audioMuted && !isLocalMuted('audio')) setLocalMuted('audio', true);
  renderLock();
  renderTiles();
  renderWaitingList();
  paintConnection();
  await renegotiate();
}

// SignalR gave up reconnecting: new connections, backing off, until one answers; then the place is resumed (or, when
// the server no longer keeps it, joined afresh with the link).
let connectingAgain = false;
async function connectAgain() {
  if (connectingAgain) return;
  connectingAgain = true;
  setConnection('reconnecting');
  try {
    for (let attempt = 0; inSession(); attempt++) {
      await new Promise((done) => setTimeout(done, newConnectionDelay(attempt)));
      if (!inSession()) return;
      try {
        await connectHub();
      } catch {
        continue;
      }
      await resume();
      return;
    }
  } finally {
    connectingAgain = false;
  }
}

const WEAK_MESSAGE = 'join.notice.weak';

async function join() {
  $('join-button').disabled = true;
  try {
    await connectHub();
    const result = await hub.invoke('Join', tokenFromLink());
    state.me = result;
    if (result.state === 'waiting') {
      show('waiting');
      paintConnection();
      return;
    }
    await enterCall(result);
  } catch (error) {
    await hub?.stop();
    fail('join.error.reason', { reason: reason(error) });
  }
}

async function enterCall(result) {
  state.me = result;
  state.locked = result.locked;
  state.participants = new Map(result.participants.map((p) => [p.id, p]));
  state.tracks = result.tracks;
  setRoomFocus(result.focus, false);
  show('call');
  paintConnection();
  $('call-title').textContent = result.title;
  $('tiles').classList.toggle('one-to-one', result.kind === 'one-to-one');
  $('therapist-panel').hidden = result.role !== 'therapist';
  $('panel-button').hidden = result.role !== 'therapist';
  $('focus-me-button').hidden = result.role !== 'therapist' || result.kind !== 'group';
  layout.setRole(result.role);
  announce('join.announce.admitted');
  renderLock();
  renderTiles();
  renderWaitingList();

  pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  pc.ontrack = (event) => {
    const owner = [...subscriptions.values()].find((s) => s.transceiver === event.transceiver)?.track.participantId
      ?? event.streams[0]?.id;
    if (!owner) return;
    let stream = remoteStreams.get(owner);
    if (!stream) { stream = new MediaStream(); remoteStreams.set(owner, stream); }
    for (const old of stream.getTracks().filter((t) => t.kind === event.track.kind)) stream.removeTrack(old);
    stream.addTrack(event.track);
    renderTiles();
  };
  pc.onconnectionstatechange = () => {
    const connectionState = pc?.connectionState;
    clearTimeout(iceRestartTimer);
    if (connectionState === 'failed') {
      if (!restartIce('failed')) notify('join.notice.mediaFailed');
    } else if (connectionState === 'disconnected') {
      const since = performance.now();
      iceRestartTimer = setTimeout(() => restartIce('disconnected', performance.now() - since), ICE_RESTART_AFTER_DISCONNECTED_MS);
    }
  };
  if (result.role !== 'observer' && localStream) {
    for (const track of localStream.getTracks()) addSendTransceiver(track);
  }
  // Before the first offer, so that the offer negotiates the data channel section.
  sessionPose = new SessionPose(pc, { role: result.role });
  $('own-pose-button').hidden = result.role !== 'patient';
  $('movement-only-button').hidden = result.role !== 'patient' || !localStream?.getVideoTracks().length;
  renderTiles();
  updatePose();
  qualityTimer = setInterval(() => { updateQuality(); }, 2000);
  if (result.role === 'therapist') anglesTimer = setInterval(paintFocusAngles, 500);
  // A patient whose last connection test found the link too weak for video starts in audio + pose, before any video
  // goes out, and says so in its first Negotiate: the server's ladder starts there too and tries video back by itself.
  const sendsVideo = result.role === 'patient' && !!localStream?.getVideoTracks().length;
  state.startMode = sendsVideo ? startModeFrom(readCheck(localStorage, Date.now())) : null;
  if (state.startMode) {
    state.movementOnly = true;
    state.modeReason = state.startMode.reason;
    paintMovementOnly();
    notify(state.startMode.message);
    await applyVideoEncodings().catch(() => {}); // before the first offer where the browser allows it
  }
  if (sendsVideo) evidenceTimer = setInterval(() => { considerOwnEvidence().catch(() => {}); }, 1000);
  // "?pose=off" in the link turns movement tracking off on this device (a phone too weak to run it beside the call,
  // or a patient who does not want it): no estimator, no files fetched, the channel stays open but silent.
  if (result.role === 'patient' && new URLSearchParams(location.search).get('pose') === 'off') {
    state.poseFiles.state = 'off';
    showPoseFiles();
  } else if (result.role === 'patient') {
    checkPoseFiles();
  }
  await renegotiate();
  if (state.startMode && state.movementOnly && state.modeReason === state.startMode.reason) {
    await setMovementOnly(true, state.startMode.message); // now that the encodings are negotiated; and video muted
  }
  await applyAudioRate().catch(() => {}); // a weak spell the room was in when this page joined
}

// ---------------------------------------------------------------- pose estimator files (patients)
// The session never waits for them: without them it runs without movement tracking and says why; they are
// fetched behind the call only while the link has plenty to spare (session/pose-files.js), and once stored,
// pose can start from this device's copy (sw.js) without touching the network.

let poseManifest = null;
let poseFetch = null; // AbortController of the background download

function showPoseFiles() {
  const message = poseFilesMessage(state.poseFiles);
  $('pose-files').textContent = message;
  $('pose-files').hidden = !message;
  updatePose();
}

// The patient's estimator runs while in the call with its files stored and the camera on (session/pose-send.js).
function updatePose() {
  sessionPose?.update({
    inCall: state.screen === 'call', filesStored: state.poseFiles.state === 'stored', cameraOn: !isLocalMuted('video'),
    stream: localStream, files: poseManifest ? urlMap(poseManifest) : null,
  });
}

async function checkPoseFiles() {
  try {
    poseManifest = await fetchManifest();
    const status = await storedStatus(poseManifest);
    state.poseFiles.totalBytes = status.totalBytes;
    state.poseFiles.loadedBytes = status.storedBytes;
    state.poseFiles.state = status.noCache ? 'unavailable' : status.complete ? 'stored' : 'missing';
  } catch {
    state.poseFiles.state = 'missing';
  }
  showPoseFiles();
  considerPoseFiles();
  navigator.connection?.addEventListener?.('change', considerPoseFiles);
}

function considerPoseFiles() {
  const files = state.poseFiles;
  if (!poseManifest || (files.state !== 'missing' && files.state !== 'fetching')) return;
  const decision = backgroundFetchDecision({
    stored: false, connection: navigator.connection ?? null,
    downlinkKbps: state.linkStats?.estimateKbps ?? null, audioOnly: isAudioOnly(state.linkStats),
  });
  files.reason = decision.reason;
  if (decision.fetch && !poseFetch) fetchPoseFiles();
  else if (!decision.fetch && poseFetch) poseFetch.abort();
}

async function fetchPoseFiles() {
  const controller = new AbortController();
  poseFetch = controller;
  state.poseFiles.state = 'fetching';
  showPoseFiles();
  try {
    const status = await downloadMissing(poseManifest, {
      signal: controller.signal,
      onProgress: ({ loadedBytes, totalBytes }) => { Object.assign(state.poseFiles, { loadedBytes, totalBytes }); showPoseFiles(); },
    });
    state.poseFiles.state = status.complete ? 'stored' : 'missing';
  } catch {
    state.poseFiles.state = 'missing'; // stopped (the link got worse, or the call ended): what arrived is kept
  } finally {
    poseFetch = null;
    showPoseFiles();
  }
}

// Video goes out as two simulcast encodings of the 640x360 capture, low to high (the SFU takes their order as the
// spatial layers; browsers send at most two layers at this size), each with three temporal layers: the server gives
// every receiver what its link carries, from 640 px at 30 frames/s down to 320 px at 7.5 (docs/congestion.md), and
// tells this page which encodings nobody needs so they stop using the uplink ('PublishLayers'). The two caps together
// are what Chromium gives a single 640x360 stream (1.7 Mbit/s), so the page never sends more than a call without the
// server: a sender whose layers add up to more than a 4G uplink carries fills the link's queue, its delay-based
// estimate backs off to a fraction of the link, and the picture saws up and down where a direct call stays steady.
// A trial of the lowest layer begins at a third of its rate for a second (see the ModeChanged handler).
const TRIAL_WARM_UP_MS = 1000;
const TRIAL_WARM_UP_SHARE = 1 / 3;

const simulcastEncodings = [
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 150_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_550_000 },
];
// What Chromium gives a single 640x360 stream: the top encoding may use what the paused ones leave of it (in a 1:1 call
// on a good link the server pauses 'h', and the therapist then gets what a direct call gets).
const SINGLE_STREAM_CAP = 1_700_000;

// The server says which of this page's simulcast encodings some receiver needs; the others stop using the uplink.
const neededRids = new Map(); // mid -> rids the server wants (absent: all)
async function publishLayers(mid, activeRids) {
  neededRids.set(mid, activeRids);
  await applyVideoEncodings();
}

// Sets each video encoding active or not: none while the patient sends movement only (but the lowest, capped, during
// the server's trial), else those the server needs, at their usual caps.
async function applyVideoEncodings() {
  for (const transceiver of pc?.getTransceivers() ?? []) {
    if (transceiver.sender.track?.kind !== 'video') continue;
    const parameters = transceiver.sender.getParameters();
    if (!parameters.encodings?.length) continue;
    const needed = neededRids.get(transceiver.mid);
    let changed = false;
    const isActive = (encoding, index) => (state.movementOnly && state.trialKbps > 0 && index === 0)
      || (!state.movementOnly && (!encoding.rid || !needed || needed.includes(encoding.rid)));
    const usualOf = (encoding) => simulcastEncodings.find((e) => e.rid === encoding.rid);
    const top = parameters.encodings.length - 1;
    parameters.encodings.forEach((encoding, index) => {
      const trial = state.movementOnly && state.trialKbps > 0 && index === 0;
      const active = isActive(encoding, index);
      if (encoding.active !== active) { encoding.active = active; changed = true; }
      const usual = usualOf(encoding);
      const warming = trial && performance.now() < state.trialWarmUntil;
      // The top encoding takes what the lower ones leave of a single stream's cap (a lower one keeps its own cap when the
      // top is paused: 320 px needs no more).
      const others = parameters.encodings.reduce((sum, e, i) => sum + (i !== index && isActive(e, i) ? usualOf(e)?.maxBitrate ?? 0 : 0), 0);
      const maxBitrate = trial ? Math.round(state.trialKbps * 1000 * (warming ? TRIAL_WARM_UP_SHARE : 1))
        : usual && index === top && top > 0 ? SINGLE_STREAM_CAP - others : usual?.maxBitrate;
      if (maxBitrate !== undefined && encoding.maxBitrate !== maxBitrate) { encoding.maxBitrate = maxBitrate; changed = true; }
      // A trial at half the layer's size: its first frame, a key frame, is what a weak link queues longest (on EDGE a
      // full one holds the voice up for more than half a second); the rate is what the trial measures.
      const scale = usual?.scaleResolutionDownBy === undefined ? undefined : usual.scaleResolutionDownBy * (trial ? 2 : 1);
      if (scale !== undefined && encoding.scaleResolutionDownBy !== scale) { encoding.scaleResolutionDownBy = scale; changed = true; }
    });
    if (changed) await transceiver.sender.setParameters(parameters);
  }
}

// While someone in the room is on a weak link the voice is what must get through: Opus at the server's cap (12 kbit/s:
// wideband speech stays clear, and its in-band FEC still follows the loss the server reports) leaves the rest of an
// EDGE link to the packet overhead, the keypoints and the retransmissions. The browser's own rate when the spell ends.
// The keypoints too: at most the server's rate (8 frames a second in a weak spell, 4 on a link that cannot carry even
// that, such as GPRS; 8 when a server does not say).
const WEAK_LINK_POSE_FPS = 8;
async function applyAudioRate() {
  sessionPose?.sender.setMaxRate(state.audioMaxKbps > 0 ? state.poseMaxFps || WEAK_LINK_POSE_FPS : 0);
  const cap = state.audioMaxKbps > 0 ? state.audioMaxKbps * 1000 : undefined;
  for (const transceiver of pc?.getTransceivers() ?? []) {
    if (transceiver.sender.track?.kind !== 'audio') continue;
    const parameters = transceiver.sender.getParameters();
    const encoding = parameters.encodings?.[0];
    if (!encoding || encoding.maxBitrate === cap) continue;
    if (cap === undefined) delete encoding.maxBitrate;
    else encoding.maxBitrate = cap;
    await transceiver.sender.setParameters(parameters);
  }
}

function addSendTransceiver(track) {
  const init = { direction: 'sendonly', streams: [localStream] };
  if (track.kind !== 'video') return pc.addTransceiver(track, init);
  try {
    return pc.addTransceiver(track, { ...init, sendEncodings: simulcastEncodings.map((e) => ({ ...e, scalabilityMode: 'L1T3' })) });
  } catch {
    // A browser without temporal scalability for VP8: simulcast alone.
    return pc.addTransceiver(track, { ...init, sendEncodings: simulcastEncodings.map((e) => ({ ...e })) });
  }
}

// ICE restart (session/reconnect.js): new ICE credentials on the same peer connection, which keeps its DTLS, SRTP and
// tracks; the server takes the new credentials from the next offer (docs/signalling.md, "ICE restart"). While the hub
// is away the restart waits in the peer connection for the renegotiation that follows the resume.
let iceRestartTimer = null;
let lastIceRestartAt = -Infinity;
function restartIce(reason, disconnectedForMs = 0) {
  if (!pc || state.screen !== 'call') return false;
  if (!shouldRestartIce({ reason, connectionState: pc.connectionState, disconnectedForMs, sinceLastRestartMs: performance.now() - lastIceRestartAt })) return false;
  lastIceRestartAt = performance.now();
  state.iceRestarts++;
  state.lastIceRestart = reason;
  pc.restartIce();
  if (hub?.state === signalR.HubConnectionState.Connected) renegotiate();
  return true;
}
navigator.connection?.addEventListener?.('change', () => restartIce('network-change'));
window.addEventListener('online', () => restartIce('online'));

// One negotiation at a time; the client is always the offerer (docs/signalling.md).
function renegotiate() {
  negotiation = negotiation.then(negotiateOnce).catch((error) => notify('join.notice.mediaUpdateFailed', { reason: reason(error) }));
  return negotiation;
}

async function negotiateOnce() {
  if (!pc || pc.signalingState === 'closed') return;
  const wanted = new Map(state.tracks.map((t) => [t.trackId, t]));
  for (const [trackId, subscription] of subscriptions) {
    if (!wanted.has(trackId)) {
      subscription.transceiver.stop();
      subscriptions.delete(trackId);
      const stream = remoteStreams.get(subscription.track.participantId);
      const receiverTrack = subscription.transceiver.receiver.track;
      if (stream && receiverTrack) stream.removeTrack(receiverTrack);
    }
  }
  for (const track of wanted.values()) {
    if (!subscriptions.has(track.trackId)) {
      subscriptions.set(track.trackId, { transceiver: pc.addTransceiver(track.kind, { direction: 'recvonly' }), track });
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  const list = [...subscriptions.entries()]
    .filter(([, s]) => s.transceiver.mid != null)
    .map(([trackId, s]) => ({ mid: s.transceiver.mid, trackId }));
  const request = { sdp: pc.localDescription.sdp, subscriptions: list };
  if (!negotiated && state.startMode) request.startMode = state.startMode.mode;
  let answer;
  try {
    answer = await hub.invoke('Negotiate', request);
  } catch (error) {
    // No answer (the hub connection dropped, or a refusal): back to the last agreed description; the next negotiation
    // (after a resume, or the next change) offers again.
    if (pc?.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
    throw error;
  }
  negotiated = true;
  if (answer.ladder) ownEvidence.follow(answer.ladder); // the server's thresholds are the page's too
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
}

// ---------------------------------------------------------------- rendering

function upsertParticipant(participant) {
  state.participants.set(participant.id, participant);
  renderTiles();
  paintQuality(participant.id);
  paintConnection();
}

function removeParticipant(id) {
  state.participants.delete(id);
  paintConnection();
  remoteStreams.delete(id);
  lastInbound.delete(id);
  localQuality.delete(id);
  decodedVideo.delete(id);
  sessionPose?.detachTile(id);
  renderTiles();
}

// The room's focus (FocusChanged, JoinResult.focus): the layout's, and the therapist's buttons that say who has it.
function setRoomFocus(id, render = true) {
  state.focus = id ?? null;
  layout.setRoomFocus(state.focus);
  if (!render) return;
  paintControls();
  renderTiles();
}

// Therapist: put someone in focus for the room (null: nobody, the patients see the therapist); its own screen shows
// them too.
function setFocus(id) {
  if (id) layout.choose(id);
  renderTiles();
  hub.invoke('SetFocus', id).catch((e) => notify('join.notice.reason', { reason: reason(e) }));
}

function renderLock() {
  say($('lock-state'), state.locked ? 'join.lock.locked' : null);
  say($('lock-button'), state.locked ? 'join.lock.unlock' : 'join.lock.lock');
}

function renderWaitingList() {
  paintControls();
  if (state.waiting.length === 0) {
    const empty = document.createElement('li');
    say(empty, 'join.panel.nobody');
    $('waiting-list').replaceChildren(empty);
    return;
  }
  $('waiting-list').replaceChildren(...state.waiting.map((p) => {
    const item = document.createElement('li');
    item.dataset.testid = `waiting-${p.id}`;
    const who = document.createElement('span');
    say(who, 'join.panel.who', { name: p.displayName, role: t(`role.${p.role}`) });
    const admit = document.createElement('button');
    say(admit, 'join.panel.admit');
    say(admit, 'join.panel.admitName', { name: p.displayName }, 'aria-label');
    item.append(who, ' ');
    admit.dataset.testid = `admit-${p.id}`;
    admit.onclick = () => hub.invoke('Admit', p.id).catch((e) => notify('join.notice.reason', { reason: reason(e) }));
    item.append(admit);
    return item;
  }));
}

function renderTiles() {
  const tiles = $('tiles');
  const present = new Set();
  const me = state.me;
  const entries = [...state.participants.values()].filter((p) => p.state !== 'left' && p.state !== 'waiting');
  for (const participant of entries) {
    const isMe = participant.id === me?.participantId;
    if (isMe && me.role === 'observer') continue;
    present.add(participant.id);
    let tile = tiles.querySelector(`[data-participant="${participant.id}"]`);
    if (!tile) {
      tile = document.createElement('div');
      tile.className = 'tile';
      tile.dataset.participant = participant.id;
      tile.dataset.testid = `tile-${participant.id}`;
      tile.setAttribute('role', 'group');
      const media = document.createElement('div');
      media.className = 'media';
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      video.muted = isMe;
      // The picture box takes the video's own shape, so the skeleton drawn over it lines up with the body.
      video.addEventListener('resize', () => {
        if (video.videoWidth && video.videoHeight) media.style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
      });
      const badge = document.createElement('span');
      badge.className = 'mode-badge';
      badge.dataset.testid = `mode-badge-${participant.id}`;
      badge.hidden = true;
      media.append(video);
      const name = document.createElement('div');
      name.className = 'name';
      const dot = document.createElement('span');
      dot.className = 'quality';
      dot.dataset.testid = `quality-${participant.id}`;
      const qualityText = document.createElement('span');
      qualityText.className = 'quality-text';
      const label = document.createElement('span');
      label.className = 'label';
      name.append(label, dot, qualityText);
      tile.append(media, badge, name); // the badge over the visible part of the picture (the picture may be cropped)
      if (me?.role === 'therapist' && !isMe) {
        // A therapist taps (or presses Enter on) someone's picture to put them in focus.
        video.addEventListener('click', () => { layout.choose(participant.id); renderTiles(); });
        tile.tabIndex = 0;
        tile.addEventListener('keydown', (event) => {
          if (event.target !== tile || (event.key !== 'Enter' && event.key !== ' ')) return;
          event.preventDefault();
          layout.choose(participant.id);
          renderTiles();
        });
      }
      if (me?.role === 'therapist' && !isMe) {
        const controls = document.createElement('div');
        controls.className = 'controls';
        const mute = document.createElement('button');
        say(mute, 'join.tile.mute');
        say(mute, 'join.tile.muteName', { name: participant.displayName }, 'aria-label');
        mute.dataset.testid = `mute-${participant.id}`;
        mute.onclick = () => hub.invoke('MuteParticipant', { participantId: participant.id, kind: 'audio' }).catch((e) => notify('join.notice.reason', { reason: reason(e) }));
        const remove = document.createElement('button');
        say(remove, 'join.tile.remove');
        say(remove, 'join.tile.removeName', { name: participant.displayName }, 'aria-label');
        remove.className = 'danger';
        remove.dataset.testid = `remove-${participant.id}`;
        remove.onclick = () => hub.invoke('RemoveParticipant', participant.id).catch((e) => notify('join.notice.reason', { reason: reason(e) }));
        controls.append(mute, remove);
        if (me.kind === 'group' && participant.role !== 'observer') {
          // Put this participant in focus for the room: the video every patient's page shows large.
          const focus = document.createElement('button');
          focus.className = 'put-in-focus';
          focus.dataset.testid = `focus-${participant.id}`;
          focus.onclick = () => setFocus(state.focus === participant.id ? null : participant.id);
          controls.append(focus);
        }
        if (participant.role === 'patient') {
          // Hold this patient in audio + movement (its video off, its movement as a skeleton), or let it go.
          const hold = document.createElement('button');
          hold.className = 'hold-mode';
          hold.dataset.testid = `hold-${participant.id}`;
          hold.onclick = () => {
            const held = state.participants.get(participant.id)?.modeReason === 'therapist';
            hub.invoke('HoldMode', { participantId: participant.id, mode: held ? 'auto' : 'audio+pose' }).catch((e) => notify('join.notice.reason', { reason: reason(e) }));
          };
          controls.append(hold);
        }
        tile.append(controls);
      }
      tiles.append(tile);
    }
    const video = tile.querySelector('video');
    // Everyone else's movement on their tile; a patient's own only when it asked to see it (the server then sends its
    // own frames back: "Show my movement").
    if (sessionPose && (!isMe || state.ownPose)) {
      sessionPose.attachTile(participant.id, tile, video);
      sessionPose.setVideoHidden(participant.id, !!participant.videoMuted);
    } else if (sessionPose?.hasTile(participant.id)) {
      sessionPose.detachTile(participant.id);
    }
    const stream = isMe ? localStream : remoteStreams.get(participant.id);
    if (stream && video.srcObject !== stream) video.srcObject = stream;
    const putInFocus = tile.querySelector('.put-in-focus');
    if (putInFocus) {
      say(putInFocus, 'join.tile.focus');
      say(putInFocus, 'join.tile.focusName', { name: participant.displayName }, 'aria-label');
      putInFocus.setAttribute('aria-pressed', String(state.focus === participant.id));
    }
    const hold = tile.querySelector('.hold-mode');
    if (hold) {
      const held = participant.modeReason === 'therapist';
      say(hold, 'join.tile.movementOnly');
      say(hold, 'join.tile.movementOnlyName', { name: participant.displayName }, 'aria-label');
      hold.setAttribute('aria-pressed', String(held));
    }
    tile.dataset.state = participant.state;
    const flags = [participant.state === 'reconnecting' ? t('join.tile.reconnecting') : null, participant.audioMuted ? t('join.tile.muted') : null,
      modeBadge(participant.mode, participant.modeReason) ?? (participant.videoMuted ? t('join.tile.cameraOff') : null)].filter(Boolean);
    const parts = [isMe ? t('join.tile.you', { name: participant.displayName }) : participant.displayName,
      participant.role === 'therapist' ? t('role.therapist') : null, flags.length ? flags.join(t('list.separator')) : null].filter(Boolean);
    tile.querySelector('.label').textContent = parts.join(' · ');
    tile.setAttribute('aria-label', isMe ? t('join.tile.ownPicture') : t('join.tile.picture', { name: participant.displayName }));
    const badge = tile.querySelector('.mode-badge');
    const mode = modeBadge(participant.mode, participant.modeReason);
    badge.textContent = mode ?? '';
    badge.hidden = !mode;
  }
  for (const tile of [...tiles.children]) {
    if (!present.has(tile.dataset.participant)) tile.remove();
  }
  layout.apply(entries, me?.participantId);
}

// Connection quality per remote participant, from what this page receives of them (loss and frame rate).
async function updateQuality() {
  if (!pc) return;
  const stats = await pc.getStats();
  const now = performance.now();
  const totals = new Map();
  for (const report of stats.values()) {
    if (report.type !== 'inbound-rtp') continue;
    const owner = ownerOfTrackIdentifier(report.trackIdentifier) ?? ownerOfMid(report.mid);
    if (!owner) continue;
    const t = totals.get(owner) ?? { packets: 0, lost: 0, frames: 0, hasVideo: false, width: 0, height: 0, fps: undefined };
    t.packets += report.packetsReceived ?? 0;
    t.lost += Math.max(0, report.packetsLost ?? 0);
    if (report.kind === 'video') {
      t.frames += report.framesDecoded ?? 0;
      t.hasVideo = true;
      if (report.frameWidth) { t.width = report.frameWidth; t.height = report.frameHeight; t.fps = report.framesPerSecond; }
    }
    totals.set(owner, t);
  }
  for (const [owner, t] of totals) {
    const last = lastInbound.get(owner);
    lastInbound.set(owner, { ...t, at: now });
    if (!last) continue;
    const packets = t.packets - last.packets;
    const lost = t.lost - last.lost;
    const seconds = (now - last.at) / 1000;
    const lossRate = packets + lost > 0 ? lost / (packets + lost) : 1;
    const fps = (t.frames - last.frames) / seconds;
    if (t.hasVideo) decodedVideo.set(owner, { width: t.width, height: t.height, fps: t.fps ?? fps });
    let quality = 'good';
    if (packets === 0 || lossRate > 0.1 || (t.hasVideo && fps < 5)) quality = 'poor';
    else if (lossRate > 0.02 || (t.hasVideo && fps < 15)) quality = 'fair';
    localQuality.set(owner, quality);
    paintQuality(owner);
  }
}

// The therapist's desk: the joint angles of the patient in focus, beside the video (those of the skeleton as drawn).
let anglesTimer = null;
function paintFocusAngles() {
  const angles = sessionPose?.stats().received[layout.focus]?.angles ?? {};
  const list = $('focus-angles');
  if (list.children.length !== JOINTS.length) {
    list.replaceChildren(...JOINTS.map(() => document.createElement('li')));
  }
  JOINTS.forEach((joint, i) => {
    const value = angles[joint.name];
    const text = t(value == null ? 'check.angleNone' : 'check.angle', { joint: t(`joint.${joint.name}`), degrees: Math.round(value ?? 0) });
    const item = list.children[i];
    if (item.textContent !== text) item.textContent = text;
    item.className = value == null ? 'hidden' : '';
  });
}

// ---------------------------------------------------------------- controls

function setLocalMuted(kind, muted) {
  for (const track of localStream?.getTracks() ?? []) if (track.kind === kind) track.enabled = !muted;
  paintControls();
  announce(kind === 'audio' ? (muted ? 'join.announce.micOff' : 'join.announce.micOn') : (muted ? 'join.announce.cameraOff' : 'join.announce.cameraOn'));
  updatePose(); // pose comes from the camera: camera off stops it too
  hub?.invoke('SetMuted', { kind, muted: muted || (kind === 'video' && state.movementOnly) }).catch((e) => notify('join.notice.reason', { reason: reason(e) }));
}

function isLocalMuted(kind) {
  return !(localStream?.getTracks().find((t) => t.kind === kind)?.enabled ?? false);
}

// The media side of the call ends (the call itself may go on with a new peer connection: see resumed()).
function closeMedia() {
  clearTimeout(iceRestartTimer);
  clearInterval(anglesTimer);
  clearInterval(qualityTimer);
  clearInterval(evidenceTimer);
  sessionPose?.close();
  sessionPose = null;
  pc?.close();
  pc = null;
  subscriptions.clear();
  remoteStreams.clear();
  neededRids.clear();
  lastInbound.clear();
  negotiation = Promise.resolve();
  negotiated = false;
}

function endCall(key, params = {}) {
  if (state.screen === 'ended') return;
  closeMedia();
  poseFetch?.abort();
  localStream?.getTracks().forEach((t) => t.stop());
  say($('ended-text'), key, params);
  show('ended');
  announce(key, params);
  paintConnection();
  hub?.stop();
}

$('join-button').addEventListener('click', join);
$('mic-button').addEventListener('click', () => { setLocalMuted('audio', !isLocalMuted('audio')); notify(null); });
$('camera-button').addEventListener('click', () => setLocalMuted('video', !isLocalMuted('video')));

// A patient may watch its own skeleton (to check its posture as the therapist sees it): the server sends the patient's
// own pose frames back while this is on.
async function setOwnPose(show) {
  const button = $('own-pose-button');
  button.disabled = true;
  try {
    await hub.invoke('SetOwnPoseView', show);
    state.ownPose = show;
    paintControls();
    renderTiles();
  } catch (e) {
    notify('join.notice.reason', { reason: reason(e) });
  } finally {
    button.disabled = false;
  }
}
$('own-pose-button').addEventListener('click', () => setOwnPose(!state.ownPose));

// "Movement only": the patient's video stops on the wire while the camera keeps running for the pose estimator, so
// the therapist sees the movement as a skeleton (the tile's "audio + movement" badge) and the uplink carries only
// audio and keypoints: for a connection too weak for video, or a patient who prefers not to be seen.
function paintMovementOnly() {
  paintControls();
}

// The control bar: each button keeps its name (whose microphone, whose camera) and says its state with aria-pressed.
function paintControls() {
  const controls = [
    ['mic-button', 'join.control.mic', 'join.control.micName', isLocalMuted('audio')],
    ['camera-button', 'join.control.camera', 'join.control.cameraName', isLocalMuted('video')],
    ['movement-only-button', 'join.control.movementOnly', 'join.control.movementOnlyName', state.movementOnly],
    ['own-pose-button', 'join.control.ownPose', 'join.control.ownPoseName', state.ownPose],
    ['focus-me-button', 'join.control.focusMe', 'join.control.focusMeName', state.focus === null],
  ];
  for (const [id, key, name, pressed] of controls) {
    const button = $(id);
    say(button.querySelector('.text'), key);
    say(button, name, {}, 'aria-label');
    button.setAttribute('aria-pressed', String(pressed));
  }
  const panel = $('panel-button');
  say(panel.querySelector('.text'), 'join.control.waiting', { count: state.waiting.length });
  say($('leave-button').querySelector('.text'), 'join.control.leave');
  say($('leave-button'), 'join.control.leaveName', {}, 'aria-label');
}

async function setMovementOnly(on, message = null, params = {}) {
  state.movementOnly = on;
  paintMovementOnly();
  notify(message ?? (on ? 'join.notice.movementOnly' : null), params);
  try {
    await applyVideoEncodings();
    await applyAudioRate();
  } catch (e) {
    notify('join.notice.mediaUpdateFailed', { reason: t('error.notStarted') });
  }
  hub?.invoke('SetMuted', { kind: 'video', muted: on || isLocalMuted('video') }).catch((e) => notify('join.notice.reason', { reason: reason(e) }));
}
$('movement-only-button').addEventListener('click', () => {
  state.trialKbps = 0; // the patient's own choice: no trial runs until the server asks again
  state.modeReason = '';
  state.ownStepDown = null;
  setMovementOnly(!state.movementOnly);
});
// ---------------------------------------------------------------- the page's own evidence (patients)
// The server's ladder decides from what reaches the SFU and tells this page (ModeChanged). On a 2G link the hub's
// messages can queue behind the media for seconds, so the page also watches its own sender once a second
// (session/own-evidence.js): starved by bandwidth for longer than the server takes to decide, and no word from the
// server, it steps down to audio + pose by itself and tells the server (ReportWeakUplink) as soon as it can; the
// server's ladder adopts it with its usual trials, and from its next ModeChanged on, the server's decision wins.

const ownEvidence = new OwnEvidence();

async function considerOwnEvidence() {
  if (!pc || state.screen !== 'call') return;
  if (state.ownStepDown && !state.ownStepDown.reported) reportOwnStepDown();
  const sample = senderSample((await pc.getStats()).values(), performance.now());
  const decision = ownEvidence.observe(sample, {
    mode: state.movementOnly ? 'audio+pose' : 'video', held: state.held, cameraOn: !isLocalMuted('video'),
    modeChangedAt: state.modeChangedAt,
  });
  window.telerehab.ownEvidence = ownEvidence.last;
  if (!decision) return;
  state.ownStepDown = { at: performance.now(), evidence: decision.evidence, reported: false, sending: false };
  state.trialKbps = 0;
  state.modeReason = 'device';
  await setMovementOnly(true, WEAK_MESSAGE);
  reportOwnStepDown();
}

// Tells the server, once the hub can carry it (on a slow hub the call waits; on a closed one the session ends anyway).
// A refusal while the server has not spoken since puts video back: the page never stays in a mode the server does
// not know of, where no trial would bring video back.
function reportOwnStepDown() {
  const own = state.ownStepDown;
  if (!own || own.reported || own.sending || hub?.state !== signalR.HubConnectionState.Connected) return;
  own.sending = true;
  hub.invoke('ReportWeakUplink', own.evidence).then(() => {
    own.reported = true;
  }, (error) => {
    own.sending = false;
    if (state.ownStepDown !== own) return; // the server spoke meanwhile: its decision stands
    state.ownStepDown = null;
    state.modeReason = '';
    setMovementOnly(false, 'join.notice.switchFailed', { reason: reason(error) });
  });
}

$('leave-button').addEventListener('click', async () => {
  await hub?.invoke('Leave').catch(() => {});
  endCall('join.ended.left');
});
// Closing the tab (or reloading it) leaves at once rather than being taken for a dropped connection: the others do not
// see a participant "reconnecting" who is gone.
window.addEventListener('pagehide', () => {
  if (inSession() && hub?.state === signalR.HubConnectionState.Connected) hub.invoke('Leave').catch(() => {});
});
$('panel-button').addEventListener('click', () => {
  const open = $('panel-button').getAttribute('aria-expanded') !== 'true';
  $('panel-button').setAttribute('aria-expanded', String(open));
  document.body.classList.toggle('panel-open', open);
  if (open) $('waiting-heading').focus?.();
});
$('focus-me-button').addEventListener('click', () => setFocus(null));
$('lock-button').addEventListener('click', () => hub.invoke('LockRoom', !state.locked).catch((e) => notify('join.notice.reason', { reason: reason(e) })));
$('end-button').addEventListener('click', () => hub.invoke('EndSession').catch((e) => notify('join.notice.reason', { reason: reason(e) })));
for (const select of [$('camera-select'), $('mic-select')]) {
  select.addEventListener('change', () => startPreview($('mic-select').value, $('camera-select').value)
    .catch((e) => notify('join.notice.noDevices', { reason: t(deviceErrorKey(e)) })));
}

async function main() {
  registerServiceWorker();
  await initLanguage();
  paintControls();
  paintCheckLinks();
  onLanguageChange(() => { paintCheckLinks(); paintControls(); renderTiles(); paintConnection(); showPoseFiles(); renderWaitingList(); });
  fillLanguageSwitch($('language-switch'));
  const token = tokenFromLink();
  const claims = token ? peekToken(token) : null;
  if (!claims) {
    fail('join.error.badLink');
    return;
  }
  show('preview');
  const name = claims.name ?? claims.displayName;
  say($('preview-who'), name ? 'join.preview.who' : 'join.preview.whoUnknown', { name });
  const check = claims.role === 'patient' ? readCheck(localStorage, Date.now()) : null;
  const start = startModeFrom(check);
  say($('preview-check'), start ? 'start.previewCheck' : null, { time: check ? formatTime(check.at) : '' });
  $('preview-check').hidden = !start;
  try {
    await startPreview();
    await fillDevices();
  } catch (error) {
    notify('join.notice.noDevices', { reason: t(deviceErrorKey(error)) });
  }
  $('join-button').disabled = false;
  if (new URLSearchParams(location.search).has('autojoin')) join();
}

main();
