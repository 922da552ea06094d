import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectionMessage, GIVE_UP_MARGIN_MS, iceUfragOf, newConnectionDelay, reconnectDelay, RECONNECT_DELAYS_MS, resumeOutcome,
  shouldRestartIce,
} from '../session/reconnect.js';
import { useEnglish } from './catalogue.mjs';

useEnglish();

test('ICE restarts: on failure, after 2 s disconnected, on a network change; never twice within 5 s', () => {
  assert.equal(shouldRestartIce({ reason: 'failed', connectionState: 'failed' }), true);
  assert.equal(shouldRestartIce({ reason: 'failed', connectionState: 'connected' }), false);
  assert.equal(shouldRestartIce({ reason: 'disconnected', connectionState: 'disconnected', disconnectedForMs: 1999 }), false);
  assert.equal(shouldRestartIce({ reason: 'disconnected', connectionState: 'disconnected', disconnectedForMs: 2000 }), true);
  assert.equal(shouldRestartIce({ reason: 'disconnected', connectionState: 'connected', disconnectedForMs: 5000 }), false);
  assert.equal(shouldRestartIce({ reason: 'network-change', connectionState: 'connected' }), true);
  assert.equal(shouldRestartIce({ reason: 'online', connectionState: 'disconnected' }), true);
  assert.equal(shouldRestartIce({ reason: 'network-change', connectionState: 'connected', sinceLastRestartMs: 4999 }), false);
  assert.equal(shouldRestartIce({ reason: 'failed', connectionState: 'failed', sinceLastRestartMs: 5000 }), true);
  assert.equal(shouldRestartIce({ reason: 'network-change', connectionState: 'closed' }), false);
  assert.equal(shouldRestartIce({ reason: 'network-change', connectionState: 'new' }), false);
  assert.equal(shouldRestartIce({ reason: 'whim', connectionState: 'connected' }), false);
});

test('the ICE ufrag of a description', () => {
  assert.equal(iceUfragOf('v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\na=ice-ufrag:Ab+9\r\na=ice-pwd:x\r\na=ice-ufrag:later\r\n'), 'Ab+9');
  assert.equal(iceUfragOf('v=0\r\n'), null);
  assert.equal(iceUfragOf(undefined), null);
});

test('automatic reconnection starts at once, backs off to 2 s, and gives up after the grace period and a margin', () => {
  const delays = [0, 1, 2, 3, 4, 5, 20].map((n) => reconnectDelay({ previousRetryCount: n, elapsedMilliseconds: 1000 }, 60));
  assert.deepEqual(delays, [0, 1000, 2000, 2000, 2000, 2000, 2000]);
  assert.equal(reconnectDelay({ previousRetryCount: 12, elapsedMilliseconds: 60_000 + GIVE_UP_MARGIN_MS }, 60), 2000);
  assert.equal(reconnectDelay({ previousRetryCount: 12, elapsedMilliseconds: 60_001 + GIVE_UP_MARGIN_MS }, 60), null);
  // A shorter grace gives up sooner; none known (or 0: the server keeps no place) counts as the default 60 s.
  assert.equal(reconnectDelay({ previousRetryCount: 3, elapsedMilliseconds: 20_001 }, 10), null);
  assert.equal(reconnectDelay({ previousRetryCount: 3, elapsedMilliseconds: 65_000 }, 0), 2000);
  assert.equal(reconnectDelay({ previousRetryCount: 3, elapsedMilliseconds: 65_000 }, undefined), 2000);
  assert.ok(RECONNECT_DELAYS_MS.every((d, i, all) => i === 0 || d >= all[i - 1]));
});

test('the page\'s own new connections after SignalR gave up back off to 10 s', () => {
  assert.deepEqual([0, 1, 2, 3, 50].map(newConnectionDelay), [2000, 5000, 10_000, 10_000, 10_000]);
});

test('Resume\'s refusals: join afresh, taken by another window, the end, or try again', () => {
  const hub = (sentence) => new Error(`An unexpected error occurred invoking 'Resume' on the server. HubException: ${sentence}`);
  assert.equal(resumeOutcome(hub('not-found: your place in the session was not kept (away longer than 60 s); join again')), 'join');
  assert.equal(resumeOutcome(hub('forbidden: your place in this session is held by another window or device that joined with the same link')), 'replaced');
  assert.equal(resumeOutcome(hub('forbidden: the therapist removed you from this session')), 'end');
  assert.equal(resumeOutcome(hub('unauthorized: this link has expired; ask your therapist for a new one')), 'end');
  assert.equal(resumeOutcome(hub('ended: this session has ended')), 'end');
  assert.equal(resumeOutcome(hub('closed: too many calls; the connection is closed')), 'retry');
  assert.equal(resumeOutcome(new Error('Failed to complete negotiation with the server: TypeError: Failed to fetch')), 'retry');
  assert.equal(resumeOutcome(new Error("Invocation canceled due to the underlying connection being closed.")), 'retry');
  assert.equal(resumeOutcome('not-found: gone'), 'join');
  assert.equal(resumeOutcome(undefined), 'retry');
});

test('the live region says Reconnecting, then Connected, and who else is reconnecting', () => {
  assert.match(connectionMessage('reconnecting'), /^Reconnecting\.\.\./);
  assert.match(connectionMessage('reconnecting', ['Ana']), /^Reconnecting\.\.\./);
  assert.equal(connectionMessage('connected'), 'Connected');
  assert.equal(connectionMessage('connected', ['Ana']), 'Connected. Ana is reconnecting...');
  assert.equal(connectionMessage('connected', ['Ana', 'Ben']), 'Connected. Ana, Ben are reconnecting...');
});
