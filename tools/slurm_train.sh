#!/usr/bin/env bash
# Training on a slurm cluster:
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
# WORK_DIR defaults to work_dirs/JOB_NAME (a 4th argument starting with '-' is a train.py option).
# GPUS (total processes, default 8), GPUS_PER_NODE (default 8; 0: CPU nodes, gloo),
# CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun options, split on spaces).
# emanplug is an installed package (pip install -e .): srun passes this shell's environment
# (its default --export=ALL) to every task, and the tasks need no PYTHONPATH.
set -euo pipefail
if [ "$#" -lt 3 ]; then
    echo "usage: [GPUS=N] bash $0 PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
WORK_DIR="work_dirs/$JOB_NAME"
if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
    WORK_DIR=${1:-$WORK_DIR}  # an empty WORK_DIR keeps the default
    shift
fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
read -r -a EXTRA <<< "${SRUN_ARGS:-}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PER_NODE=()
if [ "$GPUS_PER_NODE" -gt 0 ]; then
    PER_NODE=(--gres="gpu:$GPUS_PER_NODE" --ntasks-per-node="$GPUS_PER_NODE")
fi
srun -p "$PARTITION" --job-name="$JOB_NAME" ${PER_NODE[@]+"${PER_NODE[@]}"} \
    --ntasks="$GPUS" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 ${EXTRA[@]+"${EXTRA[@]}"} \
    python -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher slurm "$@"
