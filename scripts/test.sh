#!/usr/bin/env bash
# The one test command: installs missing packages, configures, builds and runs every test, then
# the fuzz targets for a minute each.
#   STARNN_BUILD_DIR  build directory (default: build)
#   STARNN_CUDA       AUTO, ON or OFF (default: AUTO)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${STARNN_BUILD_DIR:-build}"
jobs="$(nproc)"

bash scripts/setup.sh
# ccache, when installed, is picked up by cmake/Dependencies.cmake.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTARNN_CUDA="${STARNN_CUDA:-AUTO}"
cmake --build "$build_dir" -j "$jobs"
# ctest runs tests side by side; OpenMP threads that spin while they wait would then steal the
# cores from each other (an order of magnitude slower), so they sleep instead.
OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
# The fuzz targets, 60 s each, in their own clang build (scripts/fuzz.sh).
bash scripts/fuzz.sh "${STARNN_FUZZ_SECONDS:-60}"
