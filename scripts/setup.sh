#!/usr/bin/env bash
# Installs what starnn needs on a Debian 12 machine. Idempotent: installs only what is missing.
set -euo pipefail

packages=(build-essential cmake ninja-build ccache pkg-config python3
          libopenblas-openmp-dev libdnnl-dev nlohmann-json3-dev libcfitsio-dev zlib1g-dev
          libgtest-dev libbenchmark-dev libplplot-dev plplot-driver-cairo libopenmpi-dev openmpi-bin
          python3-torch python3-numpy
          python3-dev pybind11-dev python3-pytest python3-astropy python3-pandas python3-tqdm
          python3-matplotlib python3-healpy
          clang-16 libclang-rt-16-dev libomp-16-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
