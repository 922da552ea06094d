import { t } from '../i18n/i18n.js';

// In a session: whether the pose estimator's files may be fetched in the background now, and what the patient
// is told. Pure (node tests in tests/pose-files.test.mjs); join.js feeds it and acts on the answer.
//
// A session never waits for the files (12 MB would take half an hour on EDGE and starve the call). Without them
// it runs without movement tracking and says so; they are fetched behind the call only when the link has
// plenty to spare, and the fetch stops as soon as it no longer does.

/** Downlink (kbit/s) above which a background download is allowed: well above what the call itself uses
 * (audio ~40 kbit/s, the video a patient receives up to ~1 Mbit/s), so the download takes a minute or two and
 * the call does not notice. */
export const BACKGROUND_MIN_KBPS = 1500;

/**
 * @param {object} p
 * @param {boolean} p.stored           every file this browser needs is in the cache
 * @param {object|null} p.connection   navigator.connection (Network Information API) or null where there is none
 * @param {number|null} p.downlinkKbps this page's downlink as measured in the session (the SFU's estimate in
 *                                     LinkStats), null or 0 when not known yet
 * @param {boolean} p.audioOnly        the session runs in its weak-link mode (audio + pose: no video received)
 * @returns {{fetch: boolean, reason: string}} reason: 'stored' | 'audio-only' | 'save-data' | 'offline' |
 *   'slow-connection' | 'measured-low' | 'unknown-link' | 'fast-connection' | 'measured-fast'
 */
export function backgroundFetchDecision({ stored, connection = null, downlinkKbps = null, audioOnly = false }) {
  if (stored) return { fetch: false, reason: 'stored' };
  if (audioOnly) return { fetch: false, reason: 'audio-only' };
  if (connection?.saveData) return { fetch: false, reason: 'save-data' };
  if (connection?.type === 'none') return { fetch: false, reason: 'offline' };
  const type = connection?.effectiveType ?? null;
  if (type != null && type !== '4g') return { fetch: false, reason: 'slow-connection' };
  const measured = downlinkKbps > 0 ? downlinkKbps : null;
  if (measured != null) {
    return measured >= BACKGROUND_MIN_KBPS ? { fetch: true, reason: 'measured-fast' } : { fetch: false, reason: 'measured-low' };
  }
  // Not measured yet: the browser's own estimate ("4g" means at least ~700 kbit/s; downlink is in Mbit/s).
  if (type === '4g' && (connection.downlink == null || connection.downlink * 1000 >= BACKGROUND_MIN_KBPS)) {
    return { fetch: true, reason: 'fast-connection' };
  }
  return { fetch: false, reason: type === '4g' ? 'slow-connection' : 'unknown-link' };
}

/** The session's weak-link mode, from a LinkStats event: the server has chosen to pause every video this page
 * receives (target 'paused'). A video that is paused only until its first layer arrives (layer 'paused', target a
 * layer), as at the start of a call, does not count. */
export function isAudioOnly(linkStats) {
  const videos = (linkStats?.subscriptions ?? []).filter((s) => s.kind === 'video');
  return videos.length > 0 && videos.every((s) => (s.target ?? s.layer) === 'paused');
}

/** The line shown to the patient. state: 'checking' | 'missing' | 'fetching' | 'stored' | 'unavailable'. */
export function poseFilesMessage({ state, loadedBytes = 0, totalBytes = 0 }) {
  switch (state) {
    case 'fetching': {
      const percent = totalBytes > 0 ? Math.floor((loadedBytes / totalBytes) * 100) : 0;
      return t('poseFiles.fetching', { percent });
    }
    case 'stored': case 'missing': case 'unavailable': case 'off': return t(`poseFiles.${state}`);
    default: return '';
  }
}
