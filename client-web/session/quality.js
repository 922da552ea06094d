// The quality dot's tooltip for one participant. Pure (node tests in tests/quality.test.mjs).
//   quality, server, local : the dot's verdict, the server's view of their uplink, this page's view of what it receives
//   video                  : what this page decodes of them (getStats inbound-rtp): { width, height, fps }, or null
//   sent                   : their video as the server sends it to this page (LinkStats): { layer, target }, or null
//   downlinkKbps           : this page's downlink estimate at the server (LinkStats estimateKbps; 0 = none yet)
//   theirDownlinkKbps      : the therapist's page only: their downlink estimate (LinkStats downlinks)
// Layers are the server's names: "S1T2" (spatial layer 1, temporal layer 2), "paused", "all" (a single-layer track).
export function qualityTitle({ quality, server, local, video = null, sent = null, downlinkKbps = null, theirDownlinkKbps = null }) {
  const lines = [`${quality} (server: ${server}, here: ${local})`];
  if (video && video.width && video.height) {
    const fps = Number.isFinite(video.fps) ? ` at ${Math.round(video.fps)} fps` : '';
    lines.push(`receiving ${video.width}x${video.height}${fps}`);
  }
  if (sent) {
    const wanted = sent.target && sent.target !== sent.layer ? ` (going to ${sent.target})` : '';
    lines.push(`server sends layer ${sent.layer}${wanted}`);
  }
  if (downlinkKbps != null) lines.push(`your downlink: ${formatKbps(downlinkKbps)}`);
  if (theirDownlinkKbps != null) lines.push(`their downlink: ${formatKbps(theirDownlinkKbps)}`);
  return lines.join('\n');
}

export function formatKbps(kbps) {
  if (!kbps) return 'no estimate yet';
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
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
