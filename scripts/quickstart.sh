#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds the starnn program, trains
# the thesis's residual net (data/nets/regression.json) on the shipped SDSS/SEGUE catalogue and
# prints its precision on the held-out test split.
#   STARNN_BUILD_DIR  build directory (default: build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${STARNN_BUILD_DIR:-build}"
bash scripts/setup.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTARNN_CUDA="${STARNN_CUDA:-AUTO}" > /dev/null
cmake --build "$build_dir" --target starnn_app -j "$(nproc)"
"$build_dir/apps/starnn" train data/nets/regression.json --out runs/regression --overwrite
