// The server's refusals in the page's words. A hub error comes as "HubException: <code>: <sentence>" (docs/signalling.md,
// "Errors"): the code is stable, the sentence is English for people reading logs. The page shows the catalogue's message
// for the refusal: the one for a known reason of that code where there is one (the room is locked, the link expired...),
// else the one for the code; only a code the page does not know shows the server's sentence (error.server). An error
// that is no hub refusal (the server out of reach) is error.connection. Pure: node tests in tests/errors.test.mjs.

// Known reasons, by code: the first whose pattern the sentence matches names the message.
const REASONS = {
  forbidden: [
    [/room is locked/, 'error.forbidden.locked'],
    [/removed you/, 'error.forbidden.removed'],
    [/another window or device/, 'error.forbidden.elsewhere'],
    [/only the therapist/, 'error.forbidden.therapistOnly'],
    [/wait until the therapist admits you/, 'error.forbidden.notAdmitted'],
  ],
  'not-found': [
    [/session does not exist/, 'error.not-found.session'],
    [/place in the session was not kept/, 'error.not-found.place'],
    [/participant is not in the room|nobody with that id is waiting/, 'error.not-found.participant'],
  ],
  unauthorized: [
    [/has expired/, 'error.unauthorized.expired'],
    [/not valid yet/, 'error.unauthorized.notYet'],
    [/not in this session|no longer in this session|call Join/, 'error.unauthorized.notInSession'],
  ],
  invalid: [
    [/retransmission memory is full/, 'error.invalid.serverFull'],
    [/may publish at most|m-lines|simulcast encodings|retransmission memory would be/, 'error.invalid.tooMuchMedia'],
  ],
  conflict: [],
  ended: [],
  closed: [
    [/too many calls/, 'error.closed.tooManyCalls'],
  ],
};

/** The codes the page has a message for (error.<code>). */
export const KNOWN_CODES = Object.keys(REASONS);

/** Every catalogue key parseError may name (the node tests check the catalogues have them all). */
export const ERROR_KEYS = [
  ...KNOWN_CODES.map((code) => `error.${code}`),
  ...Object.values(REASONS).flatMap((rules) => rules.map(([, key]) => key)),
  'error.server', 'error.connection', 'error.device.denied', 'error.device.none', 'error.device.busy', 'error.notStarted',
];

/** A thrown error's text split into the server's code and sentence; code null when it is no hub refusal. */
export function splitHubError(error) {
  const text = String(error?.message ?? error ?? '');
  const match = /HubException: (?:([a-z-]+): )?(.*)$/s.exec(text) ?? /^([a-z-]+): (.*)$/s.exec(text);
  // The server failed without a refusal of its own (no HubException): its sentence, as for an unknown code.
  if (!match) return { code: null, sentence: text, hub: /error occurred invoking/.test(text) };
  return { code: match[1] ?? null, sentence: match[2].trim(), hub: true };
}

/** The catalogue message for a refusal: { key, params }. */
export function errorMessage(error) {
  const { code, sentence, hub } = splitHubError(error);
  if (!hub) return { key: 'error.connection', params: {} };
  const rules = code ? REASONS[code] : undefined;
  if (!rules) return { key: 'error.server', params: { reason: code ? `${code}: ${sentence}` : sentence } };
  const known = rules.find(([pattern]) => pattern.test(sentence));
  return { key: known ? known[1] : `error.${code}`, params: {} };
}

/** Why the browser gave no camera or microphone (getUserMedia's DOMException), as a catalogue key. */
export function deviceErrorKey(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError': return 'error.device.denied';
    case 'NotFoundError':
    case 'OverconstrainedError': return 'error.device.none';
    case 'NotReadableError':
    case 'AbortError': return 'error.device.busy';
    default: return 'error.notStarted';
  }
}
