// Connects werift (a TypeScript WebRTC stack we did not write) to the server's POST /api/echo with a data channel only,
// sends messages of 1 byte to 64 KiB (text and binary, three of each size, distinct content) on an ordered reliable
// channel, and checks that the echo sends them back intact and in order. Also waits for the channel the echo opens
// from the server side. Prints one JSON line with the outcome and exits 0 when everything came back.
// Usage: node echo.mjs <base-url>     (`npm install` first)
import { RTCPeerConnection } from "werift";

const base = process.argv[2];
if (!base) {
  console.error("usage: node echo.mjs <base-url>");
  process.exit(2);
}
const result = { connection: null, dtlsRole: null, channel: null, serverChannel: null, greeting: null, sent: 0, received: 0, problems: [] };
const finish = (code) => {
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(code);
};
setTimeout(() => { result.problems.push("timed out"); finish(1); }, 40000);

const pc = new RTCPeerConnection({});
pc.connectionStateChange.subscribe((state) => { result.connection = state; });
const greeted = new Promise((resolve) => {
  pc.onDataChannel.subscribe((channel) => {
    result.serverChannel = channel.label;
    channel.onMessage.subscribe((data) => { result.greeting = data.toString(); resolve(); });
  });
});
const chat = pc.createDataChannel("chat", { ordered: true });
const offer = await pc.createOffer();
await pc.setLocalDescription(offer);
const response = await fetch(new URL("/api/echo?transport=udp", base), {
  method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp,
});
const answer = await response.text();
if (response.status !== 201) {
  result.problems.push(`echo refused the offer: ${response.status} ${answer}`);
  finish(1);
}
result.ufrag = (/a=ice-ufrag:(\S+)/.exec(answer) || [])[1] || null;
const setup = /a=setup:(\w+)/.exec(answer);
result.dtlsRole = setup ? (setup[1] === "passive" ? "client" : "server") : null; // werift's role
await pc.setRemoteDescription({ type: "answer", sdp: answer });

await new Promise((resolve) => {
  if (chat.readyState === "open") resolve();
  chat.stateChanged.subscribe((state) => { if (state === "open") resolve(); });
});
result.channel = chat.readyState;

const sizes = [1, 100, 1200, 1300, 16 * 1024, 64 * 1024];
const sent = [];
let n = 0;
for (const size of sizes) {
  for (let k = 0; k < 3; k++, n++) {
    const text = n % 2 === 0;
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = text ? 97 + ((i * 7 + n) % 26) : (i * 31 + n * 17) & 255;
    sent.push(text ? bytes.toString("latin1") : bytes);
  }
}
const received = [];
const allBack = new Promise((resolve) => {
  chat.onMessage.subscribe((data) => {
    received.push(data);
    if (received.length === sent.length) resolve();
  });
});
for (const message of sent) chat.send(message);
result.sent = sent.length;
await allBack;
result.received = received.length;
for (let i = 0; i < sent.length; i++) {
  const a = sent[i], b = received[i];
  if (typeof a === "string") {
    if (typeof b !== "string" || a !== b) result.problems.push(`${i}: text differs`);
  } else if (!Buffer.isBuffer(b) || !a.equals(b)) {
    result.problems.push(`${i}: binary differs`);
  }
}
await greeted;
await pc.close();
finish(result.problems.length === 0 ? 0 : 1);
