#!/usr/bin/env bash
# The weak-link report (docs/weak-links.md): on every profile of the link emulator and the 4G-EDGE-4G schedule, the
# session through the server beside a plain browser-to-browser call through the same emulator, in the same run.
# Prints a Markdown table (and the tests' own lines above it). About 10 minutes on a 2-core machine.
#   scripts/weak-link-report.sh                 every profile and the schedule
#   scripts/weak-link-report.sh edge gprs       the links named (profile names or schedules such as 0:4g,30:edge)
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/install-test-deps.sh"
links=("$@")
[ ${#links[@]} -gt 0 ] || links=(4g 3g 3g-poor edge gprs 0:4g,30:edge,60:4g)
table=$(mktemp)
trap 'rm -f "$table"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
TELEREHAB_WEAK_LINK_REPORT="${links[*]}" TELEREHAB_WEAK_LINK_REPORT_FILE="$table" \
  dotnet test tests -c Release --filter "FullyQualifiedName~On_a_weak_link_the_session_keeps_voice_and_movement" \
  --logger "console;verbosity=detailed" | grep -E '^ (direct call|TeleRehab):|^ +(Passed|Failed) ' || true
echo
echo "| link | path | audio concealed at the therapist | seconds without movement | rtt (ms) | kbit/s up / down | pose / video frames a second at the therapist | modes (the patient's page; s of the link's clock) |"
echo "|---|---|---|---|---|---|---|---|"
cat "$table"
