#!/usr/bin/env bash
# The CUDA kernels' host emulation under ThreadSanitizer: emulated threads are real threads, so a
# missing __syncthreads or a shared-memory race is reported at its line. Slow (tens of minutes on
# 2 cores), hence not part of scripts/test.sh.
#   STARNN_TSAN_BUILD_DIR  build directory (default: build-tsan)
#   further arguments go to the test binary, e.g. --gtest_filter='CudaBatchNorm*'
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${STARNN_TSAN_BUILD_DIR:-build-tsan}"
bash scripts/setup.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTARNN_CUDA=OFF \
  -DSTARNN_BUILD_APPS=OFF -DSTARNN_BUILD_BENCH=OFF -DSTARNN_TSAN_EMULATION=ON > /dev/null
cmake --build "$build_dir" --target starnn_cuda_emulated_tests -j "$(nproc)"
# ThreadSanitizer makes the run exit with 66 when it reported a race, whatever the tests said.
"$build_dir/tests/cuda/starnn_cuda_emulated_tests" "$@"
