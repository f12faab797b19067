#!/usr/bin/env bash
# Run the app. With LIBRENMS_URL and NETBOX_URL set (environment or .streamlit/secrets.toml) it uses them;
# with nothing configured it starts the demo: local NetBox with reference data, the LibreNMS simulator
# serving the fixture devices, an RQ worker, then `streamlit run app.py` on http://localhost:8501, where the
# demo analyst signs in with NetBox (username demo, password demo-local-only; the terminal says so too).
#   devtools/run.sh [streamlit args]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
devtools/bootstrap.sh
PY=.venv/bin/python
STATE=.stack/demo
mkdir -p "$STATE"
children=()
cleanup() { for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

configured() { [ -n "${LIBRENMS_URL:-}" ] && [ -n "${NETBOX_URL:-}" ] || grep -qs 'NETBOX_URL' .streamlit/secrets.toml; }

if configured; then
  echo "[run] using the configured LibreNMS and NetBox" >&2
else
  echo "[run] nothing configured: starting the demo (local NetBox + LibreNMS simulator)" >&2
  STACK=demo devtools/stack.sh up
  set -a
  # shellcheck disable=SC1091
  source "$STATE/netbox.env"
  set +a
  $PY -m devtools.demo_data
  export LIBRENMS_URL=http://127.0.0.1:${SIM_PORT:-8001} LIBRENMS_TOKEN=demo-librenms-token
  [ -f "$STATE/mappings.yaml" ] || cp devtools/demo-mappings.yaml "$STATE/mappings.yaml"
  export MAPPING_FILE="$ROOT/$STATE/mappings.yaml"
  $PY -m devtools.librenms_sim --port "${SIM_PORT:-8001}" >"$STATE/simulator.log" 2>&1 &
  children+=($!)
  echo "[run] sign in as the demo analyst: username demo, password demo-local-only" >&2
fi
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/2}
if $PY -m core worker --help >/dev/null 2>&1; then
  $PY -m core worker >"$STATE/worker.log" 2>&1 &
  children+=($!)
fi
$PY -m streamlit run app.py --server.headless true --browser.gatherUsageStats false "$@"
