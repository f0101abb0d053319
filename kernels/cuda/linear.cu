// The Linear layer on the GPU: GEMMs through cuBLASLt with the bias (and the ReLU that follows a
// hidden layer) and the bias gradient in their epilogues, or, where cuBLASLt has no algorithm for
// a problem, through cuBLAS with the bias and the ReLU by our kernels.
#include "context.h"
#include "cuda_backend.h"
#include "elementwise.cuh"
#include "gemm_row_major.h"
#include "linear.cuh"
#include "linear.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {

using detail::gemm_row_major;
using detail::Transpose;

namespace {

// y = act(x W^T + b), the forward of a Linear and of a Linear followed by a ReLU: one GEMM whose
// epilogue adds the bias and applies the activation or, where cuBLASLt has no algorithm, the
// bias pass, cuBLAS's GEMM and, for the ReLU, a pass of its own.
template <class T>
void linear_forward_then(Activation activation, const T* x, Index x_stride, const T* w, Index w_stride, const T* b,
                         T* y, Index y_stride, Index rows, Index in, Index out, const detail::Blas& blas,
                         cudaStream_t stream, const LaunchShape& shape) {
  if (rows == 0 || out == 0) return;
  if (blas.lt != nullptr && blas.lt->linear_forward<T>(x, x_stride, w, w_stride, b, nullptr, 0, y, y_stride, rows, in,
                                                       out, activation, stream))
    return;
  // The bias in place first, then the GEMM adds x W^T (beta = 1), then the ReLU in place: a GEMM
  // of cuBLAS's has no epilogue to put it in.
  for_each_element(rows, out, BroadcastRow<T>{b, y, y_stride}, stream, shape);
  detail::add_x_wt(blas.cublas, x, x_stride, w, w_stride, y, y_stride, rows, in, out);
  if (activation == Activation::relu)
    for_each_element(rows, out, ReluForward<T>{y, y_stride, y, y_stride}, stream, shape);
}

}  // namespace

template <class T>
void linear_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, T* y, Index y_stride,
                    Index rows, Index in, Index out, const detail::Blas& blas, cudaStream_t stream,
                    const LaunchShape& shape) {
  linear_forward_then(Activation::none, x, x_stride, w, w_stride, b, y, y_stride, rows, in, out, blas, stream, shape);
}

template <class T>
void linear_relu_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, T* y, Index y_stride,
                         Index rows, Index in, Index out, const detail::Blas& blas, cudaStream_t stream,
                         const LaunchShape& shape) {
  linear_forward_then(Activation::relu, x, x_stride, w, w_stride, b, y, y_stride, rows, in, out, blas, stream, shape);
}

template <class T>
void linear_backward(const T* x, Index x_stride, const T* w, Index w_stride, const T* dy, Index dy_stride, T* dx,
                     Index dx_stride, GradWrite dx_write, T* dw, Index dw_stride, T* db, Index rows, Index in,
                     Index out, const detail::Blas& blas, cudaStream_t stream, const LaunchShape& shape) {
  if (rows == 0 || out == 0 || in == 0) return;
  const T* bias_sums = blas.lt == nullptr ? nullptr
                                          : blas.lt->weight_gradient_and_bias_sums(x, x_stride, dy, dy_stride, dw,
                                                                                   dw_stride, rows, in, out, stream);
  if (bias_sums != nullptr) {
    // The epilogue wrote the sums; the gradient accumulates.
    for_each_element(1, out, Add<T>{db, 0, bias_sums, 0, db, 0}, stream, shape);
  } else {
    gemm_row_major(blas.cublas, Transpose::yes, Transpose::no, out, in, rows, T(1), dy, dy_stride, x, x_stride, T(1),
                   dw, dw_stride);
    SIMT_LAUNCH(bias_grad_column_tile<T>, column_tile_grid("linear_backward", out, shape), shape.block,
                column_tile_shared_bytes<T>(shape), stream, dy, dy_stride, db, rows, out);
    detail::check_launch("bias_grad_column_tile");
  }
  if (dx != nullptr) {
    const T beta = dx_write == GradWrite::accumulate ? T(1) : T(0);
    gemm_row_major(blas.cublas, Transpose::no, Transpose::no, rows, in, out, T(1), dy, dy_stride, w, w_stride, beta, dx,
                   dx_stride);
  }
}

}  // namespace launch

template <class T>
void linear_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y) {
  detail::expect_on_device("linear_forward", x, w, b, y);
  launch::linear_forward(x.data, x.stride, w.data, w.stride, b.data, y.data, y.stride, x.rows, x.cols, w.rows,
                         detail::blas(), detail::stream());
}

template <class T>
void linear_relu_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y) {
  detail::expect_on_device("linear_relu_forward", x, w, b, y);
  launch::linear_relu_forward(x.data, x.stride, w.data, w.stride, b.data, y.data, y.stride, x.rows, x.cols, w.rows,
                              detail::blas(), detail::stream());
}

template <class T>
void linear_backward(ConstView<T> x, ConstView<T> w, ConstView<T> dy, View<T> dx, GradWrite dx_write, View<T> dw,
                     View<T> db) {
  detail::expect_on_device("linear_backward", x, w, dy, dx, dw, db);
  launch::linear_backward(x.data, x.stride, w.data, w.stride, dy.data, dy.stride, dx.empty() ? nullptr : dx.data,
                          dx.stride, dx_write, dw.data, dw.stride, db.data, x.rows, x.cols, w.rows, detail::blas(),
                          detail::stream());
}

#define NN_INSTANTIATE(T)                                                                                             \
  template void launch::linear_forward<T>(const T*, Index, const T*, Index, const T*, T*, Index, Index, Index, Index, \
                                          const detail::Blas&, cudaStream_t, const LaunchShape&);                     \
  template void launch::linear_relu_forward<T>(const T*, Index, const T*, Index, const T*, T*, Index, Index, Index,   \
                                               Index, const detail::Blas&, cudaStream_t, const LaunchShape&);         \
  template void launch::linear_backward<T>(const T*, Index, const T*, Index, const T*, Index, T*, Index, GradWrite,   \
                                           T*, Index, T*, Index, Index, Index, const detail::Blas&, cudaStream_t,     \
                                           const LaunchShape&);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

template <class T>
void fill_linear_ops(OpTable<T>& table) {
  table.linear_forward = linear_forward<T>;
  table.linear_backward = linear_backward<T>;
  table.linear_relu_forward = linear_relu_forward<T>;
}
template void fill_linear_ops(OpTable<float>&);
template void fill_linear_ops(OpTable<double>&);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
