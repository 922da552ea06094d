import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceErrorKey, ERROR_KEYS, errorMessage, splitHubError } from '../session/errors.js';
import { setCatalogue, t } from '../i18n/i18n.js';
import { readCatalogue } from './catalogue.mjs';

// As the SignalR client throws them.
const hub = (message) => new Error(`An unexpected error occurred invoking 'Join' on the server. HubException: ${message}`);

test('every message the error mapping names is in every catalogue', () => {
  for (const code of ['en', 'ur']) {
    const catalogue = readCatalogue(code);
    for (const key of ERROR_KEYS) assert.ok(key in catalogue, `${code}: missing ${key}`);
  }
});

test('a refusal maps to its known reason, else to its code; only an unknown code keeps the server\'s sentence', () => {
  assert.deepEqual(splitHubError(hub('forbidden: the room is locked; ask your therapist to unlock it')),
    { code: 'forbidden', sentence: 'the room is locked; ask your therapist to unlock it', hub: true });
  assert.equal(errorMessage(hub('forbidden: the room is locked; ask your therapist to unlock it')).key, 'error.forbidden.locked');
  assert.equal(errorMessage(hub('forbidden: the therapist removed you from this session')).key, 'error.forbidden.removed');
  assert.equal(errorMessage(hub('forbidden: only the therapist can do that')).key, 'error.forbidden.therapistOnly');
  assert.equal(errorMessage(hub('forbidden: something new')).key, 'error.forbidden');
  assert.equal(errorMessage(hub('not-found: this session does not exist (the link may be for a server that restarted)')).key, 'error.not-found.session');
  assert.equal(errorMessage(hub('not-found: that participant is not in the room')).key, 'error.not-found.participant');
  assert.equal(errorMessage(hub('unauthorized: this link has expired; ask your therapist for a new one')).key, 'error.unauthorized.expired');
  assert.equal(errorMessage(hub('unauthorized: this link is not valid')).key, 'error.unauthorized');
  assert.equal(errorMessage(hub('invalid: a patient may publish at most 3 video tracks; the offer sends 4')).key, 'error.invalid.tooMuchMedia');
  assert.equal(errorMessage(hub('conflict: this connection has already joined')).key, 'error.conflict');
  assert.equal(errorMessage(hub('ended: this session has ended')).key, 'error.ended');
  assert.equal(errorMessage('ended: this session has ended').key, 'error.ended'); // the bare text too
  assert.deepEqual(errorMessage(hub('teapot: I am one')), { key: 'error.server', params: { reason: 'teapot: I am one' } });
  assert.equal(errorMessage(new Error("An unexpected error occurred invoking 'Join' on the server.")).key, 'error.server');
  assert.equal(errorMessage(new Error('Failed to complete negotiation with the server: TypeError: Failed to fetch')).key, 'error.connection');
});

test('a known server error shows in Urdu on an Urdu page, with no English left in it', () => {
  const urdu = readCatalogue('ur');
  setCatalogue('ur', urdu);
  for (const message of ['forbidden: the room is locked; ask your therapist to unlock it', 'ended: this session has ended',
    'not-found: your place in the session was not kept (away longer than 60 s, or not admitted yet); join again with your link']) {
    const { key, params } = errorMessage(hub(message));
    const text = t(key, params);
    assert.equal(text, urdu[key]);
    assert.doesNotMatch(text, /[A-Za-z]{2,}/, `${message} -> ${text}`);
  }
  setCatalogue('en', readCatalogue('en'));
  assert.equal(t(errorMessage(hub('forbidden: the room is locked; ask your therapist to unlock it')).key),
    'The room is locked. Please ask your therapist to unlock it.');
});

test('a camera or microphone the browser does not give says why in the catalogue\'s words', () => {
  assert.equal(deviceErrorKey({ name: 'NotAllowedError' }), 'error.device.denied');
  assert.equal(deviceErrorKey({ name: 'NotFoundError' }), 'error.device.none');
  assert.equal(deviceErrorKey({ name: 'NotReadableError' }), 'error.device.busy');
  assert.equal(deviceErrorKey(new Error('x')), 'error.notStarted');
});
