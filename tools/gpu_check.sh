#!/usr/bin/env bash
# The prepared GPU check (bench/gpu_check.py): on a CUDA machine, in under 8 minutes, the CUDA
# tests, then MoCo v2 / BYOL / FixMatch ResNet-50 at 224 px with --amp and nccl on 1 GPU (and 2
# where there are 2), BN/BN vs BN/EMAN (and SyncBN/SyncBN), then a short emanplug-eval (linear on
# 1 %, kNN with the float16 bank); writes docs/bench/gpu.md.  Without
# CUDA it checks the stack (versions, every method's model built) and says in one line that it
# skipped the rest, writes nothing and exits 0.
#   bash tools/gpu_check.sh [--wheelhouse DIR] [--steps 25] [--warmup 5] [--budget 450] [--out docs/bench/gpu.md]
# --wheelhouse DIR: a machine with its own PyTorch and no network (e.g. a GPU image): the wheels
# of DIR (made by bash tools/gpu_wheelhouse.sh DIR) are installed with pip --no-index --no-deps
# into .gpu-site/ next to that Python's own torch (PYTHON, default python3), instead of the venv
# of tools/env.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = "--wheelhouse" ]; then
  WHEELS=${2:?--wheelhouse needs a folder}
  shift 2
  ls "$WHEELS"/*.whl > /dev/null 2>&1 || { echo "error: --wheelhouse $WHEELS holds no wheels; allowed: a folder made by bash tools/gpu_wheelhouse.sh DIR" >&2; exit 2; }
  PY=${PYTHON:-python3}
  SITE="$ROOT/.gpu-site"
  rm -rf "$SITE"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" "$WHEELS"/*.whl
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
  PATH="$SITE/bin:$PATH"
  cd "$ROOT"
  exec timeout -k 15 "${GPU_CHECK_TIMEOUT:-470}" "$PY" bench/gpu_check.py "$@"
fi
source "$ROOT/tools/env.sh"
cd "$EMANPLUG_ROOT"
# a backstop over the script's own stage limits (GPU_CHECK_TIMEOUT seconds; it stops its stages on SIGTERM)
exec timeout -k 15 "${GPU_CHECK_TIMEOUT:-470}" python bench/gpu_check.py "$@"
