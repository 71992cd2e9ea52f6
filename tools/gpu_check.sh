#!/usr/bin/env bash
# The prepared GPU check (bench/gpu_check.py): on a CUDA machine, in under 8 minutes, the CUDA
# tests, then MoCo v2 / BYOL / FixMatch ResNet-50 at 224 px with --amp and nccl on 1 GPU (and 2
# where there are 2), BN/BN vs BN/EMAN (and SyncBN/SyncBN); writes docs/bench/gpu.md.  Without
# CUDA it prints one line saying it skipped, writes nothing and exits 0.
#   bash tools/gpu_check.sh [--steps 25] [--warmup 5] [--budget 450] [--out docs/bench/gpu.md]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EMANPLUG_ROOT"
# a backstop over the script's own stage limits (GPU_CHECK_TIMEOUT seconds; it stops its stages on SIGTERM)
exec timeout -k 15 "${GPU_CHECK_TIMEOUT:-470}" python bench/gpu_check.py "$@"
