"""Codecs for the werift peers: werift (a TypeScript WebRTC stack) carries RTP but has no audio or video codec, so
its media is encoded and judged here with libvpx and libopus through PyAV (a dependency of Debian's python3-aiortc).

  /usr/bin/python3 media.py encode          prints {"video": [...], "audio": [...]}: three seconds of a 320x240
                                            picture with a bright square moving left to right (VP8, 15 frames/s,
                                            a key frame every 15) and of a 440 Hz tone (Opus, 20 ms frames), each
                                            frame base64 encoded; the clip repeats cleanly (it starts on a key frame)
  /usr/bin/python3 media.py decode FILE     reads {"video": [...], "audio": [...]} (frames werift received) and
                                            prints what libvpx and libopus decode from them: frames, sizes, how many
                                            distinct places the square was seen at, Opus frames with the tone in them,
                                            the loudest frame's RMS and the tone's frequency from its zero crossings
"""
import base64
import fractions
import json
import math
import sys

import av
import numpy

WIDTH, HEIGHT, FPS = 320, 240, 15
SQUARE_TOP, SQUARE_SIZE = 100, 40
CLIP_FRAMES = 3 * FPS


def picture(n):
    luma = numpy.tile(numpy.linspace(0, 160, WIDTH, dtype=numpy.uint8), (HEIGHT, 1))
    rgb = numpy.stack([luma] * 3, axis=-1).copy()
    x = (n * 8) % (WIDTH - SQUARE_SIZE)
    rgb[SQUARE_TOP:SQUARE_TOP + SQUARE_SIZE, x:x + SQUARE_SIZE] = 255
    return rgb


def encode():
    video = av.CodecContext.create("libvpx", "w")
    video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    video.time_base = fractions.Fraction(1, FPS)
    video.framerate = FPS
    video.bit_rate = 400_000
    video.gop_size = FPS
    video.options = {"deadline": "realtime", "lag-in-frames": "0", "auto-alt-ref": "0"}
    frames = []
    for n in range(CLIP_FRAMES):
        frame = av.VideoFrame.from_ndarray(picture(n), format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        # A key frame every FPS frames, the first included, so the clip can repeat from its start.
        frame.pict_type = av.video.frame.PictureType.I if n % FPS == 0 else av.video.frame.PictureType.NONE
        frames += [{"data": base64.b64encode(bytes(p)).decode(), "key": bool(p.is_keyframe)} for p in video.encode(frame)]
    frames += [{"data": base64.b64encode(bytes(p)).decode(), "key": bool(p.is_keyframe)} for p in video.encode(None)]

    audio = av.CodecContext.create("libopus", "w")
    audio.sample_rate, audio.layout, audio.format = 48000, "mono", "s16"
    audio.bit_rate = 32000
    packets = []
    for n in range(CLIP_FRAMES * 50 // FPS):
        t = (numpy.arange(960) + n * 960) / 48000
        pcm = (numpy.sin(2 * math.pi * 440 * t) * 8000).astype(numpy.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48000, n * 960, fractions.Fraction(1, 48000)
        packets += [base64.b64encode(bytes(p)).decode() for p in audio.encode(frame)]
    print(json.dumps({"video": frames, "audio": packets}))


def square_column(luma):
    columns = []
    for y in range(SQUARE_TOP + 5, SQUARE_TOP + SQUARE_SIZE - 5):
        bright = numpy.nonzero(luma[y] > 230)[0]
        if SQUARE_SIZE - 10 <= len(bright) <= SQUARE_SIZE + 10:
            columns.append(int(bright[0]))
    return round(sum(columns) / len(columns)) if len(columns) >= 10 else None


def decode(path):
    with open(path) as f:
        received = json.load(f)
    result = {"videoFrames": 0, "videoErrors": 0, "videoSizes": [], "squareColumns": 0,
              "audioFrames": 0, "audioErrors": 0, "loudFrames": 0, "peakRms": 0, "toneHz": 0}
    video = av.CodecContext.create("vp8", "r")
    sizes, columns = set(), set()
    for data in received.get("video", []):
        try:
            for frame in video.decode(av.Packet(base64.b64decode(data))):
                result["videoFrames"] += 1
                sizes.add(f"{frame.width}x{frame.height}")
                if (frame.width, frame.height) == (WIDTH, HEIGHT):
                    column = square_column(frame.to_ndarray(format="gray"))
                    if column is not None:
                        columns.add(column)
        except av.AVError:
            result["videoErrors"] += 1
    result["videoSizes"] = sorted(sizes)
    result["squareColumns"] = len(columns)

    audio = av.CodecContext.create("libopus", "r")
    audio.sample_rate, audio.layout = 48000, "mono"
    crossings, loud_seconds = 0, 0.0
    for data in received.get("audio", []):
        try:
            for frame in audio.decode(av.Packet(base64.b64decode(data))):
                result["audioFrames"] += 1
                pcm = frame.to_ndarray().astype(numpy.float64).reshape(-1)
                if pcm.dtype.kind == "f" and numpy.abs(pcm).max() <= 1.0:
                    pcm = pcm * 32768
                rms = math.sqrt(numpy.mean(pcm * pcm))
                result["peakRms"] = max(result["peakRms"], round(rms))
                if rms > 1000:
                    result["loudFrames"] += 1
                    crossings += int(numpy.count_nonzero(numpy.diff(numpy.signbit(pcm))))
                    loud_seconds += frame.samples / frame.sample_rate
        except av.AVError:
            result["audioErrors"] += 1
    result["toneHz"] = round(crossings / 2 / loud_seconds) if loud_seconds > 0 else 0
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1:2] == ["encode"]:
        encode()
    elif sys.argv[1:2] == ["decode"] and len(sys.argv) == 3:
        decode(sys.argv[2])
    else:
        sys.exit(__doc__)
