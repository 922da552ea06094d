// Media for werift peers. werift carries RTP but has no codec: media.py encodes a repeating clip (VP8 picture with a
// moving square, Opus tone) with libvpx/libopus, this module sends it in real time as RTP on werift's senders
// (VP8 payload descriptors of RFC 7741, one Opus frame a packet), reassembles the VP8 frames and Opus packets werift
// receives, and hands them back to media.py, which decodes them.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RtpHeader, RtpPacket } from "werift";

const here = dirname(fileURLToPath(import.meta.url));
// Debian's own python3, where python3-aiortc and its PyAV install (another python3 may come first on PATH).
const python = "/usr/bin/python3";
const maxPayload = 1100;

export const hash = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** The clip media.py encodes: VP8 frames ({data, key}) and Opus packets, as Buffers. */
export function loadClip() {
  const clip = JSON.parse(execFileSync(python, ["media.py", "encode"], { cwd: here, maxBuffer: 64 << 20 }).toString());
  return {
    video: clip.video.map((f) => ({ data: Buffer.from(f.data, "base64"), key: f.key })),
    audio: clip.audio.map((p) => Buffer.from(p, "base64")),
  };
}

/** Sends the clip over and over in real time on the two senders (15 frames/s, 20 ms Opus frames) until stopped. */
export function startSending(clip, audioSender, videoSender) {
  let videoSeq = Math.floor(Math.random() * 60000);
  let audioSeq = Math.floor(Math.random() * 60000);
  let frame = 0;
  let packet = 0;
  const sentFrames = new Set(clip.video.map((f) => hash(f.data)));
  const sentAudio = new Set(clip.audio.map(hash));
  const send = (sender, header, payload) => {
    sender.sendRtp(new RtpPacket(new RtpHeader(header), payload)).catch(() => {});
  };
  const videoTimer = setInterval(() => {
    const data = clip.video[frame % clip.video.length].data;
    const timestamp = (frame * 6000) >>> 0;
    frame++;
    for (let offset = 0; offset < data.length; offset += maxPayload) {
      const chunk = data.subarray(offset, offset + maxPayload);
      // RFC 7741 §4.2: a one-byte descriptor, S set on the first packet of the frame (partition 0).
      const payload = Buffer.concat([Buffer.from([offset === 0 ? 0x10 : 0x00]), chunk]);
      const last = offset + maxPayload >= data.length;
      send(videoSender, { sequenceNumber: videoSeq, timestamp, marker: last, payloadType: 96 }, payload);
      videoSeq = (videoSeq + 1) & 0xffff;
    }
  }, 1000 / 15);
  const audioTimer = setInterval(() => {
    const data = clip.audio[packet % clip.audio.length];
    send(audioSender, { sequenceNumber: audioSeq, timestamp: (packet * 960) >>> 0, payloadType: 111 }, data);
    packet++;
    audioSeq = (audioSeq + 1) & 0xffff;
  }, 20);
  return {
    sentFrames,
    sentAudio,
    stop() { clearInterval(videoTimer); clearInterval(audioTimer); },
  };
}

/** The length of a VP8 payload descriptor (RFC 7741 §4.2) and whether it starts a frame. */
function vp8Descriptor(payload) {
  let length = 1;
  const start = (payload[0] & 0x10) !== 0 && (payload[0] & 0x07) === 0;
  if (payload[0] & 0x80) {
    const x = payload[1];
    length++;
    if (x & 0x80) length += payload[length] & 0x80 ? 2 : 1;
    if (x & 0x40) length++;
    if (x & 0x30) length++;
  }
  return { length, start };
}

/** Collects what werift receives on a track: whole VP8 frames (packets of one timestamp from the start packet to the
 * marker, every sequence number present) or Opus packets, as Buffers in `store.video` / `store.audio`. */
export function collect(track, store) {
  if (track.kind === "audio") {
    track.onReceiveRtp.subscribe((rtp) => { if (rtp.payload.length > 0) store.audio.push(Buffer.from(rtp.payload)); });
    return;
  }
  const pending = new Map(); // timestamp -> Map(sequence number -> {payload, start, marker})
  track.onReceiveRtp.subscribe((rtp) => {
    if (rtp.payload.length === 0) return;
    const { timestamp, sequenceNumber, marker } = rtp.header;
    const { length, start } = vp8Descriptor(rtp.payload);
    if (!pending.has(timestamp)) pending.set(timestamp, new Map());
    const packets = pending.get(timestamp);
    packets.set(sequenceNumber, { payload: rtp.payload.subarray(length), start, marker });
    const first = [...packets].find(([, p]) => p.start);
    const last = [...packets].find(([, p]) => p.marker);
    if (!first || !last) return;
    const count = ((last[0] - first[0]) & 0xffff) + 1;
    const parts = [];
    for (let i = 0; i < count; i++) {
      const p = packets.get((first[0] + i) & 0xffff);
      if (!p) return;
      parts.push(p.payload);
    }
    pending.delete(timestamp);
    store.video.push(Buffer.concat(parts));
    if (pending.size > 100) pending.delete(pending.keys().next().value);
  });
}

/** What media.py decodes from the collected frames: {videoFrames, videoSizes, squareColumns, audioFrames,
 * loudFrames, toneHz, ...}. */
export function decode(store) {
  const dir = mkdtempSync(join(tmpdir(), "werift-media-"));
  try {
    const file = join(dir, "received.json");
    writeFileSync(file, JSON.stringify({
      video: store.video.map((b) => b.toString("base64")),
      audio: store.audio.map((b) => b.toString("base64")),
    }));
    return JSON.parse(execFileSync(python, ["media.py", "decode", file], { cwd: here, maxBuffer: 16 << 20 }).toString());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
