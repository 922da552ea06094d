import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatKbps, linkView, qualityTitle } from '../session/quality.js';
import { useEnglish } from './catalogue.mjs';

useEnglish();

const linkStats = {
  estimateKbps: 850, rttMs: 60, pacerDelayMs: 1.5,
  subscriptions: [
    { participantId: 'p1', trackId: 'a', kind: 'audio', layer: 'all', target: 'all', switches: 0, retransmissions: 0 },
    { participantId: 'p1', trackId: 'v', kind: 'video', layer: 'S0T2', target: 'S1T2', switches: 3, retransmissions: 2 },
  ],
  downlinks: [{ participantId: 'p1', estimateKbps: 240, rttMs: 180 }],
};

test('tooltip with decoded video, the layer sent and both downlinks', () => {
  const title = qualityTitle({ quality: 'fair', server: 'good', local: 'fair', video: { width: 320, height: 180, fps: 14.6 }, ...linkView(linkStats, 'p1') });
  assert.equal(title, [
    'fair (server: good, here: fair)',
    'receiving 320x180 at 15 fps',
    'server sends layer S0T2 (going to S1T2)',
    'your downlink: 850 kbit/s',
    'their downlink: 240 kbit/s',
  ].join('\n'));
});

test('tooltip before any stats is the verdict alone', () => {
  assert.equal(qualityTitle({ quality: 'unknown', server: 'unknown', local: 'unknown' }), 'unknown (server: unknown, here: unknown)');
  assert.deepEqual(linkView(null, 'p1'), {});
});

test('a participant not in LinkStats: no layer, no downlink of theirs; the target is left out when reached', () => {
  const view = linkView(linkStats, 'p2');
  assert.deepEqual(view, { sent: null, downlinkKbps: 850, theirDownlinkKbps: null });
  const reached = qualityTitle({ quality: 'good', server: 'good', local: 'good', sent: { layer: 'S1T2', target: 'S1T2' } });
  assert.match(reached, /server sends layer S1T2$/);
  assert.doesNotMatch(qualityTitle({ quality: 'good', server: 'good', local: 'good', video: { width: 0, height: 0 } }), /receiving/);
});

test('kbit/s formatting', () => {
  assert.equal(formatKbps(0), 'no estimate yet');
  assert.equal(formatKbps(999), '999 kbit/s');
  assert.equal(formatKbps(2500), '2.5 Mbit/s');
});
