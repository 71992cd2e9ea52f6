#!/usr/bin/env bash
# Sourced by dist_train.sh and dist_test.sh: torchrun_tool SCRIPT NUM_PROCESSES [SCRIPT ARGS...]
# starts NUM_PROCESSES copies of tools/SCRIPT with --launcher pytorch.  Multi-node: NNODES,
# NODE_RANK, MASTER_ADDR and PORT (defaults 1, 0, 127.0.0.1, 29500).  One thread per process
# unless OMP_NUM_THREADS says otherwise.  EMANPLUG_PYTHON: the Python to run (default: python).
torchrun_tool() {
  local script=$1 nproc=$2
  shift 2
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "${EMANPLUG_PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$nproc" --master_port="${PORT:-29500}" \
    "$(dirname "${BASH_SOURCE[0]}")/$script" "$@" --launcher pytorch
}
