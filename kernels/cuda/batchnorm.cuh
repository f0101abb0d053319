#pragma once
// BatchNorm1d kernels. Statistics are per column of a row-major (rows, cols) batch: a block owns
// a tile of blockDim.x columns (one per thread along x, so each row is read coalesced), its
// threadIdx.y stripes walk rows, and the stripes' partial sums meet in shared memory
// (column_tile_sum). No atomics: every summation order is fixed by the launch shape and the
// sizes, so a run repeats bit for bit. Dynamic shared memory: blockDim.x * blockDim.y values of T.
//
// Two strategies, which the launcher picks (row_chunks in launch.h):
// - column tile: a block walks every row of its columns, so one kernel computes the statistics
//   and uses them. d columns make d / 32 blocks at the default shape: for batches too short to
//   split, whose time is the launch's.
// - row chunks: a block owns (a column tile, a chunk of rows), so that a taller batch fills the
//   GPU. A first kernel writes each chunk's partial sums per column; a second one, on the same
//   grid, merges all chunks' partials of its columns and finishes its own chunk. Every block of
//   the second kernel merges the same values in the same order, so all get the same statistics.
//   Blocks communicate only through the partials, across the boundary between the kernels.
// Both are made of the per-column steps below.
//
// The activation is a template argument: the fused BatchNorm + ReLU ops of the residual blocks
// (fused_block.cu) are these kernels with a clamped output and a masked gradient.
#include <cmath>
#include <type_traits>

#include "batchnorm.h"
#include "nn/tensor.h"
#include "reduce.cuh"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

template <Activation act, class T>
__device__ __forceinline__ T activate(T v) {
  if constexpr (act == Activation::relu)
    return v < T(0) ? T(0) : v;  // as relu_forward: a NaN passes through
  else
    return v;
}

// gamma xhat + beta, the pre-activation, in one expression for the forward and for the
// backward's ReLU mask, each operation rounded on its own as on the CPU (kernels/cpu's
// `normalised`): nvcc may not contract the product into an fma with beta, in one kernel and not
// in another, so every backend and kernel agrees on its sign.
template <class T>
__device__ __forceinline__ T normalised(T x, T mean, T invstd, T gamma, T beta) {
  const T scaled = gamma * (x - mean);
  if constexpr (std::is_same_v<T, float>)
    return __fmul_rn(scaled, invstd) + beta;
  else
    return __dmul_rn(scaled, invstd) + beta;
}

// One column's parameters for the backward: the batch statistics, gamma, and beta (read for the
// ReLU's mask only).
template <class T>
struct ColumnParameters {
  T mean, invstd, gamma, beta;
};

// The gradient that reaches the BatchNorm's output: dy, or for the ReLU dy where the
// pre-activation is positive, recomputed from x, which the backward reads anyway, instead of
// reading the forward's output or a mask.
template <Activation act, class T>
__device__ __forceinline__ T incoming_gradient(T dy, T x, const ColumnParameters<T>& p) {
  if constexpr (act == Activation::relu)
    return normalised(x, p.mean, p.invstd, p.gamma, p.beta) > T(0) ? dy : T(0);
  else
    return dy;
}

// Column j's parameters (zeros for a column past the end).
template <Activation act, class T>
__device__ __forceinline__ ColumnParameters<T> column_parameters(const T* mean, const T* invstd, const T* gamma,
                                                                 const T* beta, Index j, bool live) {
  if (!live) return {T(0), T(0), T(0), T(0)};
  return {mean[j], invstd[j], gamma[j], act == Activation::relu ? beta[j] : T(0)};
}

// The rows [begin, end) that a block's stripes walk.
struct RowRange {
  Index begin, end;
};

// A row-chunked block's work item, item = chunk * tiles + tile (neighbouring blocks read
// neighbouring columns of the same rows): the thread's column j and the chunk's rows.
struct TileChunk {
  Index j, chunk;
  RowRange rows;
};

__device__ __forceinline__ Index column_tiles(Index cols) { return (cols + blockDim.x - 1) / blockDim.x; }

__device__ __forceinline__ RowRange chunk_range(Index chunk, Index rows, Index chunk_rows) {
  const Index begin = chunk * chunk_rows, end = begin + chunk_rows;
  return {begin, end < rows ? end : rows};
}

__device__ __forceinline__ TileChunk tile_chunk(Index item, Index rows, Index cols, Index chunk_rows) {
  const Index tiles = column_tiles(cols), chunk = item / tiles;
  return {(item % tiles) * blockDim.x + threadIdx.x, chunk, chunk_range(chunk, rows, chunk_rows)};
}

// The sum of column j over the rows, and the sum of squares about their mean: two passes, as
// the CPU, so the variance does not cancel. Every thread of the block calls it (it holds
// barriers), live column or not.
template <class T>
struct SumAndSquares {
  T sum, squares;
};

template <class T>
__device__ SumAndSquares<T> column_sum_and_squares(const T* x, Index x_stride, Index j, bool live, RowRange r,
                                                   T* buffer) {
  T sum = 0;
  if (live)
    for (Index i = r.begin + threadIdx.y; i < r.end; i += blockDim.y) sum += x[i * x_stride + j];
  sum = column_tile_sum(sum, buffer);
  const T m = sum / T(r.end - r.begin);
  T squares = 0;
  if (live)
    for (Index i = r.begin + threadIdx.y; i < r.end; i += blockDim.y) {
      const T c = x[i * x_stride + j] - m;
      squares += c * c;
    }
  return {sum, column_tile_sum(squares, buffer)};
}

// The batch statistics of column j from the batch's sum and sum of squares about its mean. The
// one thread per column that is `writer` stores mean and invstd and updates the running
// estimates (unbiased variance).
template <class T>
struct Normalisation {
  T mean, invstd;
};

template <class T>
__device__ Normalisation<T> batch_statistics(SumAndSquares<T> batch, Index rows, T eps, T momentum, Index j,
                                             bool writer, T* mean, T* invstd, T* running_mean, T* running_var) {
  const T m = batch.sum / T(rows), inv = T(1) / std::sqrt(batch.squares / T(rows) + eps);
  if (writer) {
    mean[j] = m;
    invstd[j] = inv;
    running_mean[j] = (T(1) - momentum) * running_mean[j] + momentum * m;
    running_var[j] = (T(1) - momentum) * running_var[j] + momentum * batch.squares / T(rows - 1);
  }
  return {m, inv};
}

// y = act(gamma xhat + beta) over the rows of column j. y may be x: each element is read, then
// written, by one thread.
template <Activation act, class T>
__device__ void normalise_rows(const T* x, Index x_stride, Normalisation<T> s, T g, T b, T* y, Index y_stride, Index j,
                               RowRange r) {
  for (Index i = r.begin + threadIdx.y; i < r.end; i += blockDim.y)
    y[i * y_stride + j] = activate<act>(normalised(x[i * x_stride + j], s.mean, s.invstd, g, b));
}

// Column tile: the statistics of whole columns, the running estimates, then y = act(gamma xhat +
// beta). y may be x: every x of the tile is summed before the first y is written.
template <class T, Activation act>
__global__ void batchnorm_train_column_tile(const T* x, Index x_stride, const T* __restrict__ gamma,
                                            const T* __restrict__ beta, T* y, Index y_stride, T* __restrict__ mean,
                                            T* __restrict__ invstd, T* __restrict__ running_mean,
                                            T* __restrict__ running_var, Index rows, Index cols, T eps, T momentum) {
  // x, y are (rows, cols); gamma, beta, mean, invstd, running_mean, running_var are (1, cols).
  SIMT_DYNAMIC_SHARED(T, buffer);
  const RowRange all{0, rows};
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    const bool live = j < cols;
    const SumAndSquares<T> column = column_sum_and_squares(x, x_stride, j, live, all, buffer);
    if (!live) continue;
    const Normalisation<T> s =
        batch_statistics(column, rows, eps, momentum, j, threadIdx.y == 0, mean, invstd, running_mean, running_var);
    normalise_rows<act>(x, x_stride, s, gamma[j], beta[j], y, y_stride, j, all);
  }
}

// Row chunks, first kernel: per chunk and column, the sum over the chunk's rows and the sum of
// squares about the chunk's mean.
template <class T>
__global__ void batchnorm_stats_row_chunks(const T* x, Index x_stride, T* __restrict__ chunk_sums,
                                           T* __restrict__ chunk_squares, Index rows, Index cols, Index chunk_rows,
                                           Index chunks) {
  // x is (rows, cols); chunk_sums, chunk_squares are (chunks, cols).
  SIMT_DYNAMIC_SHARED(T, buffer);
  for (Index item = blockIdx.x; item < column_tiles(cols) * chunks; item += gridDim.x) {
    const TileChunk b = tile_chunk(item, rows, cols, chunk_rows);
    const bool live = b.j < cols;
    const SumAndSquares<T> part = column_sum_and_squares(x, x_stride, b.j, live, b.rows, buffer);
    if (live && threadIdx.y == 0) {
      chunk_sums[b.chunk * cols + b.j] = part.sum;
      chunk_squares[b.chunk * cols + b.j] = part.squares;
    }
  }
}

// The batch's sum and sum of squares of column j, merged from the chunks' by Chan's formula for
// k groups: squares = sum_c [squares_c + n_c (mean_c - mean)^2], mean_c = sum_c / n_c. Each term
// is about its own chunk's mean or the batch's, so nothing cancels, and the terms are
// independent, so the stripes add them in parallel where the pairwise form is a chain of
// dependent merges. Stripe y takes chunks y, y + blockDim.y, ... in order, then the stripes meet
// in column_tile_sum: an order fixed by the launch shape and the chunk count, the same in every
// block. Every thread of the block calls it.
template <class T>
__device__ SumAndSquares<T> merge_row_chunks(const T* chunk_sums, const T* chunk_squares, Index j, bool live,
                                             Index rows, Index cols, Index chunk_rows, Index chunks, T* buffer) {
  T sum = 0;
  if (live)
    for (Index c = threadIdx.y; c < chunks; c += blockDim.y) sum += chunk_sums[c * cols + j];
  sum = column_tile_sum(sum, buffer);
  const T m = sum / T(rows);
  T squares = 0;
  if (live)
    for (Index c = threadIdx.y; c < chunks; c += blockDim.y) {
      const RowRange r = chunk_range(c, rows, chunk_rows);
      const T n = T(r.end - r.begin), d = chunk_sums[c * cols + j] / n - m;
      squares += chunk_squares[c * cols + j] + n * d * d;
    }
  return {sum, column_tile_sum(squares, buffer)};
}

// Row chunks, second kernel: the statistics merged from all chunks; the blocks of chunk 0 store
// them and update the running estimates; each block normalises its own chunk. y may be x: the
// first kernel has read all of x, and here each block reads only its own chunk's rows.
template <class T, Activation act>
__global__ void batchnorm_normalise_row_chunks(const T* x, Index x_stride, const T* __restrict__ chunk_sums,
                                               const T* __restrict__ chunk_squares, const T* __restrict__ gamma,
                                               const T* __restrict__ beta, T* y, Index y_stride, T* __restrict__ mean,
                                               T* __restrict__ invstd, T* __restrict__ running_mean,
                                               T* __restrict__ running_var, Index rows, Index cols, Index chunk_rows,
                                               Index chunks, T eps, T momentum) {
  // x, y are (rows, cols); chunk_sums, chunk_squares are (chunks, cols); the rest (1, cols).
  SIMT_DYNAMIC_SHARED(T, buffer);
  for (Index item = blockIdx.x; item < column_tiles(cols) * chunks; item += gridDim.x) {
    const TileChunk b = tile_chunk(item, rows, cols, chunk_rows);
    const bool live = b.j < cols;
    const SumAndSquares<T> batch =
        merge_row_chunks(chunk_sums, chunk_squares, b.j, live, rows, cols, chunk_rows, chunks, buffer);
    if (!live) continue;
    const Normalisation<T> s = batch_statistics(batch, rows, eps, momentum, b.j, b.chunk == 0 && threadIdx.y == 0, mean,
                                                invstd, running_mean, running_var);
    normalise_rows<act>(x, x_stride, s, gamma[b.j], beta[b.j], y, y_stride, b.j, b.rows);
  }
}

// With g the incoming gradient (dy, masked by the ReLU for Activation::relu): the sums of g and
// g xhat of column j over the rows (xhat recomputed from x, one (rows, cols) buffer less). Every
// thread of the block calls it.
template <class T>
struct GradientSums {
  T g, g_xhat;
};

template <Activation act, class T>
__device__ GradientSums<T> column_gradient_sums(const T* x, Index x_stride, const ColumnParameters<T>& p, const T* dy,
                                                Index dy_stride, Index j, bool live, RowRange r, T* buffer) {
  T sum_g = 0, sum_g_xhat = 0;
  if (live)
    for (Index i = r.begin + threadIdx.y; i < r.end; i += blockDim.y) {
      const T xi = x[i * x_stride + j];
      const T g = incoming_gradient<act>(dy[i * dy_stride + j], xi, p);
      sum_g += g;
      sum_g_xhat += g * (xi - p.mean) * p.invstd;
    }
  sum_g = column_tile_sum(sum_g, buffer);
  return {sum_g, column_tile_sum(sum_g_xhat, buffer)};
}

// dx = residual + the BatchNorm backward over the rows of column j, from the batch's gradient
// sums; overwritten (residual null: nothing added). dx may be dy or residual: each dx is written
// by the thread that has just read its dy and residual, and no other thread reads them.
template <Activation act, class T>
__device__ void write_dx(const T* x, Index x_stride, const ColumnParameters<T>& p, const T* dy, Index dy_stride,
                         const T* residual, Index residual_stride, GradientSums<T> batch, Index rows, T* dx,
                         Index dx_stride, Index j, RowRange r) {
  const T inv_rows = T(1) / T(rows), scale = p.gamma * p.invstd;
  for (Index i = r.begin + threadIdx.y; i < r.end; i += blockDim.y) {
    const T xi = x[i * x_stride + j];
    const T xhat = (xi - p.mean) * p.invstd;
    const T d = scale * (incoming_gradient<act>(dy[i * dy_stride + j], xi, p) - inv_rows * batch.g -
                         xhat * inv_rows * batch.g_xhat);
    dx[i * dx_stride + j] = residual != nullptr ? residual[i * residual_stride + j] + d : d;
  }
}

// Column tile: the gradient sums of whole columns, the parameter gradients accumulated from them,
// then dx. dx may be dy or residual: every dy of the tile is read for the sums before the first
// dx is written. For a shard of a batch split among processes (shard_sums not null) the sums are
// the shard's: they go to shard_sums[j] (g) and shard_sums[cols + j] (g xhat) for the host to add
// over the shards, and dx waits for batchnorm_backward_dx_shard.
template <class T, Activation act>
__global__ void batchnorm_backward_column_tile(const T* x, Index x_stride, const T* __restrict__ mean,
                                               const T* __restrict__ invstd, const T* __restrict__ gamma,
                                               const T* __restrict__ beta, const T* dy, Index dy_stride,
                                               const T* residual, Index residual_stride, T* dx, Index dx_stride,
                                               T* __restrict__ dgamma, T* __restrict__ dbeta,
                                               T* __restrict__ shard_sums, Index rows, Index cols) {
  // x, dy, residual, dx are (rows, cols); mean, invstd, gamma, beta, dgamma, dbeta are (1, cols);
  // shard_sums (2, cols) or null.
  SIMT_DYNAMIC_SHARED(T, buffer);
  const RowRange all{0, rows};
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    const bool live = j < cols;
    const ColumnParameters<T> p = column_parameters<act>(mean, invstd, gamma, beta, j, live);
    const GradientSums<T> column = column_gradient_sums<act>(x, x_stride, p, dy, dy_stride, j, live, all, buffer);
    if (!live) continue;
    if (threadIdx.y == 0) {
      dgamma[j] += column.g_xhat;
      dbeta[j] += column.g;
      if (shard_sums != nullptr) {
        shard_sums[j] = column.g;
        shard_sums[cols + j] = column.g_xhat;
      }
    }
    if (shard_sums == nullptr)
      write_dx<act>(x, x_stride, p, dy, dy_stride, residual, residual_stride, column, rows, dx, dx_stride, j, all);
  }
}

// Row chunks, first kernel: per chunk and column, the sums of g and g xhat over the chunk's rows.
template <class T, Activation act>
__global__ void batchnorm_backward_sums_row_chunks(const T* x, Index x_stride, const T* __restrict__ mean,
                                                   const T* __restrict__ invstd, const T* __restrict__ gamma,
                                                   const T* __restrict__ beta, const T* dy, Index dy_stride,
                                                   T* __restrict__ chunk_g, T* __restrict__ chunk_g_xhat, Index rows,
                                                   Index cols, Index chunk_rows, Index chunks) {
  // x, dy are (rows, cols); mean, invstd, gamma, beta are (1, cols); chunk_g, chunk_g_xhat
  // (chunks, cols).
  SIMT_DYNAMIC_SHARED(T, buffer);
  for (Index item = blockIdx.x; item < column_tiles(cols) * chunks; item += gridDim.x) {
    const TileChunk b = tile_chunk(item, rows, cols, chunk_rows);
    const bool live = b.j < cols;
    const ColumnParameters<T> p = column_parameters<act>(mean, invstd, gamma, beta, b.j, live);
    const GradientSums<T> part = column_gradient_sums<act>(x, x_stride, p, dy, dy_stride, b.j, live, b.rows, buffer);
    if (live && threadIdx.y == 0) {
      chunk_g[b.chunk * cols + b.j] = part.g;
      chunk_g_xhat[b.chunk * cols + b.j] = part.g_xhat;
    }
  }
}

// Row chunks, second kernel: the batch's gradient sums added from all chunks (stripe y takes
// chunks y, y + blockDim.y, ... in order, then column_tile_sum: the same order in every block);
// the blocks of chunk 0 accumulate the parameter gradients; each block writes its own chunk's
// dx. dx may be dy or residual: the first kernel has read all of dy, and here each block reads
// only its own chunk's rows.
template <class T, Activation act>
__global__ void batchnorm_backward_dx_row_chunks(const T* x, Index x_stride, const T* __restrict__ mean,
                                                 const T* __restrict__ invstd, const T* __restrict__ gamma,
                                                 const T* __restrict__ beta, const T* dy, Index dy_stride,
                                                 const T* residual, Index residual_stride, T* dx, Index dx_stride,
                                                 const T* __restrict__ chunk_g, const T* __restrict__ chunk_g_xhat,
                                                 T* __restrict__ dgamma, T* __restrict__ dbeta, Index rows, Index cols,
                                                 Index chunk_rows, Index chunks) {
  // x, dy, residual, dx are (rows, cols); chunk_g, chunk_g_xhat are (chunks, cols); the rest
  // (1, cols).
  SIMT_DYNAMIC_SHARED(T, buffer);
  for (Index item = blockIdx.x; item < column_tiles(cols) * chunks; item += gridDim.x) {
    const TileChunk b = tile_chunk(item, rows, cols, chunk_rows);
    const bool live = b.j < cols;
    T sum_g = 0, sum_g_xhat = 0;
    if (live)
      for (Index c = threadIdx.y; c < chunks; c += blockDim.y) {
        sum_g += chunk_g[c * cols + b.j];
        sum_g_xhat += chunk_g_xhat[c * cols + b.j];
      }
    sum_g = column_tile_sum(sum_g, buffer);
    const GradientSums<T> batch{sum_g, column_tile_sum(sum_g_xhat, buffer)};
    if (!live) continue;
    if (b.chunk == 0 && threadIdx.y == 0) {
      dgamma[b.j] += batch.g_xhat;
      dbeta[b.j] += batch.g;
    }
    write_dx<act>(x, x_stride, column_parameters<act>(mean, invstd, gamma, beta, b.j, true), dy, dy_stride, residual,
                  residual_stride, batch, rows, dx, dx_stride, b.j, b.rows);
  }
}

// A shard of a batch split among processes (nn/shards.h) walks its own rows with column tiles and
// meets the other shards on the host between two kernels (launch::batchnorm_*_columns).
// Forward: batchnorm_stats_row_chunks with one chunk gives the shard's sum and squares about its
// mean; the host merges the shards' by Chan's formula, as merge_row_chunks merges chunks; then
// this kernel takes the whole batch's sum (batch_sums[j]) and squares (batch_sums[cols + j]) and
// normalises the shard's rows.
template <class T, Activation act>
__global__ void batchnorm_normalise_shard(const T* x, Index x_stride, const T* __restrict__ batch_sums,
                                          const T* __restrict__ gamma, const T* __restrict__ beta, T* y, Index y_stride,
                                          T* __restrict__ mean, T* __restrict__ invstd, T* __restrict__ running_mean,
                                          T* __restrict__ running_var, Index rows, Index batch_rows, Index cols, T eps,
                                          T momentum) {
  // x, y are (rows, cols); batch_sums is (2, cols); the rest (1, cols).
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    if (j >= cols) continue;
    const Normalisation<T> s = batch_statistics(SumAndSquares<T>{batch_sums[j], batch_sums[cols + j]}, batch_rows, eps,
                                                momentum, j, threadIdx.y == 0, mean, invstd, running_mean, running_var);
    normalise_rows<act>(x, x_stride, s, gamma[j], beta[j], y, y_stride, j, RowRange{0, rows});
  }
}

// Backward of a shard, second kernel (the first is batchnorm_backward_column_tile with its
// shard_sums): dx of the shard's rows from the whole batch's gradient sums (batch_sums as
// shard_sums there). dx may be dy or residual: the first kernel has read all of dy.
template <class T, Activation act>
__global__ void batchnorm_backward_dx_shard(const T* x, Index x_stride, const T* __restrict__ mean,
                                            const T* __restrict__ invstd, const T* __restrict__ gamma,
                                            const T* __restrict__ beta, const T* dy, Index dy_stride, const T* residual,
                                            Index residual_stride, T* dx, Index dx_stride,
                                            const T* __restrict__ batch_sums, Index rows, Index batch_rows,
                                            Index cols) {
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    if (j >= cols) continue;
    write_dx<act>(x, x_stride, column_parameters<act>(mean, invstd, gamma, beta, j, true), dy, dy_stride, residual,
                  residual_stride, GradientSums<T>{batch_sums[j], batch_sums[cols + j]}, batch_rows, dx, dx_stride, j,
                  RowRange{0, rows});
  }
}

// Evaluation mode is affine per column: BN_eval(v) = v scale + shift, from the running statistics.
template <class T>
struct EvalAffine {
  T scale, shift;
};
template <class T>
__device__ __forceinline__ EvalAffine<T> eval_affine(const T* gamma, const T* beta, const T* running_mean,
                                                     const T* running_var, T eps, Index j) {
  const T scale = gamma[j] / std::sqrt(running_var[j] + eps);
  return {scale, beta[j] - running_mean[j] * scale};
}

template <class T, Activation act>
struct BatchNormEval {
  static constexpr const char* name =
      act == Activation::relu ? "batchnorm_relu_forward_eval" : "batchnorm_forward_eval";
  const T* x;  // x, y are (rows, cols); the rest (1, cols)
  Index x_stride;
  const T* gamma;
  const T* beta;
  const T* running_mean;
  const T* running_var;
  T eps;
  T* y;
  Index y_stride;
  __device__ void operator()(Index i, Index j) const {
    const EvalAffine<T> bn = eval_affine(gamma, beta, running_mean, running_var, eps, j);
    y[i * y_stride + j] = activate<act>(x[i * x_stride + j] * bn.scale + bn.shift);
  }
};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
