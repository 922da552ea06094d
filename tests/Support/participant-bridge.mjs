// The participant scripts' side of tests/Support/ExternalParticipant.cs, for the stacks run with node (werift, wrtc):
// one JSON object a line on stdin/stdout. "offer" (receive these tracks) -> a recvonly transceiver for each new track, an
// offer and its subscriptions; "answer" -> applied, "answered"; "stop" -> returns, and the script prints its result.
import readline from "node:readline";

export const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");

/** Serves the test's messages for `pc` until "stop" (or stdin closes); `afterLocal` runs after each
 * setLocalDescription (e.g. to wait for ICE gathering). */
export async function serve(pc, afterLocal = async () => {}) {
  const receiving = new Map(); // trackId -> transceiver
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const message = JSON.parse(line);
    if (message.type === "offer") {
      for (const track of message.tracks) {
        if (!receiving.has(track.trackId)) receiving.set(track.trackId, pc.addTransceiver(track.kind, { direction: "recvonly" }));
      }
      await pc.setLocalDescription(await pc.createOffer());
      await afterLocal();
      const subscriptions = message.tracks.map((t) => ({ mid: receiving.get(t.trackId).mid, trackId: t.trackId }));
      say({ type: "offer", sdp: pc.localDescription.sdp, subscriptions });
    } else if (message.type === "answer") {
      await pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
      say({ type: "answered" });
    } else if (message.type === "stop") {
      break;
    }
  }
  lines.close();
}
