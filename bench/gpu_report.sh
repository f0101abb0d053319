#!/usr/bin/env bash
# The GPU report, for the day a GPU is lent: runs starnn_bench_cuda (every op on Device::cuda) and
# compare_torch.py --device cuda, and writes ONE JSON file with each kernel's time beside its
# lower bound on that GPU (bench/kernel_costs.json, from kernels/README.md) and the comparison.
#
#   bash bench/gpu_report.sh [--build BUILD] [--out REPORT.json]      measure, then write
#   bash bench/gpu_report.sh --from-files KERNELS.json COMPARE.json [--out REPORT.json]
#                                                                     write from earlier runs
#
# BUILD (default build-cuda) is a build configured with -DSTARNN_CUDA=ON. Without a GPU the
# script stops at once with a message and exit status 1: an unattended run must not leave a
# report that looks measured. A comparison row starnn could not run on CUDA is marked n/a with
# starnn's message.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=build-cuda
out=gpu_report.json
kernels_json=
compare_json=
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --from-files) kernels_json=$2; compare_json=$3; shift 3 ;;
    *) echo "gpu_report.sh: unknown argument '$1' (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
[[ $build = /* ]] || build=$root/$build

if [ -z "$kernels_json" ]; then
  if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L 2> /dev/null | grep -q '^GPU'; then
    echo "gpu_report.sh: no GPU here (nvidia-smi lists none); nothing measured, no report written" >&2
    exit 1
  fi
  if [ ! -x "$build/bench/starnn_bench_cuda" ] || [ ! -x "$build/bench/starnn_time_net" ]; then
    echo "gpu_report.sh: $build has no CUDA benchmarks; build them with" >&2
    echo "  cmake -S $root -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTARNN_CUDA=ON" >&2
    echo "  cmake --build $build --target starnn_bench_cuda starnn_time_net" >&2
    exit 1
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  kernels_json=$work/kernels.json
  compare_json=$work/compare.json
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.memory --format=csv
  "$build/bench/starnn_bench_cuda" --benchmark_out="$kernels_json" --benchmark_out_format=json
  /usr/bin/python3 "$root/bench/compare_torch.py" --build "$build" --device cuda --json "$compare_json"
fi

python3 "$root/bench/gpu_report.py" --kernels "$kernels_json" --compare "$compare_json" --out "$out"
