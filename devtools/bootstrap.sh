#!/usr/bin/env bash
# Create or refresh the app's virtualenv (.venv) from requirements-dev.txt; with --browser, also make sure
# Debian's headless Chromium is installed for the end-to-end tests. Idempotent and quick when nothing changed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=devtools/lib.sh
source "$ROOT/devtools/lib.sh"
cd "$ROOT"

stamp=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ "$(cat .venv/.stamp 2>/dev/null)" != "$stamp" ]; then
  py=$(find_python)
  [ -x .venv/bin/python ] || { echo "[bootstrap] creating .venv with $py" >&2; "$py" -m venv .venv; }
  echo "[bootstrap] installing requirements-dev.txt into .venv" >&2
  mkdir -p .stack
  pip_install .venv .stack/pip.log -r requirements-dev.txt
  echo "$stamp" >.venv/.stamp
fi

# Chromium, and an emoji font so the screenshots show the status icons a user's browser shows
if [ "${1:-}" = "--browser" ] && { ! command -v chromium >/dev/null || [ ! -d /usr/share/fonts/truetype/noto ]; }; then
  [ "$(id -u)" = 0 ] || { echo "error: install Debian's chromium and fonts-noto-color-emoji" >&2; exit 1; }
  echo "[bootstrap] installing Debian's chromium and an emoji font for the browser tests" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >&2
fi
