#pragma once
// Waits until the device has run everything queued, so that wall-clock timings of CUDA work count
// the work and not just its launch. The CPU backend finishes each op before returning.
#include "nn/tensor.h"

#if defined(STARNN_WITH_CUDA)
#include "cuda_backend.h"
#endif

namespace nn::bench {

inline void wait_for([[maybe_unused]] Device device) {
#if defined(STARNN_WITH_CUDA)
  if (device == Device::cuda) cuda::synchronize();
#endif
}

}  // namespace nn::bench
