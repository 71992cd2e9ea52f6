#!/usr/bin/env bash
# Distributed evaluation:  bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES [test.py args]
# (NNODES, NODE_RANK, MASTER_ADDR, PORT as in dist_train.sh)
set -euo pipefail
TOOLS="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/_torchrun.sh
source "$TOOLS/_torchrun.sh"
torchrun_tool test.py "$3" "$1" "$2" "${@:4}"
