#!/usr/bin/env bash
# The main job: sets up the environment on first use (tools/env.sh), then trains MoCo v2 with
# a BN and with an EMAN teacher on scikit-learn's digits and compares them (tools/quickstart.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EMANPLUG_ROOT"
exec python tools/quickstart.py "$@"
