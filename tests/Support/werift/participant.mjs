// werift (a TypeScript WebRTC stack) as a participant in a room: sends the libvpx/libopus clip of media.py as RTP and
// collects the frames the room sends it, which media.py decodes when the test stops it (werift has no codec). The test
// does the hub signalling for it (tests/Support/ExternalParticipant.cs, ../participant-bridge.mjs); the result says
// what libvpx/libopus decoded of the frames received.
import { RTCPeerConnection } from "werift";
import { say, serve } from "../participant-bridge.mjs";
import { collect, decode, loadClip, startSending } from "./media.mjs";

const clip = loadClip();
const store = { video: [], audio: [] };
const pc = new RTCPeerConnection({});
pc.connectionStateChange.subscribe((state) => say({ type: "state", connectionState: state }));
pc.onTrack.subscribe((track) => collect(track, store));
const audio = pc.addTransceiver("audio", { direction: "sendonly" });
const video = pc.addTransceiver("video", { direction: "sendonly" });
const sending = startSending(clip, audio.sender, video.sender);

await serve(pc);
sending.stop();
const connectionState = pc.connectionState;
const decoded = decode(store);
await pc.close().catch(() => {});
say({ type: "result", connectionState, videoFramesReceived: store.video.length, audioPacketsReceived: store.audio.length, ...decoded });
process.exit(0);
