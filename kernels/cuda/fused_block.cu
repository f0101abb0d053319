// The residual blocks' fused ops on the GPU (README.md, "Fused ResDense"): BatchNorm + ReLU in
// the BatchNorm column tiles, the skip connection in a Linear's GEMM (as cuBLASLt's C, beside
// the bias in its epilogue), BatchNorm folded into a Linear for evaluation.
#include "batchnorm.cuh"
#include "batchnorm.h"
#include "context.h"
#include "cuda_backend.h"
#include "elementwise.cuh"
#include "fused_block.cuh"
#include "fused_block.h"
#include "gemm_row_major.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {

template <class T>
void batchnorm_relu_forward_train(const T* x, Index x_stride, const T* gamma, const T* beta, T eps, T momentum, T* y,
                                  Index y_stride, T* mean, T* invstd, T* running_mean, T* running_var, Index rows,
                                  Index cols, T* partials, cudaStream_t stream, const LaunchShape& shape) {
  batchnorm_train_columns<T, Activation::relu>("batchnorm_relu_forward_train", x, x_stride, gamma, beta, eps, momentum,
                                               y, y_stride, mean, invstd, running_mean, running_var, rows, cols,
                                               partials, stream, shape);
}

template <class T>
void batchnorm_relu_forward_eval(const T* x, Index x_stride, const T* gamma, const T* beta, const T* running_mean,
                                 const T* running_var, T eps, T* y, Index y_stride, Index rows, Index cols,
                                 cudaStream_t stream, const LaunchShape& shape) {
  const BatchNormEval<T, Activation::relu> op{x, x_stride, gamma, beta, running_mean, running_var, eps, y, y_stride};
  for_each_element(rows, cols, op, stream, shape);
}

template <class T>
void batchnorm_relu_backward(const T* x, Index x_stride, const T* mean, const T* invstd, const T* gamma, const T* beta,
                             const T* dy, Index dy_stride, const T* residual, Index residual_stride, T* dx,
                             Index dx_stride, T* dgamma, T* dbeta, Index rows, Index cols, T* partials,
                             cudaStream_t stream, const LaunchShape& shape) {
  batchnorm_backward_columns<T, Activation::relu>("batchnorm_relu_backward", x, x_stride, mean, invstd, gamma, beta, dy,
                                                  dy_stride, residual, residual_stride, dx, dx_stride, dgamma, dbeta,
                                                  rows, cols, partials, stream, shape);
}

template <class T>
void linear_residual_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, const T* residual,
                             Index residual_stride, T* y, Index y_stride, Index rows, Index in, Index out,
                             const detail::Blas& blas, cudaStream_t stream, const LaunchShape& shape) {
  if (rows == 0 || out == 0) return;
  if (blas.lt != nullptr && blas.lt->linear_forward(x, x_stride, w, w_stride, b, residual, residual_stride, y, y_stride,
                                                    rows, in, out, Activation::none, stream))
    return;
  // The residual and the bias in place first, then the GEMM adds x W^T (beta = 1).
  for_each_element(rows, out, BiasAndResidual<T>{b, residual, residual_stride, y, y_stride}, stream, shape);
  detail::add_x_wt(blas.cublas, x, x_stride, w, w_stride, y, y_stride, rows, in, out);
}

template <class T>
void batchnorm_fold_into_linear(const T* w, Index w_stride, const T* b, const T* gamma, const T* beta,
                                const T* running_mean, const T* running_var, T eps, T* w_folded, Index w_folded_stride,
                                T* b_folded, Index out, Index in, cudaStream_t stream, const LaunchShape& shape) {
  for_each_element(
      out, in,
      FoldBatchNormIntoWeight<T>{w, w_stride, gamma, beta, running_mean, running_var, eps, w_folded, w_folded_stride},
      stream, shape);
  for_each_element(1, out, FoldBatchNormIntoBias<T>{b, gamma, beta, running_mean, running_var, eps, b_folded}, stream,
                   shape);
}

}  // namespace launch

template <class T>
void batchnorm_relu_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta,
                                  const BatchNormOptions& options, View<T> y, View<T> mean, View<T> invstd,
                                  View<T> running_mean, View<T> running_var) {
  detail::expect_on_device("batchnorm_relu_forward_train", x, gamma, beta, y, mean, invstd, running_mean, running_var);
  launch::batchnorm_relu_forward_train(x.data, x.stride, gamma.data, beta.data, T(options.eps), T(options.momentum),
                                       y.data, y.stride, mean.data, invstd.data, running_mean.data, running_var.data,
                                       x.rows, x.cols, detail::batchnorm_partials<T>(), detail::stream());
}

template <class T>
void batchnorm_relu_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                                 ConstView<T> running_var, const BatchNormOptions& options, View<T> y) {
  detail::expect_on_device("batchnorm_relu_forward_eval", x, gamma, beta, running_mean, running_var, y);
  launch::batchnorm_relu_forward_eval(x.data, x.stride, gamma.data, beta.data, running_mean.data, running_var.data,
                                      T(options.eps), y.data, y.stride, x.rows, x.cols, detail::stream());
}

template <class T>
void batchnorm_relu_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma,
                             ConstView<T> beta, ConstView<T> dy, ConstView<T> residual, View<T> dx, View<T> dgamma,
                             View<T> dbeta) {
  detail::expect_on_device("batchnorm_relu_backward", x, mean, invstd, gamma, beta, dy, residual, dx, dgamma, dbeta);
  launch::batchnorm_relu_backward(x.data, x.stride, mean.data, invstd.data, gamma.data, beta.data, dy.data, dy.stride,
                                  residual.empty() ? nullptr : residual.data, residual.stride, dx.data, dx.stride,
                                  dgamma.data, dbeta.data, x.rows, x.cols, detail::batchnorm_partials<T>(),
                                  detail::stream());
}

template <class T>
void linear_residual_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, ConstView<T> residual, View<T> y) {
  detail::expect_on_device("linear_residual_forward", x, w, b, residual, y);
  launch::linear_residual_forward(x.data, x.stride, w.data, w.stride, b.data, residual.data, residual.stride, y.data,
                                  y.stride, x.rows, x.cols, w.rows, detail::blas(), detail::stream());
}

template <class T>
void batchnorm_fold_into_linear(ConstView<T> w, ConstView<T> b, ConstView<T> gamma, ConstView<T> beta,
                                ConstView<T> running_mean, ConstView<T> running_var, const BatchNormOptions& options,
                                View<T> w_folded, View<T> b_folded) {
  detail::expect_on_device("batchnorm_fold_into_linear", w, b, gamma, beta, running_mean, running_var, w_folded,
                           b_folded);
  launch::batchnorm_fold_into_linear(w.data, w.stride, b.data, gamma.data, beta.data, running_mean.data,
                                     running_var.data, T(options.eps), w_folded.data, w_folded.stride, b_folded.data,
                                     w.rows, w.cols, detail::stream());
}

#define NN_INSTANTIATE(T)                                                                                              \
  template void launch::batchnorm_relu_forward_train<T>(const T*, Index, const T*, const T*, T, T, T*, Index, T*, T*,  \
                                                        T*, T*, Index, Index, T*, cudaStream_t, const LaunchShape&);   \
  template void launch::batchnorm_relu_forward_eval<T>(const T*, Index, const T*, const T*, const T*, const T*, T, T*, \
                                                       Index, Index, Index, cudaStream_t, const LaunchShape&);         \
  template void launch::batchnorm_relu_backward<T>(const T*, Index, const T*, const T*, const T*, const T*, const T*,  \
                                                   Index, const T*, Index, T*, Index, T*, T*, Index, Index, T*,        \
                                                   cudaStream_t, const LaunchShape&);                                  \
  template void launch::linear_residual_forward<T>(const T*, Index, const T*, Index, const T*, const T*, Index, T*,    \
                                                   Index, Index, Index, Index, const detail::Blas&, cudaStream_t,      \
                                                   const LaunchShape&);                                                \
  template void launch::batchnorm_fold_into_linear<T>(const T*, Index, const T*, const T*, const T*, const T*,         \
                                                      const T*, T, T*, Index, T*, Index, Index, cudaStream_t,          \
                                                      const LaunchShape&);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

template <class T>
void fill_fused_block_ops(OpTable<T>& table) {
  table.batchnorm_relu_forward_train = batchnorm_relu_forward_train<T>;
  table.batchnorm_relu_forward_eval = batchnorm_relu_forward_eval<T>;
  table.batchnorm_relu_backward = batchnorm_relu_backward<T>;
  table.linear_residual_forward = linear_residual_forward<T>;
  table.batchnorm_fold_into_linear = batchnorm_fold_into_linear<T>;
}
template void fill_fused_block_ops(OpTable<float>&);
template void fill_fused_block_ops(OpTable<double>&);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
