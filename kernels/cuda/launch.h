#pragma once
// How launchers shape their grids. Every kernel loops grid-stride, so any grid covers any
// problem size: a grid only has to be large enough to fill the GPU. Emulated launches cost
// blocks x barriers x threads of host time, so there the cap is small.
#include <algorithm>
#include <cmath>
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

// Column tiles with the rows split into chunks (BatchNorm training and backward, batchnorm.cuh):
// a block owns (a column tile, a chunk of rows), so that a batch of few columns still fills the
// GPU; a first kernel writes per-chunk partial sums, a second one, on the same grid, merges the
// partials of all chunks of its columns and finishes its own chunk. The chunk count is the
// smallest of
//   - the grid cap over the column tiles, so the grid is tiles x chunks and never strides;
//   - rows / (kMinRowsPerStripe x stripes): each thread walks at least that many rows of a
//     chunk, or a block's barriers cost more than its loads;
//   - sqrt(rows): a chunk has at least as many rows as there are chunks, so the partials a block
//     of the second kernel reads (one a chunk per column for each sum) are never more than the
//     rows it reads.
// A chunk is whole stripes of the block (each stripe walks as many rows), the last one shorter.
// One chunk means whole columns per block: the op's one-kernel column tile.
inline constexpr Index kMinRowsPerStripe = 4;

struct RowChunks {
  Index rows;  // of every chunk but the last
  Index count;
};

inline RowChunks row_chunks(Index rows, Index cols, const LaunchShape& shape) {
  const Index stripes = shape.block.y, tiles = (cols + shape.block.x - 1) / shape.block.x;
  const Index root = Index(std::sqrt(double(rows)));  // exact below 2^52 rows
  const Index wanted =
      std::max<Index>(1, std::min({Index(shape.max_blocks) / tiles, rows / (kMinRowsPerStripe * stripes), root}));
  const Index per_chunk = ((rows + wanted - 1) / wanted + stripes - 1) / stripes * stripes;
  return {per_chunk, (rows + per_chunk - 1) / per_chunk};
}

// The grid of the row-chunked kernels: one block per (column tile, row chunk).
inline dim3 row_chunk_grid(Index cols, const RowChunks& chunks, const LaunchShape& shape) {
  return dim3(unsigned((cols + shape.block.x - 1) / shape.block.x * chunks.count));
}

// Warp-per-row kernels: a block of (32 lanes, warps) handles blockDim.y rows at a time.
inline dim3 warp_per_row_grid(const char* op, Index rows, const LaunchShape& shape) {
  if (shape.block.x != 32 || shape.block.z != 1)
    throw Error(str(op, ": a warp-per-row block is (32, warps), got (", shape.block.x, ", ", shape.block.y, ", ",
                    shape.block.z, ")"));
  return dim3(blocks_for(rows, shape.block.y, shape.max_blocks));
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
