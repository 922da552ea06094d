// Google's libwebrtc for node (@roamhq/wrtc) as a participant in a room: sends the tone and the moving picture
// (media.mjs) and decodes what the room sends it with its own decoders. The test does the hub signalling for it
// (tests/Support/ExternalParticipant.cs, ../participant-bridge.mjs); the result says what was decoded per kind.
import wrtc from "@roamhq/wrtc";
import { say, serve } from "../participant-bridge.mjs";
import { gathered, newStats, publish, summary } from "./media.mjs";

const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
const stats = newStats();
const stops = [];
stops.push(publish(pc, stats));
pc.onconnectionstatechange = () => say({ type: "state", connectionState: pc.connectionState });

await serve(pc, () => gathered(pc));
const decoded = summary(stats);
// audioFrames: the 10 ms chunks the sink gave.
const result = { type: "result", connectionState: pc.connectionState, ...decoded, audioFrames: decoded.audioChunks };
for (const stop of stops) stop();
pc.close();
say(result);
setTimeout(() => process.exit(0), 100);
