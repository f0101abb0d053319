#pragma once
// The part of cuBLAS that the backend calls, for emulation builds: GEMM on host memory with
// cuBLAS's exact interface and semantics. Matrices are column-major; op(A) is A or A^T;
// lda, ldb, ldc are checked as cuBLAS checks them; with beta = 0, C is written without being
// read (NaN there does not propagate); alpha and beta are host pointers (the default pointer
// mode). In TF32 math the float inputs are rounded to TF32 (10 mantissa bits, to nearest) and
// the products summed in float, as the tensor cores do. Names live in namespace simt, brought
// into scope by using-declarations (see simt_runtime.h).
#include <cstdint>
#include <type_traits>

#include "simt_runtime.h"

enum cublasStatus_t {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
};

enum cublasOperation_t {
  CUBLAS_OP_N = 0,
  CUBLAS_OP_T = 1,
};

enum cublasMath_t {
  CUBLAS_DEFAULT_MATH = 0,
  CUBLAS_TF32_TENSOR_OP_MATH = 3,
};

using cublasHandle_t = struct cublasContext*;

namespace simt::blas {

cublasStatus_t cublasCreate(cublasHandle_t* handle);
cublasStatus_t cublasDestroy(cublasHandle_t handle);
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
// The shim needs no workspace; it checks the arguments as cuBLAS does.
cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void* workspace, std::size_t bytes);
const char* cublasGetStatusString(cublasStatus_t status);

// C (m, n) = alpha op(A) op(B) + beta C, with op(A) (m, k) and op(B) (k, n).
cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc);
cublasStatus_t cublasDgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const double* alpha, const double* A, int lda, const double* B, int ldb,
                           const double* beta, double* C, int ldc);

}  // namespace simt::blas

// The arithmetic that the cuBLAS and the cuBLASLt stand-ins share.
namespace simt::blas::detail {

// A float rounded to TF32: 10 mantissa bits, to nearest, ties to even.
float to_tf32(float v);

// Element (i, j) of op(A) op(B) for column-major A and B (op(X) = X^T when transposed), summed
// over l = 0 .. k - 1 in order, the inputs rounded to TF32 first when tf32 is set (float only).
template <class T>
T product_element(bool transpose_a, bool transpose_b, const T* A, std::int64_t lda, const T* B, std::int64_t ldb, int k,
                  int i, int j, bool tf32) {
  auto input = [tf32](T v) {
    if constexpr (std::is_same_v<T, float>) return tf32 ? to_tf32(v) : v;
    return v;
  };
  T sum = 0;
  for (int l = 0; l < k; ++l) {
    const T a = transpose_a ? A[l + std::int64_t(i) * lda] : A[i + std::int64_t(l) * lda];
    const T b = transpose_b ? B[j + std::int64_t(l) * ldb] : B[l + std::int64_t(j) * ldb];
    sum += input(a) * input(b);
  }
  return sum;
}

}  // namespace simt::blas::detail

using simt::blas::cublasCreate;
using simt::blas::cublasDestroy;
using simt::blas::cublasDgemm;
using simt::blas::cublasGetStatusString;
using simt::blas::cublasSetMathMode;
using simt::blas::cublasSetStream;
using simt::blas::cublasSetWorkspace;
using simt::blas::cublasSgemm;
