#!/usr/bin/env bash
# The test command: sets up the environment if needed, then runs the default test
# suite (slow tests excluded; run them with: bash tools/run_tests.sh -m slow).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EMANPLUG_ROOT"
exec python -m pytest "$@"
