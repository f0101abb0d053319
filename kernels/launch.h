#pragma once
// How launchers shape their grids. Every kernel loops grid-stride, so any grid covers any
// problem size: a grid only has to be large enough to fill the GPU. Emulated launches cost
// blocks x barriers x threads of host time, so there the cap is small.
#include <algorithm>
#include <cstddef>

#include "flavour.h"
#include "nn/tensor.h"
#include "runtime.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

struct LaunchShape {
  dim3 block;
  unsigned max_blocks;  // blocks in the whole grid
};

#if defined(STARNN_CUDA_EMULATION)
inline constexpr unsigned kMaxBlocks = 16;
#else
inline constexpr unsigned kMaxBlocks = 2048;
#endif
inline constexpr unsigned kMaxGridY = 65535;

// The default shape of each strategy. Elementwise: 32 threads along a row (one warp, coalesced),
// 8 rows a block. Column tiles: 32 columns along x, 16 row stripes along y. Warp per row: 32
// lanes along a row, 4 rows (warps) a block.
inline constexpr LaunchShape kElementwiseShape{dim3(32, 8), kMaxBlocks};
inline constexpr LaunchShape kColumnTileShape{dim3(32, 16), kMaxBlocks};
inline constexpr LaunchShape kWarpPerRowShape{dim3(32, 4), kMaxBlocks};

// Blocks for `units` items at `per_block` items a block: at least 1, at most `cap`.
inline unsigned blocks_for(Index units, Index per_block, unsigned cap) {
  return unsigned(std::clamp<Index>((units + per_block - 1) / per_block, 1, std::max(cap, 1u)));
}

// Column-tile kernels: a block of (columns along x, row stripes along y) owns blockDim.x
// columns; the grid walks the column tiles.
inline dim3 column_tile_grid(const char* op, Index cols, const LaunchShape& shape) {
  if (shape.block.z != 1) throw Error(str(op, ": a column-tile block is (columns, row stripes), not 3-D"));
  return dim3(blocks_for(cols, shape.block.x, shape.max_blocks));
}

// Their shared memory: one accumulator of type Acc per thread.
template <class Acc>
std::size_t column_tile_shared_bytes(const LaunchShape& shape) {
  return std::size_t(shape.block.x) * shape.block.y * sizeof(Acc);
}

// Warp-per-row kernels: a block of (32 lanes, warps) handles blockDim.y rows at a time.
inline dim3 warp_per_row_grid(const char* op, Index rows, const LaunchShape& shape) {
  if (shape.block.x != 32 || shape.block.z != 1)
    throw Error(str(op, ": a warp-per-row block is (32, warps), got (", shape.block.x, ", ", shape.block.y, ", ",
                    shape.block.z, ")"));
  return dim3(blocks_for(rows, shape.block.y, shape.max_blocks));
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
