#!/usr/bin/env bash
# The test command: sets up the environment if needed, then runs the test suite
# (arguments go to pytest, e.g. -q, -k NAME, -m "not dist").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EMANPLUG_ROOT"
exec python -m pytest "$@"
