#!/usr/bin/env bash
# Runs every test of the project. Installs what the tests need when it is missing
# (Debian's chromium for the browser interop tests), runs the node tests of the web client, then builds and
# runs the xunit suite.
set -euo pipefail
cd "$(dirname "$0")/.."

"$(dirname "$0")/install-test-deps.sh"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The web client's JavaScript unit tests (node:test; every client-web/tests/*.test.mjs). A failure here fails the
# script, after the .NET suite has still run.
log=$(mktemp)
node_log=$(mktemp)
trap 'rm -f "$log" "$node_log"' EXIT
set +e
node --test client-web/tests/ 2>&1 | tee "$node_log"
node_status=${PIPESTATUS[0]}
set -e
set +e
dotnet test TeleRehab.Media.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# The failed tests again, with their messages, just above the closing line, so the end of the log says what failed.
if grep -qE '^ +Failed [A-Za-z_]' "$log"; then
  echo "failed tests:"
  awk '/^ +Failed [A-Za-z_]/ { n = 25 } n > 0 { print; n-- }' "$log" | cut -c1-400
fi
grep -E '^not ok ' "$node_log" || true

# One plain closing line for both runners: "tests: N passed, N failed, N skipped".
count() { grep -E "^ *$1: +[0-9]+ *$" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
node_count() { grep -E "^# $1 [0-9]+$" "$node_log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
passed=$(( $(count Passed) + $(node_count pass) ))
failed=$(( $(count Failed) + $(node_count fail) ))
skipped=$(( $(count Skipped) + $(node_count skipped) ))
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$node_status" -ne 0 ]; then
  echo "node tests failed (exit $node_status)"
  [ "$status" -ne 0 ] || status=$node_status
fi
exit "$status"
