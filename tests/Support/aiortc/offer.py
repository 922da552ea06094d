"""Prints the SDP offer aiortc (Debian's python3-aiortc) makes for audio and video to send and receive, as the echo
test sends it. Used to refresh tests/Sdp/SdpSamples.cs (Aiortc): `/usr/bin/python3 offer.py`."""
import asyncio
import sys

from aiortc import RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack


async def main():
    pc = RTCPeerConnection()
    pc.addTrack(AudioStreamTrack())
    pc.addTrack(VideoStreamTrack())
    await pc.setLocalDescription(await pc.createOffer())
    sys.stdout.write(pc.localDescription.sdp)
    await pc.close()


asyncio.run(main())
