// Google's libwebrtc for node (@roamhq/wrtc) as a participant in a room: sends the tone and the moving picture
// (media.mjs) and decodes what the room sends it. The test does the hub signalling for it and speaks one JSON object a
// line on stdin/stdout (tests/Support/ExternalParticipant.cs): "offer" (receive these tracks) -> an offer with a recvonly
// transceiver per track and its subscriptions; "answer" -> applied, "answered"; "stop" -> "result" with what was
// decoded per kind, then exit.
import readline from "node:readline";
import wrtc from "@roamhq/wrtc";
import { gathered, newStats, startSources, summary, watch } from "./media.mjs";

const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
const stats = newStats();
const stops = [];
const sources = startSources();
stops.push(() => sources.stop());
const stream = new wrtc.MediaStream([sources.audioTrack, sources.videoTrack]);
pc.addTrack(sources.audioTrack, stream);
pc.addTrack(sources.videoTrack, stream);
const receiving = new Map(); // trackId -> transceiver
pc.ontrack = (event) => stops.push(watch(event.track, stats));
pc.onconnectionstatechange = () => say({ type: "state", connectionState: pc.connectionState });

async function offer(tracks) {
  for (const track of tracks) {
    if (!receiving.has(track.trackId)) receiving.set(track.trackId, pc.addTransceiver(track.kind, { direction: "recvonly" }));
  }
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const subscriptions = tracks.map((t) => ({ mid: receiving.get(t.trackId).mid, trackId: t.trackId }));
  say({ type: "offer", sdp: pc.localDescription.sdp, subscriptions });
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const message = JSON.parse(line);
  if (message.type === "offer") await offer(message.tracks);
  else if (message.type === "answer") {
    await pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
    say({ type: "answered" });
  } else if (message.type === "stop") break;
}
const decoded = summary(stats);
// audioFrames: the 10 ms chunks the sink gave.
const result = { type: "result", connectionState: pc.connectionState, ...decoded, audioFrames: decoded.audioChunks };
for (const stop of stops) stop();
pc.close();
say(result);
setTimeout(() => process.exit(0), 100);
