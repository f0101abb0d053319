#pragma once
// The part of cuBLASLt that the backend calls, for emulation builds: cublasLtMatmul on host
// memory with the library's interface and the semantics cublasLt.h documents. Names live in
// namespace simt, brought into scope by using-declarations (see simt_runtime.h).
//
// Matmul: D (m, n) = epilogue(alpha op(A) op(B) + beta C), column-major, op(X) X or X^T, m and n
// from D's layout, k from A's. Epilogues: DEFAULT; BIAS adds bias[i] to row i of D (a vector as
// long as D has rows, broadcast along them); RELU_BIAS adds the bias, then clamps at 0 (a NaN
// stays NaN, an assumption: see simt_cublaslt.cpp); BGRADA writes bias[i] = sum_l op(A)(i, l)
// (m values), BGRADB bias[j] = sum_l op(B)(l, j) (n values), the reductions over k, D computed as
// with DEFAULT. With beta = 0, C is not read; alpha and beta are host pointers, read when the
// call is made (a captured matmul keeps their values, as on a GPU).
//
// Refused as the library refuses: type combinations outside cublasLtMatmul's table
// (CUBLAS_STATUS_NOT_SUPPORTED); leading dimensions below the rows, operands whose sizes do not
// fit together, C of another type or size than D, C == D with a layout other than D's, a bias
// epilogue without its vector, a workspace that is not 256-byte aligned, a requested algorithm
// count below 1 (CUBLAS_STATUS_INVALID_VALUE).
// Refused where the library would compute garbage or fault: C and D that overlap without being
// the same matrix, and pointers (of a matrix, or the bias vector) less aligned than the
// algorithm was chosen for (CUBLAS_STATUS_INVALID_VALUE).
// Not emulated, and refused as an invalid value so that using them fails loudly: other
// attributes and epilogues (RELU without the bias, GELU, the aux buffers of RELU_AUX(_BIAS), the
// gradients DRELU and DGELU), pointer modes, batches, a null algo, and a bias-gradient epilogue
// with alpha other than 1 (whether the library scales the gradient by alpha is undocumented).
//
// The heuristic: the shim has one algorithm, which needs no workspace and reads each matrix with
// the alignment that the preference promises of its pointer
// (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*_BYTES, default 256) and its leading dimension in bytes
// gives its other columns, and the bias vector with the alignment its pointer has when the
// heuristic is asked, as the library derives it. It needs 16 bytes of each, the alignment
// cuBLAS documents for its fastest kernels; below that it finds nothing
// (CUBLAS_STATUS_NOT_SUPPORTED, no result). The real library has less aligned kernels for most
// problems, so on a GPU fewer problems go without an algorithm; the shim's stricter catalogue
// makes emulated tests take both the cuBLASLt path and the backend's fallback.
#include <cstddef>
#include <cstdint>

#include "simt_cublas.h"

enum cudaDataType_t {
  CUDA_R_32F = 0,
  CUDA_R_64F = 1,
};

enum cublasComputeType_t {
  CUBLAS_COMPUTE_32F = 68,
  CUBLAS_COMPUTE_64F = 70,
  CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};

enum cublasLtMatmulDescAttributes_t {
  CUBLASLT_MATMUL_DESC_TRANSA = 3,        // int32_t (cublasOperation_t)
  CUBLASLT_MATMUL_DESC_TRANSB = 4,        // int32_t (cublasOperation_t)
  CUBLASLT_MATMUL_DESC_EPILOGUE = 7,      // uint32_t (cublasLtEpilogue_t)
  CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8,  // const void* (bias) or void* (bias gradient)
};

enum cublasLtEpilogue_t {
  CUBLASLT_EPILOGUE_DEFAULT = 1,
  CUBLASLT_EPILOGUE_BIAS = 4,
  CUBLASLT_EPILOGUE_RELU_BIAS = 6,  // CUBLASLT_EPILOGUE_RELU | CUBLASLT_EPILOGUE_BIAS
  CUBLASLT_EPILOGUE_BGRADA = 256,
  CUBLASLT_EPILOGUE_BGRADB = 512,
};

enum cublasLtMatmulPreferenceAttributes_t {
  CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,    // uint64_t
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5,  // uint32_t, default 256
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6,
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7,
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8,
};

using cublasLtHandle_t = struct cublasLtContext*;
using cublasLtMatmulDesc_t = struct cublasLtMatmulDescOpaque_t*;
using cublasLtMatrixLayout_t = struct cublasLtMatrixLayoutOpaque_t*;
using cublasLtMatmulPreference_t = struct cublasLtMatmulPreferenceOpaque_t*;

struct cublasLtMatmulAlgo_t {
  std::uint64_t data[8];
};

struct cublasLtMatmulHeuristicResult_t {
  cublasLtMatmulAlgo_t algo;
  std::size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
};

namespace simt::lt {

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle);
cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle);

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* desc, cublasComputeType_t compute_type,
                                        cudaDataType_t scale_type);
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc);
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute,
                                              const void* buffer, std::size_t bytes);

// A column-major matrix of `rows` x `cols` elements, column j starting `ld` elements after column j - 1.
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* layout, cudaDataType_t type, std::uint64_t rows,
                                          std::uint64_t cols, std::int64_t ld);
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout);

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* preference);
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t preference);
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t preference,
                                                    cublasLtMatmulPreferenceAttributes_t attribute, const void* buffer,
                                                    std::size_t bytes);

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                              cublasLtMatrixLayout_t a_layout, cublasLtMatrixLayout_t b_layout,
                                              cublasLtMatrixLayout_t c_layout, cublasLtMatrixLayout_t d_layout,
                                              cublasLtMatmulPreference_t preference, int requested,
                                              cublasLtMatmulHeuristicResult_t results[], int* returned);

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void* alpha, const void* A,
                              cublasLtMatrixLayout_t a_layout, const void* B, cublasLtMatrixLayout_t b_layout,
                              const void* beta, const void* C, cublasLtMatrixLayout_t c_layout, void* D,
                              cublasLtMatrixLayout_t d_layout, const cublasLtMatmulAlgo_t* algo, void* workspace,
                              std::size_t workspace_bytes, cudaStream_t stream);

// Not cuBLASLt's: how many matmuls the shim has accepted (run, or recorded in a capture) since
// the program started, so that tests see whether an op took the cuBLASLt path or its fallback.
std::int64_t accepted_matmuls();

}  // namespace simt::lt

using simt::lt::cublasLtCreate;
using simt::lt::cublasLtDestroy;
using simt::lt::cublasLtMatmul;
using simt::lt::cublasLtMatmulAlgoGetHeuristic;
using simt::lt::cublasLtMatmulDescCreate;
using simt::lt::cublasLtMatmulDescDestroy;
using simt::lt::cublasLtMatmulDescSetAttribute;
using simt::lt::cublasLtMatmulPreferenceCreate;
using simt::lt::cublasLtMatmulPreferenceDestroy;
using simt::lt::cublasLtMatmulPreferenceSetAttribute;
using simt::lt::cublasLtMatrixLayoutCreate;
using simt::lt::cublasLtMatrixLayoutDestroy;
