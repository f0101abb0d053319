#pragma once
// Adam(W) as one fused pass over the contiguous parameter buffer: each element's gradient,
// moments and parameter are read once and written once (16 bytes in, 12 out per float).
#include <cmath>

#include "flavour.h"
#include "nn/tensor.h"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// The step's scalars, computed once on the host as the CPU backend computes them.
template <class T>
struct AdamScalars {
  T beta1, beta2;
  T step_size;   // lr / (1 - beta1^step)
  T sqrt_bias2;  // sqrt(1 - beta2^step)
  T decay;       // 1 - lr weight_decay (decoupled, AdamW)
  T eps;
};

template <class T>
__global__ void adam_grid_stride(T* __restrict__ params, const T* __restrict__ grads, T* __restrict__ m,
                                 T* __restrict__ v, Index n, AdamScalars<T> s) {
  // params, grads, m, v are (1, n).
  for (Index k = Index(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += Index(gridDim.x) * blockDim.x) {
    const T g = grads[k];
    const T mk = s.beta1 * m[k] + (T(1) - s.beta1) * g;
    const T vk = s.beta2 * v[k] + (T(1) - s.beta2) * g * g;
    m[k] = mk;
    v[k] = vk;
    params[k] = params[k] * s.decay - s.step_size * mk / (std::sqrt(vk) / s.sqrt_bias2 + s.eps);
  }
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
