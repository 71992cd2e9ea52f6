#!/usr/bin/env bash
# The compatibility matrix, measured on CPU: a fresh virtual environment per row, the compact
# suite in each (core, every scheme, a short training per method, the recipes, the mmpretrain
# teacher hook, safe loading), and docs/compat.md rewritten with the versions each row really
# installed, passed / failed and the minutes.  Not part of CI (about 10 minutes a row).
#   bash tools/compat_matrix.sh [ROW ...]        rows: oldest locked newest gpu-image (default: all)
# EMANPLUG_MATRIX_DIR (default /tmp/emanplug-matrix) holds the environments (about 6 GB each);
# PY311 / PY312 (default python3.11 / python3.12) name the interpreters.
#   oldest     the lowest versions setup.cfg admits (Python 3.11)
#   locked     requirements/lock.txt, the reproducible environment (Python 3.11)
#   newest     the newest releases pip resolves with no pins (Python 3.11)
#   gpu-image  a GPU image's stack: Python 3.12, torch 2.11 / torchvision 0.26, numpy 2.x and the
#              packages of tools/gpu_image_packages.txt from PyPI, then the OpenMMLab stack and
#              emanplug from a wheel folder of tools/gpu_wheelhouse.sh installed with
#              pip --no-index --no-deps, as tools/gpu_check.sh --wheelhouse does
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MATRIX="${EMANPLUG_MATRIX_DIR:-/tmp/emanplug-matrix}"
ROWS=("$@")
[ "${#ROWS[@]}" -gt 0 ] || ROWS=(oldest locked newest gpu-image)
PY311=${PY311:-python3.11}
PY312=${PY312:-python3.12}
OLDEST=(torch==2.6.0 torchvision==0.21.0 numpy==1.26.4 mmengine==0.10.3 mmcv-lite==2.0.0
        mmpretrain==1.0.0 lightly==1.5.0)
IMAGE=(torch==2.11.0 torchvision==0.26.0 'numpy>=2,<2.6' pytorch-lightning==2.6.6 torchmetrics==1.9.0
       opencv-python-headless scipy scikit-learn matplotlib pillow pyyaml rich einops tqdm requests
       pytest)
SUITE=(tests/test_norms.py tests/test_teacher_update.py tests/test_independence.py
       tests/test_compat.py tests/test_recipes.py tests/test_mmpretrain_teachers.py
       tests/test_fixmatch.py tests/test_reliability.py)
for py in "$PY311" "$PY312"; do  # each row's interpreter must run (pyenv shims may not)
  "$py" -c 'import sys' 2>/dev/null || echo "warning: $py does not run; set PY311 / PY312=/path/to/python (rows that need it fail)" >&2
done
mkdir -p "$MATRIX" "$ROOT/docs/compat"
export PIP_DISABLE_PIP_VERSION_CHECK=1

install_row() {  # ROW VENV: create and fill the row's environment
  local row=$1 venv=$2
  rm -rf "$venv"
  case "$row" in
    oldest)
      "$PY311" -m venv "$venv"
      PIP_CONFIG_FILE=/dev/null "$venv/bin/pip" install -q "${OLDEST[@]}" -e "$ROOT[test]" ;;
    locked)
      "$PY311" -m venv "$venv"
      "$venv/bin/pip" install -q -c "$ROOT/requirements/lock.txt" -e "$ROOT[test,lite]" ;;
    newest)
      "$PY311" -m venv "$venv"
      PIP_CONFIG_FILE=/dev/null "$venv/bin/pip" install -q --upgrade pip
      PIP_CONFIG_FILE=/dev/null "$venv/bin/pip" install -q --upgrade -e "$ROOT[test,lite]" ;;
    gpu-image)
      "$PY312" -m venv "$venv"
      PIP_CONFIG_FILE=/dev/null "$venv/bin/pip" install -q "${IMAGE[@]}"
      bash "$ROOT/tools/gpu_wheelhouse.sh" "$venv/wheels" --python "$venv/bin/python" ;;
    *) echo "error: row $row is unknown; allowed: oldest locked newest gpu-image" >&2; exit 2 ;;
  esac
}

run_suite() {  # ROW VENV LOG: the compact suite with the row's Python
  local row=$1 venv=$2 log=$3
  if [ "$row" = gpu-image ]; then  # offline, no dependency resolution: gpu_check.sh --wheelhouse's way
    local site="$venv/site"
    rm -rf "$site"
    "$venv/bin/python" -m pip install -q --no-index --no-deps --target "$site" "$venv/wheels"/*.whl
    (cd "$ROOT" && PYTHONPATH="$site" "$venv/bin/python" -m pytest -q -p no:cacheprovider "${SUITE[@]}") > "$log" 2>&1
  else
    (cd "$ROOT" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "${SUITE[@]}") > "$log" 2>&1
  fi
}

for row in "${ROWS[@]}"; do
  venv="$MATRIX/$row"
  log="$ROOT/docs/compat/$row.log"
  echo "[compat] $row: installing into $venv"
  t0=$(date +%s)
  if install_row "$row" "$venv" > "$MATRIX/$row.install.log" 2>&1; then install=ok; else install=failed; fi
  t1=$(date +%s)
  status=failed
  if [ "$install" = ok ]; then
    echo "[compat] $row: compact suite"
    if run_suite "$row" "$venv" "$log"; then status=passed; fi
  else
    tail -20 "$MATRIX/$row.install.log" > "$log"
  fi
  t2=$(date +%s)
  site=$([ "$row" = gpu-image ] && echo "$venv/site" || echo "")
  PYTHONPATH="$site" "$venv/bin/python" "$ROOT/tools/compat_report.py" "$row" "$install" "$status" \
    "$(( (t1 - t0) ))" "$(( (t2 - t1) ))" "$log" "$ROOT/docs/compat.md" || true
  echo "[compat] $row: install $install, suite $status ($(tail -1 "$log"))"
done
