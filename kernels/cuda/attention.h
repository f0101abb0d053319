#pragma once
// Launchers of the feature-attention ops (kernels in attention.cuh). Every matrix is
// (rows, cols) with its own row stride, on the device. Both passes are warp per row; the
// forward's residual may be null.
#include "launch.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch {

template <class T>
void attention_forward(const T* z, Index z_stride, const T* h, Index h_stride, const T* residual, Index residual_stride,
                       T* a, Index a_stride, T* y, Index y_stride, Index rows, Index cols, cudaStream_t stream,
                       const LaunchShape& shape = kWarpPerRowShape);
template <class T>
void attention_backward(const T* h, Index h_stride, const T* a, Index a_stride, const T* dy, Index dy_stride, T* dh,
                        Index dh_stride, T* dz, Index dz_stride, Index rows, Index cols, cudaStream_t stream,
                        const LaunchShape& shape = kWarpPerRowShape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch
