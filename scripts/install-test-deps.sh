#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the chromium browser that the
# Playwright interop tests drive (never a browser download: Debian's own package), and opencv-doc for a photo
# of a real person (examples/data/messi5.jpg) that the pose tests turn into a fake camera clip.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -f /usr/share/doc/opencv-doc/examples/data/messi5.jpg ] || need+=(opencv-doc)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v chromium >/dev/null 2>&1 || { echo "chromium is required for the browser tests" >&2; exit 1; }
# aiortc (a Python WebRTC stack) for the echo interop test (tests/Interop/AiortcEchoTests): Debian's package, for
# Debian's own python3 (called by its full path: another python3 may come first on PATH).
if ! /usr/bin/python3 -c "import aiortc" >/dev/null 2>&1; then
  echo "installing: python3-aiortc"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-aiortc >/dev/null
fi
/usr/bin/python3 -c "import aiortc" >/dev/null 2>&1 || { echo "python3-aiortc is required for the aiortc interop test" >&2; exit 1; }
# werift (a TypeScript WebRTC stack; tests/Interop/WeriftDataChannelTests, NodeEchoTests) and Google's libwebrtc for
# node (@roamhq/wrtc; NodeEchoTests): node and npm from Debian, then each folder's own dependencies in
# tests/Support/werift and tests/Support/wrtc (not committed).
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
support="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/Support"
for peer in werift:werift wrtc:@roamhq/wrtc; do
  dir="$support/${peer%%:*}"
  module="${peer#*:}"
  if [ ! -d "$dir/node_modules/$module" ]; then
    echo "installing $module's node modules"
    (cd "$dir" && npm install --no-audit --no-fund --silent)
  fi
done
# axe-core (the accessibility engine) for the phone tests (tests/Phone): injected into the pages by the tests.
axe_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/Phone/axe"
if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  echo "installing axe-core's node module"
  (cd "$axe_dir" && npm install --no-audit --no-fund --silent)
fi
