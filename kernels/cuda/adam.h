#pragma once
// Launcher of the fused Adam(W) step (kernel in adam.cuh).
#include "launch.h"
#include "nn/ops.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

inline constexpr LaunchShape kAdamShape{dim3(256), kMaxBlocks};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR

namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch {

// params, grads, m, v are contiguous buffers of n elements in the same layout.
template <class T>
void adam_step(T* params, const T* grads, T* m, T* v, Index n, const AdamStep& step, cudaStream_t stream,
               const LaunchShape& shape = kAdamShape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch
