#pragma once
// Launchers of the elementwise ops (kernels in elementwise.cuh). Every matrix is (rows, cols)
// with its own row stride, on the device; an output may be one of the inputs.
#include <cstdint>

#include "launch.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch {

template <class T>
void relu_forward(const T* x, Index x_stride, T* y, Index y_stride, Index rows, Index cols, cudaStream_t stream,
                  const LaunchShape& shape = kElementwiseShape);
template <class T>
void relu_backward(const T* y, Index y_stride, const T* dy, Index dy_stride, T* dx, Index dx_stride, Index rows,
                   Index cols, cudaStream_t stream, const LaunchShape& shape = kElementwiseShape);

template <class T>
void dropout_forward(const T* x, Index x_stride, double p, std::uint64_t seed, T* mask, Index mask_stride, T* y,
                     Index y_stride, Index rows, Index cols, Index first_row, cudaStream_t stream,
                     const LaunchShape& shape = kElementwiseShape);

template <class T>
void multiply(const T* a, Index a_stride, const T* b, Index b_stride, T* out, Index out_stride, Index rows, Index cols,
              cudaStream_t stream, const LaunchShape& shape = kElementwiseShape);
template <class T>
void add(const T* a, Index a_stride, const T* b, Index b_stride, T* out, Index out_stride, Index rows, Index cols,
         cudaStream_t stream, const LaunchShape& shape = kElementwiseShape);

template <class T>
void copy(const T* src, Index src_stride, T* dst, Index dst_stride, Index rows, Index cols, cudaStream_t stream,
          const LaunchShape& shape = kElementwiseShape);
template <class T>
void fill(T* dst, Index dst_stride, T value, Index rows, Index cols, cudaStream_t stream,
          const LaunchShape& shape = kElementwiseShape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch
