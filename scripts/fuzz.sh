#!/usr/bin/env bash
# The fuzz targets (tests/fuzz): builds the library with clang, ASan, UBSan and libFuzzer
# coverage, then runs every target for SECONDS (default 60) from its seeds, each after replaying
# its regressions. The corpora grow in BUILD/tests/fuzz/corpus; crashes land in
# BUILD/tests/fuzz/artifacts. Runs of the default 60 s (the test command's) use the fixed seed
# 1, so they repeat; longer ones draw a new seed.
#   scripts/fuzz.sh [SECONDS]
#   STARNN_FUZZ_BUILD_DIR  build directory (default: build-fuzz)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
seed=1
[ "$seconds" -le 60 ] || seed=0
build_dir="${STARNN_FUZZ_BUILD_DIR:-build-fuzz}"

bash scripts/setup.sh
# Only the library and the fuzz targets: the CUDA backend, the program, the tests and the
# benchmarks are the other build's.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-16 \
  -DSTARNN_FUZZ=ON -DSTARNN_FUZZ_SECONDS="$seconds" -DSTARNN_FUZZ_SEED="$seed" -DBUILD_SHARED_LIBS=OFF -DSTARNN_CUDA=OFF \
  -DSTARNN_BUILD_TESTS=OFF -DSTARNN_BUILD_BENCH=OFF -DSTARNN_BUILD_APPS=OFF > /dev/null
cmake --build "$build_dir" -j "$(nproc)"
# The targets run side by side, one per core; leaks fail them as crashes do (tests/fuzz sets
# ASAN_OPTIONS).
OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1 ctest --test-dir "$build_dir" -L fuzz --output-on-failure -j "$(nproc)"
