// The quality dot's tooltip for one participant. Pure (node tests in tests/quality.test.mjs).
//   quality, server, local : the dot's verdict, the server's view of their uplink, this page's view of what it receives
//   video                  : what this page decodes of them (getStats inbound-rtp): { width, height, fps }, or null
//   sent                   : their video as the server sends it to this page (LinkStats): { layer, target }, or null
//   downlinkKbps           : this page's downlink estimate at the server (LinkStats estimateKbps; 0 = none yet)
//   theirDownlinkKbps      : the therapist's page only: their downlink estimate (LinkStats downlinks)
// Layers are the server's names: "S1T2" (spatial layer 1, temporal layer 2), "paused", "all" (a single-layer track).
import { formatNumber, t } from '../i18n/i18n.js';

export function qualityTitle({ quality, server, local, video = null, sent = null, downlinkKbps = null, theirDownlinkKbps = null }) {
  const lines = [t('quality.title', { quality: t(`quality.${quality}`), server: t(`quality.${server}`), local: t(`quality.${local}`) })];
  if (video && video.width && video.height) {
    lines.push(t(Number.isFinite(video.fps) ? 'quality.receivingFps' : 'quality.receiving',
      { width: video.width, height: video.height, fps: Math.round(video.fps ?? 0) }));
  }
  if (sent) {
    lines.push(t(sent.target && sent.target !== sent.layer ? 'quality.layerGoing' : 'quality.layer', { layer: sent.layer, target: sent.target }));
  }
  if (downlinkKbps != null) lines.push(t('quality.downlink', { rate: formatKbps(downlinkKbps) }));
  if (theirDownlinkKbps != null) lines.push(t('quality.theirDownlink', { rate: formatKbps(theirDownlinkKbps) }));
  return lines.join('\n');
}

export function formatKbps(kbps) {
  if (!kbps) return t('quality.noEstimate');
  return kbps >= 1000 ? t('unit.mbps', { value: formatNumber(kbps / 1000, 1, true) }) : t('unit.kbps', { value: Math.round(kbps) });
}

// From a LinkStats event: what the tooltip of participant `id` shows of it.
export function linkView(linkStats, id) {
  if (!linkStats) return {};
  const video = linkStats.subscriptions?.find((s) => s.participantId === id && s.kind === 'video');
  const theirs = linkStats.downlinks?.find((d) => d.participantId === id);
  return {
    sent: video ? { layer: video.layer, target: video.target } : null,
    downlinkKbps: linkStats.estimateKbps ?? null,
    theirDownlinkKbps: theirs ? theirs.estimateKbps : null,
  };
}
