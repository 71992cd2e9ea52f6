#!/usr/bin/env bash
# What pip would change when emanplug is installed into an environment that already holds
# torch and a compiled mmcv 2.x (a user's mmpretrain environment):
#   bash tools/dry_run_existing_env.sh VENV [OUT]
# VENV: a virtual environment with torch (e.g. the gpu-image row of tools/compat_matrix.sh:
# torch 2.11, torchvision 0.26); a metadata-only mmcv 2.1.0 is added to it as the stand-in for a
# compiled mmcv (pip decides from the installed distributions' metadata alone).  Writes the
# transcript (commands and pip's plan) to OUT (default docs/compat/dry-run-existing-env.txt)
# and fails when pip plans to install, upgrade or replace torch, torchvision or mmcv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV=${1:?usage: bash tools/dry_run_existing_env.sh VENV [OUT]}
OUT=${2:-$ROOT/docs/compat/dry-run-existing-env.txt}
PY="$VENV/bin/python"
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
rm -rf "$SITE"/mmcv-2.1.0.dist-info
mkdir "$SITE/mmcv-2.1.0.dist-info"
printf 'Metadata-Version: 2.1\nName: mmcv\nVersion: 2.1.0\n' > "$SITE/mmcv-2.1.0.dist-info/METADATA"
: > "$SITE/mmcv-2.1.0.dist-info/RECORD"
echo "stand-in for a compiled mmcv" > "$SITE/mmcv-2.1.0.dist-info/INSTALLER"
mkdir "$TMP/src"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --no-recursion) | tar -C "$TMP/src" -xf -
"$PY" -m pip wheel -q --no-deps -w "$TMP" "$TMP/src"
WHEEL=$(ls "$TMP"/emanplug-*.whl)
{
  echo "# bash tools/dry_run_existing_env.sh $VENV   ($(date -u +%Y-%m-%d))"
  echo "# the environment before (torch, torchvision, numpy, mmcv):"
  "$PY" -m pip list 2>/dev/null | grep -E -i '^(torch|torchvision|numpy|mmcv) ' | sed 's/^/#   /'
  echo "\$ pip install --dry-run $(basename "$WHEEL")"
  PIP_CONFIG_FILE=/dev/null "$PY" -m pip install --dry-run "$WHEEL" 2>&1 | grep -v -i '^ *Downloading\|━\|^ *Using cached\|^Collecting\|^Processing' || true
} > "$OUT"
rm -rf "$SITE"/mmcv-2.1.0.dist-info
cat "$OUT"
plan=$(grep '^Would install' "$OUT" || true)
if echo "$plan" | grep -q -E -i ' (torch|torchvision|mmcv|mmcv-lite)-[0-9]'; then
  echo "error: pip plans to change torch, torchvision or mmcv: $plan" >&2; exit 1
fi
