#pragma once
// Launchers of the BatchNorm1d ops (kernels in batchnorm.cuh). x, y, dy, dx are (rows, cols)
// with row strides; the per-feature vectors are contiguous (1, cols). Training mode and the
// backward pass are column tiles, whole columns a block or row chunks (batchnorm.cuh says which
// when); evaluation mode is elementwise.
//
// `partials` is device memory of batchnorm_partials_bytes<T>(shape) for the row chunks' partial
// sums. That bound holds for every problem, so a caller that always hands over the same buffer
// (the entry points: the backend's scratch) allocates it on its first call and never again: a
// training step recorded as a CUDA graph after one launched step allocates nothing.
#include <cstddef>

#include "activation.h"
#include "launch.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch {

// Two values per column and row chunk; row_chunks keeps chunks x column tiles within the grid
// cap, and the columns within the tiles.
template <class T>
std::size_t batchnorm_partials_bytes(const LaunchShape& shape) {
  return 2 * std::size_t(shape.max_blocks) * shape.block.x * sizeof(T);
}

template <class T>
void batchnorm_forward_train(const T* x, Index x_stride, const T* gamma, const T* beta, T eps, T momentum, T* y,
                             Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var, Index rows,
                             Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape = kColumnTileShape);
template <class T>
void batchnorm_forward_eval(const T* x, Index x_stride, const T* gamma, const T* beta, const T* running_mean,
                            const T* running_var, T eps, T* y, Index y_stride, Index rows, Index cols,
                            cudaStream_t stream, const LaunchShape& shape = kElementwiseShape);
template <class T>
void batchnorm_backward(const T* x, Index x_stride, const T* mean, const T* invstd, const T* gamma, const T* dy,
                        Index dy_stride, T* dx, Index dx_stride, T* dgamma, T* dbeta, Index rows, Index cols,
                        T* partials, cudaStream_t stream, const LaunchShape& shape = kColumnTileShape);

// The column-tile launches behind both the plain ops above and the fused BatchNorm + ReLU ops:
// one kernel for one row chunk, otherwise partial sums per (column tile, row chunk) and a second
// kernel that merges them. `op` names the op in errors. Backward: beta is read for the ReLU's
// mask only (null without), residual may be null.
template <class T, Activation act>
void batchnorm_train_columns(const char* op, const T* x, Index x_stride, const T* gamma, const T* beta, T eps,
                             T momentum, T* y, Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var,
                             Index rows, Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape);
template <class T, Activation act>
void batchnorm_backward_columns(const char* op, const T* x, Index x_stride, const T* mean, const T* invstd,
                                const T* gamma, const T* beta, const T* dy, Index dy_stride, const T* residual,
                                Index residual_stride, T* dx, Index dx_stride, T* dgamma, T* dbeta, Index rows,
                                Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch

namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail {

// The backend's scratch buffer as the partials of launches with `shape`.
template <class T>
T* batchnorm_partials(const LaunchShape& shape = kColumnTileShape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail
