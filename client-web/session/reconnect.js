// The session hub's reconnection, as pure decisions (node tests in tests/reconnect.test.mjs); join.js carries them out.
// docs/signalling.md, "Reconnecting": when the hub connection drops, the server keeps this participant's place (and its
// media connection) for a grace period; a new hub connection takes it back with Resume({ token, resumeId }).
import { t } from '../i18n/i18n.js';

// Waits before each automatic reconnection attempt (SignalR's withAutomaticReconnect): at once, then backing off to
// 2 s between attempts (after a long cut the page's media waits for the hub: ICE has failed and its restart needs the
// hub, so the wait between attempts is what the patient waits for once the network is back; an attempt while the
// network is away costs nothing but a failed connect), for as long as the server keeps the place (JoinResult.reconnectGraceSeconds) and a margin;
// then SignalR gives up and the page opens new connections on its own (NEW_CONNECTION_DELAYS_MS) for as long again.
export const RECONNECT_DELAYS_MS = [0, 1000, 2000];
export const DEFAULT_GRACE_SECONDS = 60;
export const GIVE_UP_MARGIN_MS = 10_000;
export const NEW_CONNECTION_DELAYS_MS = [2000, 5000, 10_000];

// SignalR's IRetryPolicy.nextRetryDelayInMilliseconds: a delay, or null to give up.
export function reconnectDelay({ previousRetryCount, elapsedMilliseconds }, graceSeconds = DEFAULT_GRACE_SECONDS) {
  const grace = (graceSeconds > 0 ? graceSeconds : DEFAULT_GRACE_SECONDS) * 1000;
  if (elapsedMilliseconds > grace + GIVE_UP_MARGIN_MS) return null;
  return RECONNECT_DELAYS_MS[Math.min(previousRetryCount, RECONNECT_DELAYS_MS.length - 1)];
}

// After SignalR gave up: the wait before the page's own attempt number `attempt` (0, 1, ...) at a new connection.
export function newConnectionDelay(attempt) {
  return NEW_CONNECTION_DELAYS_MS[Math.min(attempt, NEW_CONNECTION_DELAYS_MS.length - 1)];
}

// What to do with Resume's refusal (a hub error "HubException: <code>: <sentence>"), or a failure to reach the hub:
//   'join'     the place is no longer kept (away too long, or never admitted): join afresh with the link, new media
//   'replaced' another window or device took the place with the same link: stop, and say so
//   'end'      removed, ended, or the link no longer valid: stop, and say why
//   'retry'    no answer (the network is still away): try again on a new connection
export function resumeOutcome(error) {
  const text = String(error?.message ?? error ?? '');
  const match = /HubException: ([a-z-]+):/.exec(text) ?? /^([a-z-]+): /.exec(text);
  if (!match) return 'retry';
  switch (match[1]) {
    case 'not-found': return 'join';
    case 'forbidden': return /another window or device/.test(text) ? 'replaced' : 'end';
    case 'unauthorized':
    case 'ended': return 'end';
    default: return 'retry';
  }
}

// ICE restart (RFC 8445 §9; JSEP, RFC 8829 §4.1.11): the page restarts ICE on its peer connection, which keeps its
// DTLS and SRTP and its tracks, when the media connection failed, when it has stayed disconnected for a moment (a path
// that went away), or when the device's network changed (Wi-Fi to mobile data: the old path is gone). Not more often than
// every ICE_RESTART_MIN_INTERVAL_MS: a restart takes a round trip and its checks.
export const ICE_RESTART_AFTER_DISCONNECTED_MS = 2000;
export const ICE_RESTART_MIN_INTERVAL_MS = 5000;

// reason: 'failed' | 'disconnected' | 'network-change' | 'online'; disconnectedForMs: how long connectionState has
// been 'disconnected' (for that reason); sinceLastRestartMs: time since the page's last restart (Infinity: none).
export function shouldRestartIce({ reason, connectionState, disconnectedForMs = 0, sinceLastRestartMs = Infinity }) {
  if (connectionState === 'closed' || connectionState === 'new') return false;
  if (sinceLastRestartMs < ICE_RESTART_MIN_INTERVAL_MS) return false;
  switch (reason) {
    case 'failed': return connectionState === 'failed';
    case 'disconnected': return connectionState === 'disconnected' && disconnectedForMs >= ICE_RESTART_AFTER_DISCONNECTED_MS;
    case 'network-change':
    case 'online': return true;
    default: return false;
  }
}

// The ICE ufrag of a session description (its first a=ice-ufrag line), or null.
export function iceUfragOf(sdp) {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp ?? '')?.[1] ?? null;
}

// The live region's sentence about the connection. own: 'connected' | 'reconnecting'; others: the participants whose
// own connection is away (names), which only matter while this page is connected itself.
export function connectionMessage(own, reconnectingNames = []) {
  if (own === 'reconnecting') return t('connection.reconnecting');
  if (reconnectingNames.length === 1) return t('connection.otherReconnecting', { name: reconnectingNames[0] });
  if (reconnectingNames.length > 1) return t('connection.othersReconnecting', { names: reconnectingNames.join(t('list.separator')) });
  return t('connection.connected');
}
