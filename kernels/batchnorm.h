#pragma once
// Launchers of the BatchNorm1d ops (kernels in batchnorm.cuh). x, y, dy, dx are (rows, cols)
// with row strides; the per-feature vectors are contiguous (1, cols). Training mode and the
// backward pass are column tiles, evaluation mode is elementwise.
#include "launch.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch {

template <class T>
void batchnorm_forward_train(const T* x, Index x_stride, const T* gamma, const T* beta, T eps, T momentum, T* y,
                             Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var, Index rows,
                             Index cols, cudaStream_t stream, const LaunchShape& shape = kColumnTileShape);
template <class T>
void batchnorm_forward_eval(const T* x, Index x_stride, const T* gamma, const T* beta, const T* running_mean,
                            const T* running_var, T eps, T* y, Index y_stride, Index rows, Index cols,
                            cudaStream_t stream, const LaunchShape& shape = kElementwiseShape);
template <class T>
void batchnorm_backward(const T* x, Index x_stride, const T* mean, const T* invstd, const T* gamma, const T* dy,
                        Index dy_stride, T* dx, Index dx_stride, T* dgamma, T* dbeta, Index rows, Index cols,
                        cudaStream_t stream, const LaunchShape& shape = kColumnTileShape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch
