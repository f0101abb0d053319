#pragma once
// cuBLAS GEMMs on the row-major views of the library, shared by the Linear ops and the fused
// block ops.
#include <climits>
#include <type_traits>

#include "check.h"
#include "flavour.h"
#include "nn/tensor.h"
#include "runtime.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail {

inline cublasStatus_t gemm(cublasHandle_t blas, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float* alpha, const float* a, int lda, const float* b, int ldb, const float* beta,
                           float* c, int ldc) {
  return cublasSgemm(blas, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline cublasStatus_t gemm(cublasHandle_t blas, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double* alpha, const double* a, int lda, const double* b, int ldb, const double* beta,
                           double* c, int ldc) {
  return cublasDgemm(blas, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

enum class Transpose { no, yes };

inline int to_cublas_int(Index v) {
  if (v > INT_MAX) throw Error(str("gemm: size or stride ", v, " exceeds cuBLAS's int range"));
  return int(v);
}

// C (m, n) = alpha op(A) op(B) + beta C for ROW-major A, B, C, as the CPU backend's CBLAS call.
// cuBLAS is column-major, where a row-major matrix reads as its transpose; so this computes
// C^T = op(B)^T op(A)^T: the operands swap, m and n swap, and each keeps its own transpose flag.
template <class T>
void gemm_row_major(cublasHandle_t blas, Transpose ta, Transpose tb, Index m, Index n, Index k, T alpha, const T* a,
                    Index lda, const T* b, Index ldb, T beta, T* c, Index ldc) {
  const auto op = [](Transpose t) { return t == Transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N; };
  check(gemm(blas, op(tb), op(ta), to_cublas_int(n), to_cublas_int(m), to_cublas_int(k), &alpha, b, to_cublas_int(ldb),
             a, to_cublas_int(lda), &beta, c, to_cublas_int(ldc)),
        std::is_same_v<T, float> ? "cublasSgemm" : "cublasDgemm");
}

// y (rows, out) += x (rows, in) W^T, W (out, in): beta = 1 adds whatever y was set to (the
// bias, or the bias and a residual).
template <class T>
void add_x_wt(cublasHandle_t blas, const T* x, Index x_stride, const T* w, Index w_stride, T* y, Index y_stride,
              Index rows, Index in, Index out) {
  gemm_row_major(blas, Transpose::no, Transpose::yes, rows, out, in, T(1), x, x_stride, w, w_stride, T(1), y, y_stride);
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail
