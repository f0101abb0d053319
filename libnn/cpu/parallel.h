#pragma once
// Helpers for the CPU loops. Work is split with static schedules only, so every run of the
// same sizes adds floating-point numbers in the same order: runs are bit-reproducible.
#include <omp.h>

#include "nn/tensor.h"

namespace nn::cpu {

// Below this many elements a loop runs on one thread: waking the team costs more.
inline constexpr Index kParallelGrain = 16384;

inline bool worth_threads(Index elements) { return elements >= kParallelGrain && omp_get_max_threads() > 1; }

}  // namespace nn::cpu
