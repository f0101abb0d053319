#pragma once
// The CBLAS GEMMs of the CPU backend (OpenBLAS), one overload per precision, and the product
// every Linear forward ends with.
#include <cblas.h>

#include "blas_threads.h"
#include "nn/tensor.h"

namespace nn::cpu {

// C (m, n) = alpha op(A) op(B) + beta C, row-major.
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, Index m, Index n, Index k, float alpha, const float* a,
                 Index lda, const float* b, Index ldb, float beta, float* c, Index ldc) {
  const BlasThreadsFor threads(m, n, k);
  cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, Index m, Index n, Index k, double alpha, const double* a,
                 Index lda, const double* b, Index ldb, double beta, double* c, Index ldc) {
  const BlasThreadsFor threads(m, n, k);
  cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

// y (B, out) += x (B, in) W^T, W (out, in): the GEMM's beta = 1 adds whatever y was set to
// (the bias, or the bias and a residual) for free.
template <class T>
void add_x_wt(ConstView<T> x, ConstView<T> w, View<T> y) {
  gemm(CblasNoTrans, CblasTrans, x.rows, w.rows, x.cols, T(1), x.data, x.stride, w.data, w.stride, T(1), y.data,
       y.stride);
}

}  // namespace nn::cpu
