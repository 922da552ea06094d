// Pre-session network test figures -> the mode the link can sustain. Pure.
//   "video"        : bitrate >= 300 kbit/s, loss < 5 %,  RTT < 400 ms
//   "low video"    : bitrate >= 100 kbit/s, loss < 15 %, RTT < 1000 ms
//   "audio + pose" : anything less (Opus at ~16-24 kbit/s plus pose keypoints at a few kbit/s)
// bitrate = the best of the browser's bandwidth estimate (candidate-pair availableOutgoingBitrate) and the
// rate actually sent (outbound-rtp bytesSent over the test); loss = packets lost / expected on the media
// echoed back (so it covers both directions); RTT = median of candidate-pair currentRoundTripTime samples.
export const THRESHOLDS = Object.freeze({
  video: { kbps: 300, loss: 0.05, rttMs: 400 },
  lowVideo: { kbps: 100, loss: 0.15, rttMs: 1000 },
});

export function linkMode({ kbps, loss, rttMs }) {
  const ok = (t) => kbps != null && kbps >= t.kbps && (loss ?? 0) < t.loss && (rttMs == null || rttMs < t.rttMs);
  if (ok(THRESHOLDS.video)) return 'video';
  if (ok(THRESHOLDS.lowVideo)) return 'low video';
  return 'audio + pose';
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Loss fraction from inbound RTP counters (packetsLost may be negative with duplicates: clamp). */
export function lossFraction(packetsReceived, packetsLost) {
  const lost = Math.max(0, packetsLost ?? 0);
  const expected = (packetsReceived ?? 0) + lost;
  return expected > 0 ? lost / expected : null;
}
