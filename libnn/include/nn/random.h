#pragma once
// A small, portable random generator (xoshiro256**, seeded through splitmix64): the same
// seed gives the same numbers on every compiler and platform, which std::distributions
// do not promise. Used for initialisation, dropout, shuffling and augmentation.
#include <cstdint>

#include "nn/export.h"

namespace nn {

class NN_API Rng {
 public:
  explicit Rng(std::uint64_t seed = 0);
  std::uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Standard normal (Box-Muller; both values of a pair are used).
  double normal();
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n);
  // An independent stream derived from this seed and a label (layer index, epoch...).
  static Rng derive(std::uint64_t seed, std::uint64_t label);

 private:
  std::uint64_t s_[4];
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace nn
