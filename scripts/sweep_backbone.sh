#!/usr/bin/env bash
# How the precision of data/nets/regression.json moves with the backbone's depth and width:
# trains each variant (same data, split, schedule and epochs) and prints one table row each.
#   scripts/sweep_backbone.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build}" out="${2:-runs/sweep}"
variants=()
for v in "resdense 64 256 2" "resdense 64 256 3" "resdense 64 256 4" "resdense 64 256 5" \
         "resdense 32 128 4" "resdense 64 512 4" "resdense 128 1024 4" "aresdense 64 256 4"; do
  read -r block n_init n_max depth <<< "$v"
  variants+=(--variant "$block-$n_init-$n_max-$depth={\"model\": {\"backbone\": {\"block\": \"$block\",
             \"n_init\": $n_init, \"n_max\": $n_max, \"depth\": $depth}}}")
done
python3 scripts/sweep.py data/nets/regression.json --build "$build" --out "$out" "${variants[@]}"
