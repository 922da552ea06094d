"""aiortc (Debian's python3-aiortc) as a participant in a room: sends the tone and the moving picture of echo.py and
decodes what the room sends it. The test does the hub signalling for it and speaks one JSON object a line on
stdin/stdout (tests/Support/ExternalParticipant.cs): "offer" (receive these tracks) -> an offer with a recvonly
transceiver per track and its subscriptions; "answer" -> applied, "answered"; "stop" -> "result" with the frames
decoded per kind, the sizes of the video and the loudest audio frame's RMS, then exit.
Usage: /usr/bin/python3 participant.py"""
import asyncio
import json
import math
import sys

import numpy
from aiortc import RTCPeerConnection, RTCSessionDescription

from echo import MovingPicture, Tone


def say(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main():
    pc = RTCPeerConnection()
    decoded = {"audioFrames": 0, "videoFrames": 0, "peakRms": 0}
    sizes = set()
    receiving = {}

    @pc.on("connectionstatechange")
    def on_state():
        say({"type": "state", "connectionState": pc.connectionState})

    @pc.on("track")
    def on_track(track):
        async def consume():
            while True:
                try:
                    frame = await track.recv()
                except Exception:
                    return
                if track.kind == "video":
                    decoded["videoFrames"] += 1
                    sizes.add(f"{frame.width}x{frame.height}")
                else:
                    decoded["audioFrames"] += 1
                    pcm = frame.to_ndarray().astype(numpy.float64)
                    decoded["peakRms"] = max(decoded["peakRms"], round(math.sqrt(float(numpy.mean(pcm * pcm)))))
        asyncio.ensure_future(consume())

    pc.addTrack(Tone())
    pc.addTrack(MovingPicture())
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        message = json.loads(line)
        if message["type"] == "offer":
            for track in message["tracks"]:
                if track["trackId"] not in receiving:
                    receiving[track["trackId"]] = pc.addTransceiver(track["kind"], direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            subscriptions = [{"mid": receiving[t["trackId"]].mid, "trackId": t["trackId"]} for t in message["tracks"]]
            say({"type": "offer", "sdp": pc.localDescription.sdp, "subscriptions": subscriptions})
        elif message["type"] == "answer":
            await pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="answer"))
            say({"type": "answered"})
        elif message["type"] == "stop":
            break
    result = {"type": "result", "connectionState": pc.connectionState, "videoSizes": sorted(sizes), **decoded}
    await pc.close()
    say(result)


if __name__ == "__main__":
    asyncio.run(main())
