#pragma once
// The CBLAS GEMMs of the CPU backend (OpenBLAS), one overload per precision; products.h says
// which products run on them.
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

}  // namespace nn::cpu
