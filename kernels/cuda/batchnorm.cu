// BatchNorm1d on the GPU: batch statistics, normalisation and its backward pass.
#include "batchnorm.cuh"
#include "batchnorm.h"
#include "context.h"
#include "cuda_backend.h"
#include "elementwise.cuh"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {

template <class T, Activation act>
void batchnorm_train_columns(const char* op, const T* x, Index x_stride, const T* gamma, const T* beta, T eps,
                             T momentum, T* y, Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var,
                             Index rows, Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape) {
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
  if (rows == 0 || cols == 0) return;
  const dim3 tiles = column_tile_grid(op, cols, shape);
  const std::size_t shared = column_tile_shared_bytes<T>(shape);
  const RowChunks chunks = row_chunks(rows, cols, shape);
  if (chunks.count == 1) {  // as in batchnorm_train_columns
    SIMT_LAUNCH((batchnorm_backward_column_tile<T, act>), tiles, shape.block, shared, stream, x, x_stride, mean, invstd,
                gamma, beta, dy, dy_stride, residual, residual_stride, dx, dx_stride, dgamma, dbeta, rows, cols);
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
