#pragma once
// Launchers of the Linear ops: cuBLASLt GEMMs with the bias (gradient) and the ReLU in their
// epilogues, or cuBLAS GEMMs and the kernels of linear.cuh and elementwise.cuh where cuBLASLt has
// no algorithm or blas.lt is null (row-major, see gemm_lt.h and gemm_row_major.h). x is
// (rows, in), w is (out, in), b and db are (1, out), y and dy are (rows, out), dx is (rows, in);
// matrices have row strides, vectors are contiguous. `shape` shapes the bias kernels (the
// broadcast, the column sums, or the addition of cuBLASLt's sums) and the ReLU of the cuBLAS
// path.
#include "gemm_lt.h"
#include "launch.h"
#include "nn/ops.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch {

// y = x W^T + b.
template <class T>
void linear_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, T* y, Index y_stride,
                    Index rows, Index in, Index out, const detail::Blas& blas, cudaStream_t stream,
                    const LaunchShape& shape = kElementwiseShape);
// y = max(x W^T + b, 0).
template <class T>
void linear_relu_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, T* y, Index y_stride,
                         Index rows, Index in, Index out, const detail::Blas& blas, cudaStream_t stream,
                         const LaunchShape& shape = kElementwiseShape);
// dw += dy^T x; db += column sums of dy; dx = dy W (or += with GradWrite::accumulate),
// skipped when dx is null.
template <class T>
void linear_backward(const T* x, Index x_stride, const T* w, Index w_stride, const T* dy, Index dy_stride, T* dx,
                     Index dx_stride, GradWrite dx_write, T* dw, Index dw_stride, T* db, Index rows, Index in,
                     Index out, const detail::Blas& blas, cudaStream_t stream,
                     const LaunchShape& shape = kColumnTileShape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch
