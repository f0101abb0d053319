#pragma once
// Helpers for the CPU loops. Work is split with static schedules only, so every run of the
// same sizes adds floating-point numbers in the same order: runs are bit-reproducible.
#include <omp.h>

#include "nn/tensor.h"

namespace nn::cpu {

// Below this many elements a loop runs on one thread: waking the team costs tens of microseconds
// (more with OMP_WAIT_POLICY=passive), about what one pass over 2^18 floats takes. So a training
// batch's activations, (256, d) up to d = 1024, stay on one thread; at 2^14 the small net's
// training step on two threads was 1.6 times slower than at 2^18, the regression net's 1.2 times.
inline constexpr Index kParallelGrain = 1 << 18;

inline bool worth_threads(Index elements) { return elements >= kParallelGrain && omp_get_max_threads() > 1; }

}  // namespace nn::cpu
