// The Linear layer on the GPU: GEMMs through cuBLAS, the bias by our kernels.
#include <climits>
#include <type_traits>

#include "check.h"
#include "context.h"
#include "cuda_backend.h"
#include "elementwise.cuh"
#include "linear.cuh"
#include "linear.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {
namespace {

cublasStatus_t gemm(cublasHandle_t blas, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                    const float* alpha, const float* a, int lda, const float* b, int ldb, const float* beta, float* c,
                    int ldc) {
  return cublasSgemm(blas, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
cublasStatus_t gemm(cublasHandle_t blas, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                    const double* alpha, const double* a, int lda, const double* b, int ldb, const double* beta,
                    double* c, int ldc) {
  return cublasDgemm(blas, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

enum class Transpose { no, yes };

int to_int(Index v) {
  if (v > INT_MAX) throw Error(str("linear: size or stride ", v, " exceeds cuBLAS's int range"));
  return int(v);
}

// C (m, n) = alpha op(A) op(B) + beta C for ROW-major A, B, C, as the CPU backend's CBLAS call.
// cuBLAS is column-major, where a row-major matrix reads as its transpose; so this computes
// C^T = op(B)^T op(A)^T: the operands swap, m and n swap, and each keeps its own transpose flag.
template <class T>
void gemm_row_major(cublasHandle_t blas, Transpose ta, Transpose tb, Index m, Index n, Index k, T alpha, const T* a,
                    Index lda, const T* b, Index ldb, T beta, T* c, Index ldc) {
  const auto op = [](Transpose t) { return t == Transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N; };
  detail::check(gemm(blas, op(tb), op(ta), to_int(n), to_int(m), to_int(k), &alpha, b, to_int(ldb), a, to_int(lda),
                     &beta, c, to_int(ldc)),
                std::is_same_v<T, float> ? "cublasSgemm" : "cublasDgemm");
}

}  // namespace

template <class T>
void linear_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, T* y, Index y_stride,
                    Index rows, Index in, Index out, cublasHandle_t blas, cudaStream_t stream,
                    const LaunchShape& shape) {
  if (rows == 0 || out == 0) return;
  for_each_element(rows, out, BroadcastRow<T>{b, y, y_stride}, stream, shape);
  gemm_row_major(blas, Transpose::no, Transpose::yes, rows, out, in, T(1), x, x_stride, w, w_stride, T(1), y,
                 y_stride);
}

template <class T>
void linear_backward(const T* x, Index x_stride, const T* w, Index w_stride, const T* dy, Index dy_stride, T* dx,
                     Index dx_stride, GradWrite dx_write, T* dw, Index dw_stride, T* db, Index rows, Index in,
                     Index out, cublasHandle_t blas, cudaStream_t stream, const LaunchShape& shape) {
  if (rows == 0 || out == 0 || in == 0) return;
  gemm_row_major(blas, Transpose::yes, Transpose::no, out, in, rows, T(1), dy, dy_stride, x, x_stride, T(1), dw,
                 dw_stride);
  SIMT_LAUNCH(bias_grad_column_tile<T>, column_tile_grid("linear_backward", out, shape), shape.block,
              column_tile_shared_bytes<T>(shape), stream, dy, dy_stride, db, rows, out);
  detail::check_launch("bias_grad_column_tile");
  if (dx != nullptr) {
    const T beta = dx_write == GradWrite::accumulate ? T(1) : T(0);
    gemm_row_major(blas, Transpose::no, Transpose::no, rows, in, out, T(1), dy, dy_stride, w, w_stride, beta, dx,
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
void linear_backward(ConstView<T> x, ConstView<T> w, ConstView<T> dy, View<T> dx, GradWrite dx_write, View<T> dw,
                     View<T> db) {
  detail::expect_on_device("linear_backward", x, w, dy, dx, dw, db);
  launch::linear_backward(x.data, x.stride, w.data, w.stride, dy.data, dy.stride, dx.empty() ? nullptr : dx.data,
                          dx.stride, dx_write, dw.data, dw.stride, db.data, x.rows, x.cols, w.rows, detail::blas(),
                          detail::stream());
}

#define NN_INSTANTIATE(T)                                                                                          \
  template void launch::linear_forward<T>(const T*, Index, const T*, Index, const T*, T*, Index, Index, Index,     \
                                          Index, cublasHandle_t, cudaStream_t, const LaunchShape&);                \
  template void launch::linear_backward<T>(const T*, Index, const T*, Index, const T*, Index, T*, Index, GradWrite, \
                                           T*, Index, T*, Index, Index, Index, cublasHandle_t, cudaStream_t,       \
                                           const LaunchShape&);                                                    \
  template void linear_forward<T>(ConstView<T>, ConstView<T>, ConstView<T>, View<T>);                              \
  template void linear_backward<T>(ConstView<T>, ConstView<T>, ConstView<T>, View<T>, GradWrite, View<T>, View<T>);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
