#!/usr/bin/env bash
# The paper's Table 1 at small scale on CIFAR-10 (2 CPU cores), resumable:
#
#   bash bench/table1_cifar10.sh [required|all] [--seeds 0 1] [extra tools/run_table.py args]
#
# required (default): MoCo v2 BN/BN, BN/ShuffleBN, BN/EMAN; BYOL BN/BN, SyncBN/SyncBN,
#   BN/EMAN; the supervised ceiling of the same budget (kNN of a classifier's backbone);
#   FixMatch (4000 labels, 2000 iterations of 32 + 64 images) default, BN/BN, BN/EMAN and
#   supervised only; seeds 0 and 1.  Measured on 2 cores: 21-31 min per MoCo run (16 epochs
#   of 10k images), 51-52 min per BYOL run (SyncBN 73 min; 19-30 min on a faster host), 11-34 min per FixMatch run
#   (default 31-34): ~12 hours for the required rows.
# all: every row of Tables 1 and 8 for MoCo and BYOL as well.
# MoCo/BYOL rows run on 2 gloo processes x 32 images (so that SyncBN and ShuffleBN differ from
# BN), FixMatch rows on 1 process.  Results: work_dirs/table1/<config>/seed<k>/result.json,
# the table and curves: docs/results/table1_cifar10.{md,png}.  Rerunning skips finished runs
# and resumes an interrupted one.  The configs read CIFAR-10 from data/cifar10 (ImageFolder
# layout; extracted from ../shared/data/cifar10-jpeg.tar.gz when missing, or link your copy
# there) and write the class-balanced split files they need into data/cifar10/splits.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tools/env.sh"
cd "$EMANPLUG_ROOT"
ROWS="required"
if [ $# -gt 0 ] && [[ "$1" != --* ]]; then ROWS="$1"; shift; fi
DATA=data/cifar10
ARCHIVE="${ARCHIVE:-../shared/data/cifar10-jpeg.tar.gz}"
if [ ! -d "$DATA/train" ]; then
  if [ ! -f "$ARCHIVE" ]; then
    echo "error: no CIFAR-10 at $DATA/train and no archive $ARCHIVE; allowed: CIFAR-10 in the ImageFolder layout at $DATA (train/, test/) or ARCHIVE=<its .tar.gz>" >&2
    exit 2
  fi
  mkdir -p "$DATA" && tar xzf "$ARCHIVE" -C "$DATA"
fi
for args in "10000" "5000" "4000" "5000 --subset test"; do
  n=${args%% *}; subset=train; [[ "$args" == *test* ]] && subset=test
  [ -f "$DATA/splits/${subset}_${n}_seed0.txt" ] || python tools/make_split.py "$DATA" --num-labeled $args --seed 0 >/dev/null
done
ssl="2xb32-coslr-16e_cifar10-10k"
fm="configs/fixmatch/fixmatch_resnet18_1xb32-mu2-coslr-2000it_cifar10-4000"
if [ "$ROWS" = all ]; then
  rows=(configs/mocov2/*_"$ssl"_*.py configs/byol/*_"$ssl"_*.py)
elif [ "$ROWS" = required ]; then
  rows=()
  for s in bn-bn bn-shufflebn bn-eman; do rows+=("configs/mocov2/mocov2_resnet18_${ssl}_$s.py"); done
  for s in bn-bn syncbn-syncbn bn-eman; do rows+=("configs/byol/byol_resnet18_${ssl}_$s.py"); done
else
  echo "error: rows '$ROWS' is not allowed; allowed: required, all" >&2
  exit 2
fi
items=()
for r in "${rows[@]}" "configs/mocov2/supervised_resnet18_$ssl.py"; do items+=("$r:2"); done
for s in supervised default bn-bn bn-eman; do items+=("${fm}_$s.py:1"); done
exec python tools/run_table.py "${items[@]}" --seeds 0 1 --work-dir work_dirs/table1 \
  --out docs/results/table1_cifar10 --records docs/results/runs/table1_cifar10 "$@"
