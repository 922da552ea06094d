#!/usr/bin/env bash
# The server's CPU per forwarded packet on the real path, socket to socket (docs/capacity.md, "Server CPU per packet"):
# builds the signaling host and the bench in Release, then runs the bench's socket-to-socket measurement for
# (a) one publisher fanned out to 100 subscribers and (b) 50 one-to-one rooms, both people publishing audio and video.
# Each run starts the server as a process of its own and prints its idle CPU first. A measurement, not a test: run it
# on a quiet machine. Extra arguments go to each run (e.g. --window 30s).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release signaling -v quiet -nologo
dotnet build -c Release bench -v quiet -nologo
server=signaling/bin/Release/net10.0/TeleRehab.Signaling.dll
bench=bench/bin/Release/net10.0/TeleRehab.Media.Bench.dll
for scenario in "--fanout 100" "--pairs 50"; do
  # shellcheck disable=SC2086
  dotnet "$bench" socket-to-socket --server "$server" $scenario "$@" | grep -v '^  server: '
done
