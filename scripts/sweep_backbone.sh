#!/usr/bin/env bash
# How the precision of data/nets/regression.json moves with the backbone's depth and width:
# trains each variant (same data, split, schedule and epochs) and prints one table row each.
#   scripts/sweep_backbone.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build}" out="${2:-runs/sweep}"
mkdir -p "$out"
printf '%-10s %-7s %-6s %-6s %10s %10s %11s %9s %8s\n' block n_init n_max depth parameters seconds sigma_gauss sigma_mad bias
variants=("resdense 64 256 2" "resdense 64 256 3" "resdense 64 256 4" "resdense 64 256 5"
          "resdense 32 128 4" "resdense 64 512 4" "resdense 128 1024 4" "aresdense 64 256 4")
for v in "${variants[@]}"; do
  read -r block n_init n_max depth <<< "$v"
  name="$block-$n_init-$n_max-$depth"
  python3 - "$block" "$n_init" "$n_max" "$depth" "$out/$name.json" <<'PY'
import json, os, sys
block, n_init, n_max, depth, path = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]
net = json.load(open("data/nets/regression.json"))
net["data"]["catalog"] = os.path.abspath("data/sdss_segue_feh.fits")
net["model"]["backbone"].update(block=block, n_init=n_init, n_max=n_max, depth=depth)
json.dump(net, open(path, "w"), indent=1)
PY
  start=$(date +%s.%N)
  "$build/apps/starnn" train "$out/$name.json" --out "$out/$name" > "$out/$name.log"
  python3 - "$out/$name" "$block" "$n_init" "$n_max" "$depth" "$start" "$(date +%s.%N)" <<'PY'
import json, re, sys
run, block, n_init, n_max, depth, start, end = sys.argv[1:]
seconds = float(end) - float(start)
m = json.load(open(run + "/metrics.json"))["targets"]["feh"]
params = re.search(r"net: (\d+) parameters", open(run + ".log").read()).group(1)
print(f"{block:<10} {n_init:<7} {n_max:<6} {depth:<6} {params:>10} {seconds:10.0f} {m['sigma_gauss']:11.4f} {m['sigma_mad']:9.4f} {m['bias']:8.4f}")
PY
done
