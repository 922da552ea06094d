// What Google's libwebrtc for node (@roamhq/wrtc) sends and how it judges what it decodes: a 440 Hz tone and a
// 320x240 picture with a bright square that moves from left to right, fed through the library's nonstandard sources
// (its own Opus and VP8 encoders run on them); decoded audio and video come out of its nonstandard sinks.
import wrtc from "@roamhq/wrtc";

const { RTCAudioSource, RTCVideoSource, RTCAudioSink, RTCVideoSink } = wrtc.nonstandard;

export const Width = 320;
export const Height = 240;
const SquareTop = 100;
const SquareSize = 40;

/** Sends the tone and the picture on `pc` (one stream) and decodes every track it receives into `stats`; returns a
 * function that stops the sources and the sinks. */
export function publish(pc, stats) {
  const sources = startSources();
  const stops = [() => sources.stop()];
  const stream = new wrtc.MediaStream([sources.audioTrack, sources.videoTrack]);
  pc.addTrack(sources.audioTrack, stream);
  pc.addTrack(sources.videoTrack, stream);
  pc.ontrack = (event) => stops.push(watch(event.track, stats));
  return () => { for (const stop of stops) stop(); };
}

/** Starts the tone (10 ms chunks) and the picture (15 frames/s); returns the two tracks and a function that stops them. */
function startSources() {
  const audio = new RTCAudioSource();
  const video = new RTCVideoSource();
  let samples = 0;
  let count = 0;
  const audioTimer = setInterval(() => {
    const chunk = new Int16Array(480);
    for (let i = 0; i < chunk.length; i++) chunk[i] = Math.round(Math.sin((2 * Math.PI * 440 * (samples + i)) / 48000) * 8000);
    samples += chunk.length;
    audio.onData({ samples: chunk, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: chunk.length });
  }, 10);
  const videoTimer = setInterval(() => {
    video.onFrame({ width: Width, height: Height, data: picture(count++) });
  }, 1000 / 15);
  return {
    audioTrack: audio.createTrack(),
    videoTrack: video.createTrack(),
    stop() { clearInterval(audioTimer); clearInterval(videoTimer); },
  };
}

/** An I420 frame: a horizontal luma gradient with a white square at the frame's column, grey chroma. */
function picture(n) {
  const data = new Uint8ClampedArray(Width * Height * 1.5);
  const x0 = (n * 8) % (Width - SquareSize);
  for (let y = 0; y < Height; y++) {
    for (let x = 0; x < Width; x++) {
      const inSquare = y >= SquareTop && y < SquareTop + SquareSize && x >= x0 && x < x0 + SquareSize;
      data[y * Width + x] = inSquare ? 255 : Math.round((x * 160) / Width);
    }
  }
  data.fill(128, Width * Height);
  return data;
}

/** Where the bright square is in a decoded I420 frame of the test picture (the mean column of its rows' luma peaks),
 * or null when no square stands out. */
export function squareColumn(frame) {
  if (frame.width !== Width || frame.height !== Height) return null;
  let sum = 0;
  let rows = 0;
  for (let y = SquareTop + 5; y < SquareTop + SquareSize - 5; y++) {
    let bright = 0;
    let first = -1;
    for (let x = 0; x < Width; x++) {
      if (frame.data[y * Width + x] > 230) {
        if (first < 0) first = x;
        bright++;
      }
    }
    if (bright >= SquareSize - 10 && bright <= SquareSize + 10) { sum += first; rows++; }
  }
  return rows >= 10 ? Math.round(sum / rows) : null;
}

/** Counts what the sinks decode from one received track: frames, sizes and the square's columns for video; 10 ms
 * chunks, their energy and their zero crossings (a 440 Hz tone crosses zero 880 times a second) for audio. */
export function watch(track, stats) {
  if (track.kind === "video") {
    const sink = new RTCVideoSink(track);
    sink.onframe = ({ frame }) => {
      stats.videoFrames++;
      stats.videoSizes.add(`${frame.width}x${frame.height}`);
      const column = squareColumn(frame);
      if (column !== null) stats.squareColumns.add(column);
    };
    return () => sink.stop();
  }
  const sink = new RTCAudioSink(track);
  sink.ondata = (data) => {
    stats.audioChunks++;
    const s = data.samples;
    const step = data.channelCount || 1;
    let energy = 0;
    let crossings = 0;
    let n = 0;
    let previous = stats.lastSample;
    for (let i = 0; i < s.length; i += step, n++) {
      energy += s[i] * s[i];
      if (previous !== null && (previous < 0) !== (s[i] < 0)) crossings++;
      previous = s[i];
    }
    stats.lastSample = previous;
    const rms = Math.sqrt(energy / Math.max(1, n));
    stats.peakRms = Math.max(stats.peakRms, Math.round(rms));
    if (rms > 1000) {
      stats.loudChunks++;
      stats.crossings += crossings;
      stats.loudSeconds += n / data.sampleRate;
    }
  };
  return () => sink.stop();
}

export function newStats() {
  return { lastSample: null, peakRms: 0, audioChunks: 0, loudChunks: 0, crossings: 0, loudSeconds: 0, videoFrames: 0, videoSizes: new Set(), squareColumns: new Set() };
}

/** The stats as plain JSON: the tone's estimated frequency from the loud chunks' zero crossings. */
export function summary(stats) {
  return {
    audioChunks: stats.audioChunks,
    loudChunks: stats.loudChunks,
    peakRms: stats.peakRms,
    toneHz: stats.loudSeconds > 0 ? Math.round(stats.crossings / 2 / stats.loudSeconds) : 0,
    videoFrames: stats.videoFrames,
    videoSizes: [...stats.videoSizes].sort(),
    squareColumns: stats.squareColumns.size,
  };
}

/** Resolves once ICE gathering is complete (the echo takes one offer with every candidate in it, no trickle). */
export function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
  });
}
