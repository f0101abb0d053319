#pragma once
// Reductions inside a block, shared by the kernels. Every summation order here is fixed by the
// launch shape alone, so a run repeats bit for bit.
#include "flavour.h"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

inline constexpr unsigned kFullWarp = 0xffffffffu;

// Butterfly over the 32 lanes of a full warp: every lane gets the result.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
  for (int offset = 16; offset > 0; offset /= 2) {
    const T other = __shfl_xor_sync(kFullWarp, v, offset);
    v = v < other ? other : v;
  }
  return v;
}

// For a block of (columns along x, row stripes along y): the sum of v over threadIdx.y for the
// column threadIdx.x, returned to every thread of that column. buffer holds blockDim.x *
// blockDim.y values in shared memory; a tree over y that works for any blockDim.y. Every
// thread of the block must call it (it holds barriers), live column or not.
template <class T>
__device__ T column_tile_sum(T v, T* buffer) {
  const unsigned x = threadIdx.x, y = threadIdx.y, width = blockDim.x, height = blockDim.y;
  buffer[y * width + x] = v;
  __syncthreads();
  unsigned half = 1;
  while (half * 2 < height) half *= 2;
  for (; half > 0; half /= 2) {
    if (y < half && y + half < height) buffer[y * width + x] += buffer[(y + half) * width + x];
    __syncthreads();
  }
  const T total = buffer[x];
  __syncthreads();  // the next call overwrites the buffer
  return total;
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
