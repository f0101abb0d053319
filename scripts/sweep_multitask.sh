#!/usr/bin/env bash
# The comparisons of data/nets/multitask.json on the S-PLUS x SEGUE catalogue (not shipped, see
# data/nets/README.md): as shipped, with augmentation from the photometric errors, with linear
# instead of causal heads, and with AResDense blocks, each with three training seeds on the same
# test split.
#   scripts/sweep_multitask.sh CATALOG [BUILD_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ $# -ge 1 ] || { echo "usage: scripts/sweep_multitask.sh CATALOG [BUILD_DIR] [OUT_DIR]" >&2; exit 2; }
catalog="$(realpath "$1")" build="${2:-build}" out="${3:-runs/sweep_multitask}"
python3 scripts/sweep.py data/nets/multitask.json --catalog "$catalog" --build "$build" --out "$out" \
  --seeds 0 1 2 \
  --variant 'shipped={}' \
  --variant 'augmented={"data": {"augment": "input_errors"}}' \
  --variant 'linear-heads={"model": {"heads": {"type": "linear"}}}' \
  --variant 'aresdense={"model": {"backbone": {"block": "aresdense"}}}'
