// Prints an SDP offer made by werift (a TypeScript WebRTC stack): audio and video to send and receive, plus a data
// channel like the pose overlay's. Used to refresh tests/Sdp/SdpSamples.cs (Werift): `npm install && node offer.mjs`.
import { RTCPeerConnection } from "werift";

const pc = new RTCPeerConnection({});
pc.addTransceiver("audio", { direction: "sendrecv" });
pc.addTransceiver("video", { direction: "sendrecv" });
pc.createDataChannel("pose", { ordered: false, maxRetransmits: 0 });
const offer = await pc.createOffer();
await pc.setLocalDescription(offer);
process.stdout.write(pc.localDescription.sdp);
await pc.close();
process.exit(0);
