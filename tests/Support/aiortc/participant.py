"""aiortc (Debian's python3-aiortc) as a participant in a room: sends the tone and the moving picture of echo.py and
decodes what the room sends it. The test does the hub signalling for it and speaks one JSON object a line on
stdin/stdout (tests/Support/ExternalParticipant.cs): "offer" (receive these tracks) -> an offer with a recvonly
transceiver per track, its subscriptions and the connection and DTLS states when it was made; "answer" -> applied,
"answered" (with "thenOffer": then at once the next offer, for those tracks, while the transport still connects, said
once DTLS has connected); "stop" ->
"result" with the frames decoded per kind, the sizes of the video and the loudest audio frame's RMS, then exit;
"stats" -> "stats": what each sender sent and whether it still runs, the DTLS state and the ICE pair in use (for a
test's failure dump).
Usage: /usr/bin/python3 participant.py"""
import asyncio
import json
import logging
import math
import os
import sys

import numpy
from aiortc import RTCPeerConnection, RTCSessionDescription

from echo import MovingPicture, Tone


def sender_stats(pc):
    """What aiortc's senders did (aiortc 1.4.0's private fields; None where they are gone) and its transport's state."""
    senders = []
    for transceiver in pc.getTransceivers():
        sender = transceiver.sender
        if sender.track is None and getattr(sender, "_RTCRtpSender__rtp_task", None) is None:
            continue
        task = getattr(sender, "_RTCRtpSender__rtp_task", None)
        senders.append({
            "mid": transceiver.mid, "kind": transceiver.kind, "ssrc": sender._ssrc,
            "direction": transceiver.currentDirection,
            "packets": getattr(sender, "_RTCRtpSender__packet_count", None),
            "running": None if task is None else not task.done(),
        })
    dtls = next((t.receiver.transport for t in pc.getTransceivers()), None)
    connection = getattr(getattr(dtls, "transport", None), "_connection", None)
    nominated = getattr(connection, "_nominated", {}) if connection else {}
    return {
        "senders": senders,
        "dtls": None if dtls is None else dtls.state,
        "pairs": [f"{p.local_candidate.host}:{p.local_candidate.port} -> {p.remote_addr[0]}:{p.remote_addr[1]}" for p in nominated.values()],
    }


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

    async def offer(tracks, after_dtls=False):
        for track in tracks:
            if track["trackId"] not in receiving:
                receiving[track["trackId"]] = pc.addTransceiver(track["kind"], direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        made = {"connectionState": pc.connectionState, "dtlsState": sender_stats(pc)["dtls"]}
        if after_dtls:
            # Held until the DTLS transport the last answer started has connected (aiortc's connection itself says
            # "connecting" while this offer's new transceivers have their own transports, until the answer).
            for _ in range(3000):
                if sender_stats(pc)["dtls"] in ("connected", "closed", "failed"):
                    break
                await asyncio.sleep(0.01)
        subscriptions = [{"mid": receiving[t["trackId"]].mid, "trackId": t["trackId"]} for t in tracks]
        say({"type": "offer", "sdp": pc.localDescription.sdp, "subscriptions": subscriptions, "made": made,
             "dtlsState": sender_stats(pc)["dtls"]})

    pc.addTrack(Tone())
    pc.addTrack(MovingPicture())
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        message = json.loads(line)
        if message["type"] == "offer":
            await offer(message["tracks"])
        elif message["type"] == "answer":
            await pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="answer"))
            say({"type": "answered"})
            if "thenOffer" in message:
                # The next offer at once, before ICE and DTLS (started by this answer) can finish; said once DTLS is up.
                await offer(message["thenOffer"], after_dtls=True)
        elif message["type"] == "stats":
            say({"type": "stats", **sender_stats(pc)})
        elif message["type"] == "stop":
            break
    # aiortc's connection still says "connected" when its DTLS transport has closed (it has no state for that).
    result = {"type": "result", "connectionState": pc.connectionState, "dtlsState": sender_stats(pc)["dtls"],
              "videoSizes": sorted(sizes), **decoded}
    await pc.close()
    say(result)


if __name__ == "__main__":
    # aiortc's own warnings (a task that died) go to stderr, which the test prints when the page decodes nothing;
    # TELEREHAB_AIORTC_LOG names a file for aiortc's and aioice's debug log of a run.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    logging.getLogger().handlers[0].setLevel(logging.WARNING)
    if os.environ.get("TELEREHAB_AIORTC_LOG"):
        handler = logging.FileHandler(os.environ["TELEREHAB_AIORTC_LOG"])
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        for name in ("aiortc.rtcdtlstransport", "aiortc.rtcpeerconnection", "aioice.ice"):
            logging.getLogger(name).setLevel(logging.DEBUG)
            logging.getLogger(name).addHandler(handler)
    asyncio.run(main())
