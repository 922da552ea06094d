// werift (a TypeScript WebRTC stack) as a participant in a room: sends the libvpx/libopus clip of media.py as RTP and
// collects the frames the room sends it, which media.py decodes when the test stops it (werift has no codec). The test
// does the hub signalling for it and speaks one JSON object a line on stdin/stdout (tests/Support/ExternalParticipant.cs):
// "offer" (receive these tracks) -> an offer with a recvonly transceiver per track and its subscriptions; "answer" ->
// applied, "answered"; "stop" -> "result" with what libvpx/libopus decoded of the frames received, then exit.
import readline from "node:readline";
import { RTCPeerConnection } from "werift";
import { collect, decode, loadClip, startSending } from "./media.mjs";

const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const clip = loadClip();
const store = { video: [], audio: [] };
const pc = new RTCPeerConnection({});
pc.connectionStateChange.subscribe((state) => say({ type: "state", connectionState: state }));
pc.onTrack.subscribe((track) => collect(track, store));
const audio = pc.addTransceiver("audio", { direction: "sendonly" });
const video = pc.addTransceiver("video", { direction: "sendonly" });
const sending = startSending(clip, audio.sender, video.sender);
const receiving = new Map(); // trackId -> transceiver

async function offer(tracks) {
  for (const track of tracks) {
    if (!receiving.has(track.trackId)) receiving.set(track.trackId, pc.addTransceiver(track.kind, { direction: "recvonly" }));
  }
  await pc.setLocalDescription(await pc.createOffer());
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
sending.stop();
const connectionState = pc.connectionState;
const decoded = decode(store);
await pc.close().catch(() => {});
say({ type: "result", connectionState, videoFramesReceived: store.video.length, audioPacketsReceived: store.audio.length, ...decoded });
process.exit(0);
