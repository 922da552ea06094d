#!/usr/bin/env python3
"""Opens many TCP connections that never send a byte (an unauthenticated flood), holds them, and reports.

Used by tests/Security/ConnectionFloodTests: run as several processes, since one process's open-file limit is
below the number of connections the test opens.

usage: silent_connections.py HOST PORT[,PORT...] COUNT FIRST_SOURCE SOURCES HOLD_SECONDS
  connections go round-robin over the ports and over SOURCES consecutive source addresses from FIRST_SOURCE
  (loopback 127.x.y.z addresses are all local on Linux). Prints one JSON line: attempted, failed (could not even
  start: no port, no file), open_after_hold (connections the server had not closed when the hold ended).
"""
import ipaddress
import json
import select
import socket
import sys
import time


def main():
    host, ports, count, first, sources, hold = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], int(sys.argv[3]), \
        ipaddress.ip_address(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    sockets, failed = [], 0
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setblocking(False)
            s.bind((str(first + (i % sources)), 0))
            s.connect_ex((host, ports[i % len(ports)]))
            sockets.append(s)
        except OSError:
            failed += 1
            s.close()
    print(json.dumps({"event": "opened", "attempted": count, "failed": failed}), flush=True)
    time.sleep(hold)
    poller = select.poll()
    for s in sockets:
        poller.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
    closed = set()
    for fd, _ in poller.poll(0):
        closed.add(fd)
    open_after = len(sockets) - len(closed)
    for s in sockets:
        s.close()
    print(json.dumps({"event": "done", "attempted": count, "failed": failed, "open_after_hold": open_after}), flush=True)


if __name__ == "__main__":
    main()
