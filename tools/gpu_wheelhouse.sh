#!/usr/bin/env bash
# The wheels that a GPU machine without network needs next to its own PyTorch, for
#   bash tools/gpu_check.sh --wheelhouse DIR      (there: pip install --no-index --no-deps)
# Usage (here, with network):
#   bash tools/gpu_wheelhouse.sh DIR [--python PY] [--have FILE] [--max-mib 55]
# emanplug's own wheel, mmengine, mmcv-lite, mmpretrain, lightly and whatever they need that the
# image lacks: the requirements are resolved by PY's pip (default python3.12: the image's Python;
# another version gives wheels for that version) against the image's torch / torchvision pins of
# FILE (default tools/gpu_image_packages.txt: what a usual CUDA PyTorch image holds); everything
# FILE names is left out.  Versions come from requirements/lock.txt where it pins them.  Prints the
# folder's size with the checkout's and stops with status 1 above --max-mib MiB together.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$#" -lt 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: bash tools/gpu_wheelhouse.sh DIR [--python PY] [--have FILE] [--max-mib 55]" >&2
  exit 2
fi
OUT=$1; shift
PY=python3.12; HAVE="$ROOT/tools/gpu_image_packages.txt"; MAX_MIB=55
while [ "$#" -gt 0 ]; do
  case "$1" in
    --python) PY=$2; shift 2 ;;
    --have) HAVE=$2; shift 2 ;;
    --max-mib) MAX_MIB=$2; shift 2 ;;
    *) echo "error: unknown option $1; allowed: --python PY, --have FILE, --max-mib N" >&2; exit 2 ;;
  esac
done
command -v "$PY" >/dev/null || { echo "error: --python $PY not found; allowed: a Python of the GPU image's version (e.g. python3.12)" >&2; exit 2; }
[ -f "$HAVE" ] || { echo "error: --have $HAVE does not exist; allowed: a file of package names (name or name==version per line)" >&2; exit 2; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1  # PyPI alone, no local caps
echo "[wheelhouse] emanplug's wheel"
rm -f "$OUT"/emanplug-*.whl
mkdir "$TMP/src"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --no-recursion) | tar -C "$TMP/src" -xf -
"$PY" -m pip wheel -q --no-deps -w "$OUT" "$TMP/src"
WHEEL=$(ls "$OUT"/emanplug-*.whl)
# the image as pip sees it: a venv of PY holding a metadata-only copy of every package FILE names
# (its version from FILE, else from the lock, else 9999), so that pip plans only what is missing
"$PY" -m venv "$TMP/image"
"$TMP/image/bin/python" - "$HAVE" "$ROOT/requirements/lock.txt" "$TMP/constraints.txt" <<'PYEOF'
import os, re, sys, sysconfig
have, lock, constraints = sys.argv[1:]
norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()
locked = {}
for line in open(lock):
    line = line.split('#')[0].strip()
    if '==' in line:
        locked[norm(line.split('==')[0])] = line.split('==')[1]
site = sysconfig.get_paths()['purelib']
present = {norm(n.split('-')[0]) for n in os.listdir(site) if n.endswith('.dist-info')}
names = set()
for line in open(have):
    line = line.split('#')[0].strip()
    if not line:
        continue
    name = re.split(r'[=<>!~ ]', line)[0]
    names.add(norm(name))
    if norm(name) in present:
        continue
    version = line.split('==')[1] if '==' in line else locked.get(norm(name), '9999')
    info = os.path.join(site, f"{name.replace('-', '_')}-{version}.dist-info")
    os.makedirs(info)
    open(os.path.join(info, 'METADATA'), 'w').write(f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n')
    open(os.path.join(info, 'RECORD'), 'w').write('')
    open(os.path.join(info, 'INSTALLER'), 'w').write('gpu_wheelhouse\n')
pins = [f'{n}=={v}' for n, v in locked.items() if n not in names]
open(constraints, 'w').write('\n'.join(sorted(pins)) + '\n')
PYEOF
echo "[wheelhouse] resolving for $("$PY" -V 2>&1) against $(basename "$HAVE")"
"$TMP/image/bin/python" -m pip install -q --dry-run --report "$TMP/report.json" \
  -c "$TMP/constraints.txt" "$WHEEL[lite]"
"$PY" - "$TMP/report.json" "$TMP/need.txt" <<'PYEOF'
import json, sys
report, need = sys.argv[1:]
items = [(i['metadata']['name'], i['metadata']['version']) for i in json.load(open(report))['install']]
wanted = sorted(f'{n}=={v}' for n, v in items if n.lower() != 'emanplug')
open(need, 'w').write('\n'.join(wanted) + '\n')
print(f'[wheelhouse] {len(wanted)} distributions the image lacks: ' + ' '.join(wanted))
PYEOF
# wheels for the rest (a pure-Python sdist, e.g. antlr4-python3-runtime, is built into a wheel)
"$PY" -m pip wheel -q --no-deps -w "$OUT" -r "$TMP/need.txt"
ls "$OUT"/*.whl > /dev/null
bytes_wheels=$(du -cb "$OUT"/*.whl | tail -1 | cut -f1)
bytes_checkout=$(cd "$ROOT" && git ls-files -co --exclude-standard -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
"$PY" - "$bytes_wheels" "$bytes_checkout" "$MAX_MIB" "$OUT" <<'PYEOF'
import sys
wheels, checkout, limit, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
total = (wheels + checkout) / 2**20
print(f'[wheelhouse] {out}: {wheels / 2**20:.1f} MiB of wheels + {checkout / 2**20:.1f} MiB of checkout '
      f'= {total:.1f} MiB (limit {limit:g} MiB)')
sys.exit(0 if total <= limit else f'error: {total:.1f} MiB is over --max-mib {limit:g}')
PYEOF
