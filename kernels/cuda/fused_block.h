#pragma once
// Launchers of the residual blocks' fused ops (nn/ops.h; README.md, "Fused ResDense"). Matrices
// are (rows, cols) with row strides, per-feature vectors contiguous (1, cols). The BatchNorm +
// ReLU ops are column tiles (training, backward) or elementwise (evaluation), as batchnorm.h;
// linear_residual_forward's `shape` shapes the bias-and-residual pass of its cuBLAS path (the
// cuBLASLt path has none), and the fold is elementwise over the weight.
#include "gemm_lt.h"
#include "launch.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch {

// y = max(BN(x), 0) with batch statistics; saves mean and invstd, updates the running ones.
template <class T>
void batchnorm_relu_forward_train(const T* x, Index x_stride, const T* gamma, const T* beta, T eps, T momentum, T* y,
                                  Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var, Index rows,
                                  Index cols, T* partials, cudaStream_t stream,
                                  const LaunchShape& shape = kColumnTileShape);
template <class T>
void batchnorm_relu_forward_eval(const T* x, Index x_stride, const T* gamma, const T* beta, const T* running_mean,
                                 const T* running_var, T eps, T* y, Index y_stride, Index rows, Index cols,
                                 cudaStream_t stream, const LaunchShape& shape = kElementwiseShape);
// dx = residual + the backward of max(BN(x), 0) given its output y; residual may be null.
template <class T>
void batchnorm_relu_backward(const T* x, Index x_stride, const T* mean, const T* invstd, const T* gamma, const T* beta,
                             const T* dy, Index dy_stride, const T* residual, Index residual_stride, T* dx,
                             Index dx_stride, T* dgamma, T* dbeta, Index rows, Index cols, T* partials,
                             cudaStream_t stream, const LaunchShape& shape = kColumnTileShape);
// y (rows, out) = residual + x (rows, in) W^T + b; y may be residual. One cuBLASLt matmul (C the
// residual, beta = 1, the bias in the epilogue), or where it has no algorithm (or blas.lt is
// null) the bias-and-residual pass and a cuBLAS GEMM with beta = 1.
template <class T>
void linear_residual_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, const T* residual,
                             Index residual_stride, T* y, Index y_stride, Index rows, Index in, Index out,
                             const detail::Blas& blas, cudaStream_t stream,
                             const LaunchShape& shape = kElementwiseShape);
// w_folded (out, in) = diag(s) w, b_folded = BN_eval(b), s the evaluation-mode BatchNorm's scale.
template <class T>
void batchnorm_fold_into_linear(const T* w, Index w_stride, const T* b, const T* gamma, const T* beta,
                                const T* running_mean, const T* running_var, T eps, T* w_folded, Index w_folded_stride,
                                T* b_folded, Index out, Index in, cudaStream_t stream,
                                const LaunchShape& shape = kElementwiseShape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch
