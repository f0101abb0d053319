#pragma once
// Feature-attention kernels: the forward pass (a row softmax and its application) and the
// backward pass, both reductions along a row of (rows, cols). One warp owns a row (blockDim.x = 32 lanes stride its
// columns, blockDim.y warps a block): the row's max and sums stay in registers and meet by shuffles, with no shared
// memory and no barrier. Rows of a few thousand features make 100 loads per lane, enough to hide latency; much wider
// rows would want a block per row.
#include <cmath>
#include <limits>

#include "nn/tensor.h"
#include "reduce.cuh"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// One row per warp: a = softmax of the row of z, shifted by the row maximum so exp never
// overflows, then y = residual + d a h with d = cols (residual null: nothing added), so uniform
// attention (a = 1/d) passes h through. Each lane reads back only the a it wrote. y may be
// residual: each element of residual is read by the lane that then writes y there.
template <class T>
__global__ void attention_forward_warp_per_row(const T* __restrict__ z, Index z_stride, const T* __restrict__ h,
                                               Index h_stride, const T* residual, Index residual_stride,
                                               T* __restrict__ a, Index a_stride, T* y, Index y_stride, Index rows,
                                               Index cols) {
  // z, h, residual, a, y are (rows, cols).
  const T d = T(cols);
  for (Index i = Index(blockIdx.x) * blockDim.y + threadIdx.y; i < rows; i += Index(gridDim.x) * blockDim.y) {
    const T* zi = z + i * z_stride;
    T* ai = a + i * a_stride;
    T top = -std::numeric_limits<T>::infinity();
    for (Index j = threadIdx.x; j < cols; j += 32) top = top < zi[j] ? zi[j] : top;
    top = warp_max(top);
    T sum = 0;
    for (Index j = threadIdx.x; j < cols; j += 32) {
      const T e = std::exp(zi[j] - top);
      ai[j] = e;
      sum += e;
    }
    const T inv = T(1) / warp_sum(sum);
    for (Index j = threadIdx.x; j < cols; j += 32) {
      const T weight = ai[j] * inv;
      ai[j] = weight;
      const T applied = d * weight * h[i * h_stride + j];
      y[i * y_stride + j] = residual != nullptr ? residual[i * residual_stride + j] + applied : applied;
    }
  }
}

// With d = cols and g = d h dy (the gradient reaching a): dz = a (g - sum_j a_j g_j) through the
// softmax Jacobian, and dh = d a dy along the direct path. Both overwritten.
template <class T>
__global__ void attention_backward_warp_per_row(const T* __restrict__ h, Index h_stride, const T* __restrict__ a,
                                                Index a_stride, const T* __restrict__ dy, Index dy_stride,
                                                T* __restrict__ dh, Index dh_stride, T* __restrict__ dz,
                                                Index dz_stride, Index rows, Index cols) {
  // h, a, dy, dh, dz are (rows, cols).
  const T d = T(cols);
  for (Index i = Index(blockIdx.x) * blockDim.y + threadIdx.y; i < rows; i += Index(gridDim.x) * blockDim.y) {
    const T* hi = h + i * h_stride;
    const T* ai = a + i * a_stride;
    const T* dyi = dy + i * dy_stride;
    T a_dot_g = 0;
    for (Index j = threadIdx.x; j < cols; j += 32) a_dot_g += ai[j] * d * hi[j] * dyi[j];
    a_dot_g = warp_sum(a_dot_g);
    for (Index j = threadIdx.x; j < cols; j += 32) {
      dz[i * dz_stride + j] = ai[j] * (d * hi[j] * dyi[j] - a_dot_g);
      dh[i * dh_stride + j] = d * ai[j] * dyi[j];
    }
  }
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
