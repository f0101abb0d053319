// BatchNorm1d on the GPU: batch statistics, normalisation and its backward pass.
#include "batchnorm.cuh"
#include "batchnorm.h"
#include "context.h"
#include "cuda_backend.h"
#include "elementwise.cuh"
#include "nn/shards.h"

#include <vector>

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {
namespace {

// A split batch's sums (nn/shards.h) meet on the host: partials (2, cols) on the device hold this
// shard's two rows of per-column values; `merge` turns the host copy into the whole batch's,
// which go back to partials.
template <class T, class Merge>
void merge_over_shards(const char* op, T* partials, Index cols, const LaunchShape& shape, Merge&& merge) {
  if (2 * std::size_t(cols) * sizeof(T) > batchnorm_partials_bytes<T>(shape))
    throw Error(str(op, ": ", cols, " columns of a batch split among processes, more than the ",
                    batchnorm_partials_bytes<T>(shape) / (2 * sizeof(T)), " its sums have room for"));
  thread_local std::vector<T> host;
  host.resize(std::size_t(2 * cols));
  copy_to_host(host.data(), partials, host.size() * sizeof(T));
  merge(host.data(), host.data() + cols);
  copy_to_device(partials, host.data(), host.size() * sizeof(T));
}

template <class T, Activation act>
void batchnorm_train_shard(const BatchSplit& split, const T* x, Index x_stride, const T* gamma, const T* beta, T eps,
                           T momentum, T* y, Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var,
                           Index rows, Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape) {
  const dim3 tiles = column_tile_grid("batchnorm_forward_train", cols, shape);
  const std::size_t shared = column_tile_shared_bytes<T>(shape);
  SIMT_LAUNCH(batchnorm_stats_row_chunks<T>, tiles, shape.block, shared, stream, x, x_stride, partials, partials + cols,
              rows, cols, rows, Index(1));
  detail::check_launch("batchnorm_stats_row_chunks");
  // Chan's formula over the shards: squares = sum_k [squares_k + n_k (mean_k - mean)^2].
  merge_over_shards("batchnorm_forward_train", partials, cols, shape, [&](T* sums, T* squares) {
    const std::vector<T> shard_sums(sums, sums + cols);
    split.shards->sum(sums, cols);
    for (Index j = 0; rows > 0 && j < cols; ++j) {
      const T d = shard_sums[std::size_t(j)] / T(rows) - sums[j] / T(split.batch_rows);
      squares[j] += T(rows) * d * d;
    }
    split.shards->sum(squares, cols);
  });
  SIMT_LAUNCH((batchnorm_normalise_shard<T, act>), tiles, shape.block, 0, stream, x, x_stride, partials, gamma, beta, y,
              y_stride, mean, invstd, running_mean, running_var, rows, split.batch_rows, cols, eps, momentum);
  detail::check_launch("batchnorm_normalise_shard");
}

template <class T, Activation act>
void batchnorm_backward_shard(const BatchSplit& split, const T* x, Index x_stride, const T* mean, const T* invstd,
                              const T* gamma, const T* beta, const T* dy, Index dy_stride, const T* residual,
                              Index residual_stride, T* dx, Index dx_stride, T* dgamma, T* dbeta, Index rows,
                              Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape) {
  const dim3 tiles = column_tile_grid("batchnorm_backward", cols, shape);
  const std::size_t shared = column_tile_shared_bytes<T>(shape);
  SIMT_LAUNCH((batchnorm_backward_column_tile<T, act>), tiles, shape.block, shared, stream, x, x_stride, mean, invstd,
              gamma, beta, dy, dy_stride, residual, residual_stride, dx, dx_stride, dgamma, dbeta, partials, rows,
              cols);
  detail::check_launch("batchnorm_backward_column_tile");
  merge_over_shards("batchnorm_backward", partials, cols, shape,
                    [&](T* sums, T*) { split.shards->sum(sums, 2 * cols); });
  SIMT_LAUNCH((batchnorm_backward_dx_shard<T, act>), tiles, shape.block, 0, stream, x, x_stride, mean, invstd, gamma,
              beta, dy, dy_stride, residual, residual_stride, dx, dx_stride, partials, rows, split.batch_rows, cols);
  detail::check_launch("batchnorm_backward_dx_shard");
}

}  // namespace

template <class T, Activation act>
void batchnorm_train_columns(const char* op, const T* x, Index x_stride, const T* gamma, const T* beta, T eps,
                             T momentum, T* y, Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var,
                             Index rows, Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape) {
  if (const BatchSplit& split = current_batch_split(); split.shards) {
    // Every shard takes part in the sums, whatever its size.
    batchnorm_train_shard<T, act>(split, x, x_stride, gamma, beta, eps, momentum, y, y_stride, mean, invstd,
                                  running_mean, running_var, rows, cols, partials, stream, shape);
    return;
  }
  if (rows == 0 || cols == 0) return;
  const dim3 tiles = column_tile_grid(op, cols, shape);
  const std::size_t shared = column_tile_shared_bytes<T>(shape);
  const RowChunks chunks = row_chunks(rows, cols, shape);
  // One chunk: the column tile, one launch where the row chunks would make two, which would
  // double the time of a batch this short (the launch's).
  if (chunks.count == 1) {
    SIMT_LAUNCH((batchnorm_train_column_tile<T, act>), tiles, shape.block, shared, stream, x, x_stride, gamma, beta, y,
                y_stride, mean, invstd, running_mean, running_var, rows, cols, eps, momentum);
    detail::check_launch("batchnorm_train_column_tile");
    return;
  }
  const dim3 grid = row_chunk_grid(cols, chunks, shape);
  T* chunk_sums = partials;
  T* chunk_squares = partials + chunks.count * cols;
  SIMT_LAUNCH(batchnorm_stats_row_chunks<T>, grid, shape.block, shared, stream, x, x_stride, chunk_sums, chunk_squares,
              rows, cols, chunks.rows, chunks.count);
  detail::check_launch("batchnorm_stats_row_chunks");
  SIMT_LAUNCH((batchnorm_normalise_row_chunks<T, act>), grid, shape.block, shared, stream, x, x_stride, chunk_sums,
              chunk_squares, gamma, beta, y, y_stride, mean, invstd, running_mean, running_var, rows, cols, chunks.rows,
              chunks.count, eps, momentum);
  detail::check_launch("batchnorm_normalise_row_chunks");
}

template <class T, Activation act>
void batchnorm_backward_columns(const char* op, const T* x, Index x_stride, const T* mean, const T* invstd,
                                const T* gamma, const T* beta, const T* dy, Index dy_stride, const T* residual,
                                Index residual_stride, T* dx, Index dx_stride, T* dgamma, T* dbeta, Index rows,
                                Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape) {
  if (const BatchSplit& split = current_batch_split(); split.shards) {
    batchnorm_backward_shard<T, act>(split, x, x_stride, mean, invstd, gamma, beta, dy, dy_stride, residual,
                                     residual_stride, dx, dx_stride, dgamma, dbeta, rows, cols, partials, stream,
                                     shape);
    return;
  }
  if (rows == 0 || cols == 0) return;
  const dim3 tiles = column_tile_grid(op, cols, shape);
  const std::size_t shared = column_tile_shared_bytes<T>(shape);
  const RowChunks chunks = row_chunks(rows, cols, shape);
  if (chunks.count == 1) {  // as in batchnorm_train_columns
    SIMT_LAUNCH((batchnorm_backward_column_tile<T, act>), tiles, shape.block, shared, stream, x, x_stride, mean, invstd,
                gamma, beta, dy, dy_stride, residual, residual_stride, dx, dx_stride, dgamma, dbeta,
                static_cast<T*>(nullptr), rows, cols);
    detail::check_launch("batchnorm_backward_column_tile");
    return;
  }
  const dim3 grid = row_chunk_grid(cols, chunks, shape);
  T* chunk_g = partials;
  T* chunk_g_xhat = partials + chunks.count * cols;
  SIMT_LAUNCH((batchnorm_backward_sums_row_chunks<T, act>), grid, shape.block, shared, stream, x, x_stride, mean,
              invstd, gamma, beta, dy, dy_stride, chunk_g, chunk_g_xhat, rows, cols, chunks.rows, chunks.count);
  detail::check_launch("batchnorm_backward_sums_row_chunks");
  SIMT_LAUNCH((batchnorm_backward_dx_row_chunks<T, act>), grid, shape.block, shared, stream, x, x_stride, mean, invstd,
              gamma, beta, dy, dy_stride, residual, residual_stride, dx, dx_stride, chunk_g, chunk_g_xhat, dgamma,
              dbeta, rows, cols, chunks.rows, chunks.count);
  detail::check_launch("batchnorm_backward_dx_row_chunks");
}

template <class T>
void batchnorm_forward_train(const T* x, Index x_stride, const T* gamma, const T* beta, T eps, T momentum, T* y,
                             Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var, Index rows,
                             Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape) {
  batchnorm_train_columns<T, Activation::none>("batchnorm_forward_train", x, x_stride, gamma, beta, eps, momentum, y,
                                               y_stride, mean, invstd, running_mean, running_var, rows, cols, partials,
                                               stream, shape);
}

template <class T>
void batchnorm_forward_eval(const T* x, Index x_stride, const T* gamma, const T* beta, const T* running_mean,
                            const T* running_var, T eps, T* y, Index y_stride, Index rows, Index cols,
                            cudaStream_t stream, const LaunchShape& shape) {
  const BatchNormEval<T, Activation::none> op{x, x_stride, gamma, beta, running_mean, running_var, eps, y, y_stride};
  for_each_element(rows, cols, op, stream, shape);
}

template <class T>
void batchnorm_backward(const T* x, Index x_stride, const T* mean, const T* invstd, const T* gamma, const T* dy,
                        Index dy_stride, T* dx, Index dx_stride, T* dgamma, T* dbeta, Index rows, Index cols,
                        T* partials, cudaStream_t stream, const LaunchShape& shape) {
  batchnorm_backward_columns<T, Activation::none>("batchnorm_backward", x, x_stride, mean, invstd, gamma, nullptr, dy,
                                                  dy_stride, nullptr, 0, dx, dx_stride, dgamma, dbeta, rows, cols,
                                                  partials, stream, shape);
}

}  // namespace launch

template <class T>
T* detail::batchnorm_partials(const LaunchShape& shape) {
  return static_cast<T*>(scratch(launch::batchnorm_partials_bytes<T>(shape)));
}

template <class T>
void batchnorm_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, const BatchNormOptions& options,
                             View<T> y, View<T> mean, View<T> invstd, View<T> running_mean, View<T> running_var) {
  detail::expect_on_device("batchnorm_forward_train", x, gamma, beta, y, mean, invstd, running_mean, running_var);
  launch::batchnorm_forward_train(x.data, x.stride, gamma.data, beta.data, T(options.eps), T(options.momentum), y.data,
                                  y.stride, mean.data, invstd.data, running_mean.data, running_var.data, x.rows, x.cols,
                                  detail::batchnorm_partials<T>(), detail::stream());
}

template <class T>
void batchnorm_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                            ConstView<T> running_var, const BatchNormOptions& options, View<T> y) {
  detail::expect_on_device("batchnorm_forward_eval", x, gamma, beta, running_mean, running_var, y);
  launch::batchnorm_forward_eval(x.data, x.stride, gamma.data, beta.data, running_mean.data, running_var.data,
                                 T(options.eps), y.data, y.stride, x.rows, x.cols, detail::stream());
}

template <class T>
void batchnorm_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma, ConstView<T> dy,
                        View<T> dx, View<T> dgamma, View<T> dbeta) {
  detail::expect_on_device("batchnorm_backward", x, mean, invstd, gamma, dy, dx, dgamma, dbeta);
  launch::batchnorm_backward(x.data, x.stride, mean.data, invstd.data, gamma.data, dy.data, dy.stride, dx.data,
                             dx.stride, dgamma.data, dbeta.data, x.rows, x.cols, detail::batchnorm_partials<T>(),
                             detail::stream());
}

#define NN_INSTANTIATE_COLUMNS(T, act)                                                                                 \
  template void launch::batchnorm_train_columns<T, act>(const char*, const T*, Index, const T*, const T*, T, T, T*,    \
                                                        Index, T*, T*, T*, T*, Index, Index, T*, cudaStream_t,         \
                                                        const LaunchShape&);                                           \
  template void launch::batchnorm_backward_columns<T, act>(const char*, const T*, Index, const T*, const T*, const T*, \
                                                           const T*, const T*, Index, const T*, Index, T*, Index, T*,  \
                                                           T*, Index, Index, T*, cudaStream_t, const LaunchShape&);
#define NN_INSTANTIATE(T)                                                                                            \
  NN_INSTANTIATE_COLUMNS(T, Activation::none)                                                                        \
  NN_INSTANTIATE_COLUMNS(T, Activation::relu)                                                                        \
  template T* detail::batchnorm_partials<T>(const LaunchShape&);                                                     \
  template void launch::batchnorm_forward_train<T>(const T*, Index, const T*, const T*, T, T, T*, Index, T*, T*, T*, \
                                                   T*, Index, Index, T*, cudaStream_t, const LaunchShape&);          \
  template void launch::batchnorm_forward_eval<T>(const T*, Index, const T*, const T*, const T*, const T*, T, T*,    \
                                                  Index, Index, Index, cudaStream_t, const LaunchShape&);            \
  template void launch::batchnorm_backward<T>(const T*, Index, const T*, const T*, const T*, const T*, Index, T*,    \
                                              Index, T*, T*, Index, Index, T*, cudaStream_t, const LaunchShape&);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

template <class T>
void fill_batchnorm_ops(OpTable<T>& table) {
  table.batchnorm_forward_train = batchnorm_forward_train<T>;
  table.batchnorm_forward_eval = batchnorm_forward_eval<T>;
  table.batchnorm_backward = batchnorm_backward<T>;
}
template void fill_batchnorm_ops(OpTable<float>&);
template void fill_batchnorm_ops(OpTable<double>&);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
