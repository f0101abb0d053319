#pragma once
// The dropout decision of one element: a counter-based hash of (seed, element index), so
// the mask needs no generator state and both backends draw the very same mask.
// constexpr, so that CUDA device code calls these very functions (nvcc --expt-relaxed-constexpr).
#include <cstdint>

namespace nn {

constexpr std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// True when element `index` is kept; kept with probability 1 - p.
constexpr bool dropout_keeps(std::uint64_t seed, std::uint64_t index, double p) {
  const double u = double(splitmix64(seed ^ splitmix64(index)) >> 11) * 0x1.0p-53;
  return u >= p;
}

}  // namespace nn
