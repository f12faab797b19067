#!/usr/bin/env bash
# The test command (README, .ci/run): install what is missing, start a fresh test stack, run pytest.
#   devtools/test.sh [pytest args]
# Installs: .venv from requirements-dev.txt, Debian's chromium for the browser tests, and whatever
# devtools/stack.sh needs (PostgreSQL, Redis, the NetBox virtualenv). The 'test' stack is reset from the
# migrated snapshot on every run, so tests start from a known NetBox.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
devtools/bootstrap.sh --browser
STACK=test devtools/stack.sh reset
set -a
# shellcheck disable=SC1091
source .stack/test/netbox.env
set +a
export LNBI_TEST_STACK=1
exec .venv/bin/python -m pytest "$@"
