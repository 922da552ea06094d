// werift (a TypeScript WebRTC stack) as an echo client with audio and video: offers both to POST /api/echo with its
// own offer, unmodified, sends a VP8 clip and an Opus tone (encoded by media.py: werift has no codec) and collects what
// comes back. Prints one JSON line: the connection state, the frames werift reassembled, how many of them are
// byte for byte frames it sent, and what libvpx/libopus decode from them (media.py); exits 0 when both kinds came
// back decoded. Usage: node media-echo.mjs <base-url> [seconds]     (`npm install` first)
import { RTCPeerConnection } from "werift";
import { collect, decode, hash, loadClip, startSending } from "./media.mjs";

const base = process.argv[2];
const seconds = Number(process.argv[3] || 30);
if (!base) {
  console.error("usage: node media-echo.mjs <base-url> [seconds]");
  process.exit(2);
}
const result = { status: 0, connectionState: null, problems: [] };
const store = { video: [], audio: [] };
const clip = loadClip();
const pc = new RTCPeerConnection({});
pc.onTrack.subscribe((track) => collect(track, store));
const audio = pc.addTransceiver("audio", { direction: "sendrecv" });
const video = pc.addTransceiver("video", { direction: "sendrecv" });
let sending = null;
const finish = async (code) => {
  result.connectionState = pc.connectionState;
  sending?.stop();
  if (sending) {
    result.videoFramesReceived = store.video.length;
    result.videoFramesSent = store.video.filter((f) => sending.sentFrames.has(hash(f))).length;
    result.audioPacketsReceived = store.audio.length;
    result.audioPacketsSent = store.audio.filter((p) => sending.sentAudio.has(hash(p))).length;
    result.decoded = decode(store);
  }
  await pc.close().catch(() => {});
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(code);
};
setTimeout(() => { result.problems.push("timed out"); finish(1); }, (seconds + 15) * 1000);

await pc.setLocalDescription(await pc.createOffer());
const response = await fetch(new URL("/api/echo", base), {
  method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp,
});
const answer = await response.text();
result.status = response.status;
if (response.status !== 201) {
  result.problems.push(`echo refused the offer: ${response.status} ${answer}`);
  await finish(1);
}
await pc.setRemoteDescription({ type: "answer", sdp: answer });
const deadline = Date.now() + seconds * 1000;
while (Date.now() < deadline && pc.connectionState !== "connected" && pc.connectionState !== "failed") {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
sending = startSending(clip, audio.sender, video.sender);
// Enough to judge: 90 video frames (two key frames past the first) and three seconds of audio.
while (Date.now() < deadline && pc.connectionState !== "failed" && (store.video.length < 90 || store.audio.length < 150)) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
if (pc.connectionState !== "connected") result.problems.push(`connection ${pc.connectionState}`);
if (store.video.length === 0) result.problems.push("no video frame came back");
if (store.audio.length === 0) result.problems.push("no audio packet came back");
await finish(result.problems.length === 0 ? 0 : 1);
