#pragma once
// BatchNorm1d kernels. Statistics are per column of a row-major (rows, cols) batch: a block owns
// a tile of blockDim.x columns (one per thread along x, so each row is read coalesced), its
// threadIdx.y stripes walk all rows, and the stripes' partial sums meet in shared memory
// (column_tile_sum). Owning whole columns lets one kernel compute the statistics and then use
// them, with no atomics and a summation order fixed by the launch shape. Dynamic shared memory:
// blockDim.x * blockDim.y values of T.
//
// The activation is a template argument: the fused BatchNorm + ReLU ops of the residual blocks
// (fused_block.cu) are these kernels with a clamped output and a masked gradient.
#include <cmath>

#include "nn/tensor.h"
#include "reduce.cuh"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

enum class Activation { none, relu };

template <Activation act, class T>
__device__ __forceinline__ T activate(T v) {
  if constexpr (act == Activation::relu)
    return v < T(0) ? T(0) : v;  // as relu_forward: a NaN passes through
  else
    return v;
}

// The gradient that reaches the BatchNorm's output: dy, or for the ReLU dy where the ReLU's
// output y is positive (y's sign is the mask, so none is stored).
template <Activation act, class T>
__device__ __forceinline__ T incoming_gradient(const T* dy, Index dy_at, const T* y, Index y_at) {
  if constexpr (act == Activation::relu)
    return y[y_at] > T(0) ? dy[dy_at] : T(0);
  else
    return dy[dy_at];
}

// Mean, then the sum of squares about it (two passes over x, as the CPU, so the variance does
// not cancel), then the running estimates (unbiased variance) and y = act(gamma xhat + beta). y
// may be x: each element is read, then written, by one thread, after the statistics.
template <class T, Activation act>
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
      y[i * y_stride + j] = activate<act>(g * (x[i * x_stride + j] - m) * inv + b);
  }
}

// With g the incoming gradient (dy, masked by the ReLU's output y for Activation::relu): sums of g
// and g xhat per column (xhat recomputed from x, one (rows, cols) buffer less), the parameter
// gradients accumulated from them, then dx = residual + the BatchNorm backward, overwritten
// (residual null: nothing added). dx may be dy or residual: every dy of the tile is read before
// the first dx is written, and each residual element just before its dx.
template <class T, Activation act>
__global__ void batchnorm_backward_column_tile(const T* x, Index x_stride, const T* __restrict__ mean,
                                               const T* __restrict__ invstd, const T* __restrict__ gamma,
                                               const T* __restrict__ y, Index y_stride, const T* dy, Index dy_stride,
                                               const T* residual, Index residual_stride, T* dx, Index dx_stride,
                                               T* __restrict__ dgamma, T* __restrict__ dbeta, Index rows,
                                               Index cols) {
  // x, y, dy, residual, dx are (rows, cols); mean, invstd, gamma, dgamma, dbeta are (1, cols).
  SIMT_DYNAMIC_SHARED(T, buffer);
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    const bool live = j < cols;
    const T m = live ? mean[j] : T(0), inv = live ? invstd[j] : T(0);
    T sum_dy = 0, sum_dy_xhat = 0;
    if (live)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) {
        const T d = incoming_gradient<act>(dy, i * dy_stride + j, y, i * y_stride + j);
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
      const T d = scale * (incoming_gradient<act>(dy, i * dy_stride + j, y, i * y_stride + j) - inv_rows * sum_dy -
                           xhat * inv_rows * sum_dy_xhat);
      dx[i * dx_stride + j] = residual != nullptr ? residual[i * residual_stride + j] + d : d;
    }
  }
}

// Evaluation mode is affine per column: BN_eval(v) = v scale + shift, from the running statistics.
template <class T>
struct EvalAffine {
  T scale, shift;
};
template <class T>
__device__ __forceinline__ EvalAffine<T> eval_affine(const T* gamma, const T* beta, const T* running_mean,
                                                     const T* running_var, T eps, Index j) {
  const T scale = gamma[j] / std::sqrt(running_var[j] + eps);
  return {scale, beta[j] - running_mean[j] * scale};
}

template <class T, Activation act>
struct BatchNormEval {
  static constexpr const char* name =
      act == Activation::relu ? "batchnorm_relu_forward_eval" : "batchnorm_forward_eval";
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
    const EvalAffine<T> bn = eval_affine(gamma, beta, running_mean, running_var, eps, j);
    y[i * y_stride + j] = activate<act>(x[i * x_stride + j] * bn.scale + bn.shift);
  }
};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
