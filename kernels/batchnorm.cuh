#pragma once
// BatchNorm1d kernels. Statistics are per column of a row-major (rows, cols) batch: a block owns
// a tile of blockDim.x columns (one per thread along x, so each row is read coalesced), its
// threadIdx.y stripes walk all rows, and the stripes' partial sums meet in shared memory
// (column_tile_sum). Owning whole columns lets one kernel compute the statistics and then use
// them, with no atomics and a summation order fixed by the launch shape. Dynamic shared memory:
// blockDim.x * blockDim.y values of T.
#include <cmath>

#include "nn/tensor.h"
#include "reduce.cuh"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// Mean, then the sum of squares about it (two passes over x, as the CPU, so the variance does
// not cancel), then the running estimates (unbiased variance) and y = gamma xhat + beta. y may
// be x: each element is read, then written, by one thread, after the statistics.
template <class T>
__global__ void batchnorm_train_column_tile(const T* x, Index x_stride, const T* __restrict__ gamma,
                                            const T* __restrict__ beta, T* y, Index y_stride,
                                            T* __restrict__ mean, T* __restrict__ invstd,
                                            T* __restrict__ running_mean, T* __restrict__ running_var, Index rows,
                                            Index cols, T eps, T momentum) {
  // x, y are (rows, cols); gamma, beta, mean, invstd, running_mean, running_var are (1, cols).
  SIMT_DYNAMIC_SHARED(T, buffer);
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    const bool live = j < cols;
    T sum = 0;
    if (live)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) sum += x[i * x_stride + j];
    const T m = column_tile_sum(sum, buffer) / T(rows);
    T squares = 0;
    if (live)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) {
        const T c = x[i * x_stride + j] - m;
        squares += c * c;
      }
    squares = column_tile_sum(squares, buffer);
    if (!live) continue;
    const T inv = T(1) / std::sqrt(squares / T(rows) + eps);
    if (threadIdx.y == 0) {
      mean[j] = m;
      invstd[j] = inv;
      running_mean[j] = (T(1) - momentum) * running_mean[j] + momentum * m;
      running_var[j] = (T(1) - momentum) * running_var[j] + momentum * squares / T(rows - 1);
    }
    const T g = gamma[j], b = beta[j];
    for (Index i = threadIdx.y; i < rows; i += blockDim.y)
      y[i * y_stride + j] = g * (x[i * x_stride + j] - m) * inv + b;
  }
}

// Sums of dy and dy xhat per column (xhat recomputed from x, one (rows, cols) buffer less), the
// parameter gradients accumulated from them, then dx overwritten. dx may be dy: every dy of the
// tile is read before the first dx is written.
template <class T>
__global__ void batchnorm_backward_column_tile(const T* x, Index x_stride, const T* __restrict__ mean,
                                               const T* __restrict__ invstd, const T* __restrict__ gamma, const T* dy,
                                               Index dy_stride, T* dx, Index dx_stride, T* __restrict__ dgamma,
                                               T* __restrict__ dbeta, Index rows, Index cols) {
  // x, dy, dx are (rows, cols); mean, invstd, gamma, dgamma, dbeta are (1, cols).
  SIMT_DYNAMIC_SHARED(T, buffer);
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    const bool live = j < cols;
    const T m = live ? mean[j] : T(0), inv = live ? invstd[j] : T(0);
    T sum_dy = 0, sum_dy_xhat = 0;
    if (live)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) {
        const T d = dy[i * dy_stride + j];
        sum_dy += d;
        sum_dy_xhat += d * (x[i * x_stride + j] - m) * inv;
      }
    sum_dy = column_tile_sum(sum_dy, buffer);
    sum_dy_xhat = column_tile_sum(sum_dy_xhat, buffer);
    if (!live) continue;
    if (threadIdx.y == 0) {
      dgamma[j] += sum_dy_xhat;
      dbeta[j] += sum_dy;
    }
    const T inv_rows = T(1) / T(rows), scale = gamma[j] * inv;
    for (Index i = threadIdx.y; i < rows; i += blockDim.y) {
      const T xhat = (x[i * x_stride + j] - m) * inv;
      dx[i * dx_stride + j] = scale * (dy[i * dy_stride + j] - inv_rows * sum_dy - xhat * inv_rows * sum_dy_xhat);
    }
  }
}

// Evaluation mode: the running statistics folded into one scale and shift per column.
template <class T>
struct BatchNormEval {
  static constexpr const char* name = "batchnorm_forward_eval";
  const T* x;  // x, y are (rows, cols); the rest (1, cols)
  Index x_stride;
  const T* gamma;
  const T* beta;
  const T* running_mean;
  const T* running_var;
  T eps;
  T* y;
  Index y_stride;
  __device__ void operator()(Index i, Index j) const {
    const T scale = gamma[j] / std::sqrt(running_var[j] + eps);
    const T shift = beta[j] - running_mean[j] * scale;
    y[i * y_stride + j] = x[i * x_stride + j] * scale + shift;
  }
};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
