#pragma once
// The Linear layer's own kernels, for its cuBLAS path; its GEMMs are cuBLAS's and cuBLASLt's
// (linear.cu).
#include "nn/tensor.h"
#include "reduce.cuh"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// db (1, cols) += the column sums of dy (rows, cols): a column tile, as the BatchNorm
// statistics (batchnorm.cuh). Dynamic shared memory: blockDim.x * blockDim.y values of T.
template <class T>
__global__ void bias_grad_column_tile(const T* __restrict__ dy, Index dy_stride, T* __restrict__ db, Index rows,
                                      Index cols) {
  SIMT_DYNAMIC_SHARED(T, buffer);
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    T sum = 0;
    if (j < cols)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) sum += dy[i * dy_stride + j];
    sum = column_tile_sum(sum, buffer);
    if (j < cols && threadIdx.y == 0) db[j] += sum;
  }
}

// y = b in every row, before the cuBLAS GEMM adds x W^T (beta = 1).
template <class T>
struct BroadcastRow {
  static constexpr const char* name = "linear_forward (bias)";
  const T* b;  // (1, cols)
  T* y;        // (rows, cols)
  Index y_stride;
  __device__ void operator()(Index i, Index j) const { y[i * y_stride + j] = b[j]; }
};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
