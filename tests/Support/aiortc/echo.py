"""aiortc (Debian's python3-aiortc) as an echo client: offers audio and video to POST /api/echo exactly as aiortc
makes the offer, applies the answer, sends a moving test picture and a tone, and decodes what comes back. Prints one
JSON line: the connection state, the frames aiortc decoded per kind, every ICE candidate pair aioice checked with its
state, the checks aioice failed for a response from another address than the request went to ("source address
mismatch", RFC 8445 §7.2.5.2.1), and any problem. Usage: /usr/bin/python3 echo.py BASE_URL [SECONDS]"""
import asyncio
import fractions
import json
import logging
import math
import sys
import time
import urllib.request

import numpy
from av import AudioFrame, VideoFrame
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription


class Tone(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames of 48 kHz mono, paced in real time."""
    kind = "audio"

    def __init__(self):
        super().__init__()
        self._samples = 0
        self._start = None

    async def recv(self):
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._samples / 48000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (numpy.arange(960) + self._samples) / 48000
        pcm = (numpy.sin(2 * math.pi * 440 * t) * 8000).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, 48000)
        self._samples += 960
        return frame


class MovingPicture(MediaStreamTrack):
    """320x240 at 15 frames/s: a bright square that moves across a gradient, so every frame differs."""
    kind = "video"

    def __init__(self):
        super().__init__()
        self._count = 0
        self._start = None
        self._background = numpy.tile(numpy.linspace(0, 255, 320, dtype=numpy.uint8), (240, 1))

    async def recv(self):
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._count / 15 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        rgb = numpy.stack([self._background] * 3, axis=-1).copy()
        x = (self._count * 8) % 280
        rgb[100:140, x:x + 40] = 255
        frame = VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = self._count * 6000
        frame.time_base = fractions.Fraction(1, 90000)
        self._count += 1
        return frame


class SourceMismatches(logging.Handler):
    """Keeps aioice's "Check ... failed : source address mismatch" messages (logged at INFO)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if "source address mismatch" in message:
            self.messages.append(message)


def post_offer(url, sdp):
    request = urllib.request.Request(url, data=sdp.encode(), method="POST", headers={"Content-Type": "application/sdp"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, response.read().decode()


def video_ssrc(answer):
    """The SSRC the server sends the echoed video under (the answer's first a=ssrc in its video section)."""
    in_video = False
    for line in answer.split("\r\n"):
        if line.startswith("m="):
            in_video = line.startswith("m=video")
        elif in_video and line.startswith("a=ssrc:"):
            return int(line[len("a=ssrc:"):].split(" ")[0])
    return None


def ice_pairs(pc):
    """Every candidate pair aioice checked (aiortc keeps its aioice connection inside the ICE transport)."""
    pairs = []
    for transceiver in pc.getTransceivers():
        transport = transceiver.receiver.transport.transport
        connection = getattr(transport, "_connection", None)
        for pair in getattr(connection, "_check_list", []) if connection else []:
            pairs.append({
                "local": f"{pair.local_candidate.host}:{pair.local_candidate.port}",
                "remote": f"{pair.remote_candidate.host}:{pair.remote_candidate.port}",
                "state": pair.state.name,
                "nominated": bool(pair.nominated),
            })
        if pairs:
            break
    return pairs


async def main(base, seconds):
    result = {"problems": [], "audioFrames": 0, "videoFrames": 0}
    mismatches = SourceMismatches()
    ice_logger = logging.getLogger("aioice.ice")
    ice_logger.addHandler(mismatches)
    ice_logger.setLevel(logging.INFO)
    pc = RTCPeerConnection()
    received = {"audio": 0, "video": 0}
    sizes = set()

    @pc.on("track")
    def on_track(track):
        async def consume():
            while True:
                try:
                    frame = await track.recv()
                except Exception:
                    return
                received[track.kind] += 1
                if track.kind == "video":
                    sizes.add(f"{frame.width}x{frame.height}")
        asyncio.ensure_future(consume())

    pc.addTrack(Tone())
    pc.addTrack(MovingPicture())
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    result["offerExtmaps"] = [line for line in offer.split("\r\n") if line.startswith("a=extmap:")]
    status, answer = await asyncio.get_running_loop().run_in_executor(None, post_offer, base.rstrip("/") + "/api/echo", offer)
    result["status"] = status
    result["answerExtmaps"] = [line for line in answer.split("\r\n") if line.startswith("a=extmap:")]
    result["answerCandidates"] = [line for line in answer.split("\r\n") if line.startswith("a=candidate:")]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    # aiortc's VP8 encoder makes a keyframe only every 3000 frames or on a PLI, and its receiver asks for one only on
    # a gap it notices: if the first keyframe went out before the path was up, ask for one as a browser's decoder would
    # (the echo relays the PLI to aiortc's own sender).
    echoed_video = video_ssrc(answer)
    video_receiver = next(t.receiver for t in pc.getTransceivers() if t.kind == "video")
    result["plisSent"] = 0
    next_pli = time.monotonic() + 2
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pc.connectionState == "failed":
            result["problems"].append("connection failed")
            break
        if received["audio"] >= 50 and received["video"] >= 15:
            break
        if pc.connectionState == "connected" and received["video"] == 0 and echoed_video is not None and time.monotonic() >= next_pli:
            try:
                await video_receiver._send_rtcp_pli(echoed_video)
                result["plisSent"] += 1
            except Exception as error:  # a private method of aiortc 1.4.0's receiver: say so if it is gone
                result["problems"].append(f"could not send a PLI: {error!r}")
                echoed_video = None
            next_pli = time.monotonic() + 2
        await asyncio.sleep(0.1)
    result["connectionState"] = pc.connectionState
    result["audioFrames"] = received["audio"]
    result["videoFrames"] = received["video"]
    result["videoSizes"] = sorted(sizes)
    result["pairs"] = ice_pairs(pc)
    result["sourceMismatches"] = mismatches.messages
    if received["audio"] == 0:
        result["problems"].append("no audio frame decoded")
    if received["video"] == 0:
        result["problems"].append("no video frame decoded")
    await pc.close()
    print(json.dumps(result), flush=True)
    return 0 if not result["problems"] else 1


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr)
    logging.getLogger().handlers[0].setLevel(logging.INFO if "-v" in sys.argv else logging.WARNING)
    args = [a for a in sys.argv[1:] if a != "-v"]
    sys.exit(asyncio.run(main(args[0], float(args[1]) if len(args) > 1 else 30)))
