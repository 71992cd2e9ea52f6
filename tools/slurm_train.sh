#!/usr/bin/env bash
# Training on a slurm cluster:
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
# GPUS (total), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun options).
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=${4:-work_dirs/$JOB_NAME}
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
GRES=""
if [ "$GPUS_PER_NODE" -gt 0 ]; then GRES="--gres=gpu:$GPUS_PER_NODE"; fi  # GPUS_PER_NODE=0: CPU nodes (gloo)
srun -p "$PARTITION" --job-name="$JOB_NAME" $GRES \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    python -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher slurm "${@:5}"
