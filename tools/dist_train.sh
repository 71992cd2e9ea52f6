#!/usr/bin/env bash
# Distributed training with torchrun:  bash tools/dist_train.sh CONFIG NUM_PROCESSES [train.py args]
# Multi-node: run on every node with NNODES, NODE_RANK, MASTER_ADDR and PORT set, e.g.
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 bash tools/dist_train.sh CONFIG 8
# GPUs use nccl; without GPUs every process runs on the CPU with gloo.
set -euo pipefail
TOOLS="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/_torchrun.sh
source "$TOOLS/_torchrun.sh"
CONFIG=$1
NPROC=$2
# check the config once, before starting processes: a wrong key gives one line, not N tracebacks
"${EMANPLUG_PYTHON:-python}" "$TOOLS/train.py" "$CONFIG" --check-only "${@:3}"
torchrun_tool train.py "$NPROC" "$CONFIG" "${@:3}"
