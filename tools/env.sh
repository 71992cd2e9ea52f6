#!/usr/bin/env bash
# Sourced by tools/quickstart.sh and tools/run_tests.sh: makes sure a Python (>= 3.11; tested
# with 3.11) virtual environment with emanplug and the exact versions of requirements/lock.txt
# exists, then activates it.  Installs only on the first run and after setup.cfg or the lock
# file changes.  (pip install emanplug into your own environment takes the ranges of setup.cfg.)
# EMANPLUG_VENV=/path chooses another place for the environment (default: .venv).
set -euo pipefail
EMANPLUG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EMANPLUG_VENV:-$EMANPLUG_ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: emanplug needs Python >= 3.11 (tested with 3.11 and 3.12); $PYTHON is $("$PYTHON" -V 2>&1); set PYTHON=/path/to/python3.11" >&2
    exit 1
  fi
  echo "[emanplug] creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.emanplug-installed"
lock="$EMANPLUG_ROOT/requirements/lock.txt"
if [ ! -f "$stamp" ] || [ "$EMANPLUG_ROOT/setup.cfg" -nt "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
  echo "[emanplug] installing emanplug and its dependencies into $VENV (first run only)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -c "$lock" -e "${EMANPLUG_ROOT}[test,lite]"
  touch "$stamp"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
