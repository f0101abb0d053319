#pragma once
// Elementwise kernels: one grid-stride kernel that calls a functor for every element of a
// (rows, cols) matrix, and the functors of the elementwise ops. Each functor holds raw device
// pointers with their row strides; outputs may be inputs (every element is read, then written,
// by one thread).
#include <cstdint>

#include "check.h"
#include "dropout_hash.h"
#include "launch.h"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// Threads along x walk the columns of a row, so a warp touches consecutive addresses; threads
// along y take rows. Both loops stride by the grid, so any grid covers any shape.
template <class Op>
__global__ void for_each_element_grid_stride(Index rows, Index cols, Op op) {
  for (Index i = Index(blockIdx.y) * blockDim.y + threadIdx.y; i < rows; i += Index(gridDim.y) * blockDim.y)
    for (Index j = Index(blockIdx.x) * blockDim.x + threadIdx.x; j < cols; j += Index(gridDim.x) * blockDim.x) op(i, j);
}

// Launches op over every element; nothing for an empty matrix. Op::name names it in errors.
template <class Op>
void for_each_element(Index rows, Index cols, const Op& op, cudaStream_t stream, const LaunchShape& shape) {
  if (rows == 0 || cols == 0) return;
  const unsigned gx = blocks_for(cols, shape.block.x, shape.max_blocks);
  const unsigned gy = blocks_for(rows, shape.block.y, std::min(shape.max_blocks / gx, kMaxGridY));
  SIMT_LAUNCH(for_each_element_grid_stride<Op>, dim3(gx, gy), shape.block, 0, stream, rows, cols, op);
  detail::check_launch(Op::name);
}

template <class T>
struct ReluForward {
  static constexpr const char* name = "relu_forward";
  const T* x;  // x, y are (rows, cols)
  Index x_stride;
  T* y;
  Index y_stride;
  // As std::max(x, 0): a NaN passes through.
  __device__ void operator()(Index i, Index j) const {
    const T v = x[i * x_stride + j];
    y[i * y_stride + j] = v < T(0) ? T(0) : v;
  }
};

template <class T>
struct ReluBackward {
  static constexpr const char* name = "relu_backward";
  const T* y;  // y, dy, dx are (rows, cols)
  Index y_stride;
  const T* dy;
  Index dy_stride;
  T* dx;
  Index dx_stride;
  __device__ void operator()(Index i, Index j) const {
    dx[i * dx_stride + j] = y[i * y_stride + j] > T(0) ? dy[i * dy_stride + j] : T(0);
  }
};

// The CPU's counter-based hash decides each element, so both backends draw the same mask.
template <class T>
struct DropoutForward {
  static constexpr const char* name = "dropout_forward";
  const T* x;  // x, mask, y are (rows, cols)
  Index x_stride;
  T* mask;
  Index mask_stride;
  T* y;
  Index y_stride;
  Index cols;
  Index first_row;  // of these rows in the whole batch, which the hash numbers
  double p;
  std::uint64_t seed;
  T keep_scale;  // 1 / (1 - p)
  __device__ void operator()(Index i, Index j) const {
    const T m = dropout_keeps(seed, std::uint64_t((first_row + i) * cols + j), p) ? keep_scale : T(0);
    mask[i * mask_stride + j] = m;
    y[i * y_stride + j] = x[i * x_stride + j] * m;
  }
};

template <class T>
struct Multiply {
  static constexpr const char* name = "multiply";
  const T* a;  // a, b, out are (rows, cols)
  Index a_stride;
  const T* b;
  Index b_stride;
  T* out;
  Index out_stride;
  __device__ void operator()(Index i, Index j) const {
    out[i * out_stride + j] = a[i * a_stride + j] * b[i * b_stride + j];
  }
};

template <class T>
struct Add {
  static constexpr const char* name = "add";
  const T* a;  // a, b, out are (rows, cols)
  Index a_stride;
  const T* b;
  Index b_stride;
  T* out;
  Index out_stride;
  __device__ void operator()(Index i, Index j) const {
    out[i * out_stride + j] = a[i * a_stride + j] + b[i * b_stride + j];
  }
};

template <class T>
struct Copy {
  static constexpr const char* name = "copy";
  const T* src;  // src, dst are (rows, cols)
  Index src_stride;
  T* dst;
  Index dst_stride;
  __device__ void operator()(Index i, Index j) const { dst[i * dst_stride + j] = src[i * src_stride + j]; }
};

template <class T>
struct Fill {
  static constexpr const char* name = "fill";
  T* dst;  // (rows, cols)
  Index dst_stride;
  T value;
  __device__ void operator()(Index i, Index j) const { dst[i * dst_stride + j] = value; }
};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
