// Google's libwebrtc for node (@roamhq/wrtc) as an echo client: offers a tone and a moving picture to POST /api/echo
// with the library's own offer, unmodified, and decodes what comes back with the library's own decoders (its
// nonstandard sinks). Prints one JSON line: the connection state, the decoded audio (chunks, loud ones, the tone's
// frequency from its zero crossings) and video (frames, sizes, how many distinct places the moving square was seen
// at), and any problem; exits 0 when both came back decoded.
// Usage: node echo.mjs <base-url> [seconds]     (`npm install` first)
import wrtc from "@roamhq/wrtc";
import { gathered, newStats, publish, summary } from "./media.mjs";

const base = process.argv[2];
const seconds = Number(process.argv[3] || 30);
if (!base) {
  console.error("usage: node echo.mjs <base-url> [seconds]");
  process.exit(2);
}
const result = { status: 0, connectionState: null, problems: [] };
const stats = newStats();
const stops = [];
const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
let finished = false;
const finish = (code) => {
  if (finished) return;
  finished = true;
  Object.assign(result, summary(stats), { connectionState: pc.connectionState });
  for (const stop of stops) stop();
  pc.close();
  process.stdout.write(JSON.stringify(result) + "\n");
  setTimeout(() => process.exit(code), 100);
};
setTimeout(() => { result.problems.push("timed out"); finish(1); }, (seconds + 15) * 1000);

stops.push(publish(pc, stats));
await pc.setLocalDescription(await pc.createOffer());
await gathered(pc);
const response = await fetch(new URL("/api/echo", base), {
  method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp,
});
const answer = await response.text();
result.status = response.status;
if (response.status !== 201) {
  result.problems.push(`echo refused the offer: ${response.status} ${answer}`);
  finish(1);
} else {
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline && pc.connectionState !== "failed") {
    // Enough to judge: two seconds of the tone and 30 frames with the square seen in ten places.
    if (stats.loudChunks >= 200 && stats.videoFrames >= 30 && stats.squareColumns.size >= 10) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (pc.connectionState !== "connected") result.problems.push(`connection ${pc.connectionState}`);
  if (stats.loudChunks === 0) result.problems.push("no audio decoded with the tone in it");
  if (stats.videoFrames === 0) result.problems.push("no video frame decoded");
  finish(result.problems.length === 0 ? 0 : 1);
}
