// cublasLtMatmul on the host with cuBLASLt's interface (see simt_cublaslt.h).
#include "simt_cublaslt.h"

#include <algorithm>
#include <atomic>
#include <cstring>

struct cublasLtContext {};

struct cublasLtMatmulDescOpaque_t {
  cublasComputeType_t compute_type;
  cudaDataType_t scale_type;
  cublasOperation_t transa = CUBLAS_OP_N;
  cublasOperation_t transb = CUBLAS_OP_N;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
};

struct cublasLtMatrixLayoutOpaque_t {
  cudaDataType_t type;
  std::uint64_t rows, cols;
  std::int64_t ld;
};

struct cublasLtMatmulPreferenceOpaque_t {
  std::uint64_t max_workspace_bytes = 0;
  std::uint32_t min_alignment[4] = {256, 256, 256, 256};  // A, B, C, D
};

namespace simt::lt {
namespace {

// What the one algorithm of the shim needs of every operand, in bytes.
constexpr std::uint32_t kAlgorithmAlignment = 16;
// cublasLtMatmul's documented requirement on the workspace pointer.
constexpr std::uintptr_t kWorkspaceAlignment = 256;
// Marks an algorithm as the shim's heuristic made it: data[0]; data[1..5] hold the alignments
// of A, B, C, D and the bias vector that it was chosen for.
constexpr std::uint64_t kAlgorithmTag = 0x5349'4D54'4C54'0001ull;

std::atomic<std::int64_t> accepted{0};

bool adds_bias(cublasLtEpilogue_t e) { return e == CUBLASLT_EPILOGUE_BIAS || e == CUBLASLT_EPILOGUE_RELU_BIAS; }
bool uses_bias(cublasLtEpilogue_t e) {
  return adds_bias(e) || e == CUBLASLT_EPILOGUE_BGRADA || e == CUBLASLT_EPILOGUE_BGRADB;
}
bool is_bias_gradient(cublasLtEpilogue_t e) { return e == CUBLASLT_EPILOGUE_BGRADA || e == CUBLASLT_EPILOGUE_BGRADB; }

// The largest power of two, at most 256, that divides the address: the alignment the library
// derives from a pointer. Capped before narrowing: an address whose lowest set bit lies above
// bit 31 (ThreadSanitizer's allocator hands out such addresses) would otherwise count as 0.
std::uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  return address == 0 ? 256u : std::uint32_t(std::min<std::uintptr_t>(256u, address & -address));
}
std::uint64_t element_bytes(cudaDataType_t type) { return type == CUDA_R_64F ? 8 : 4; }
// The alignment of the columns after the first: of the leading dimension in bytes.
std::uint32_t column_alignment(const cublasLtMatrixLayoutOpaque_t& layout) {
  const std::uint64_t ld_bytes = std::uint64_t(layout.ld) * element_bytes(layout.type);
  return ld_bytes == 0 ? 256u : std::uint32_t(std::min<std::uint64_t>(256u, ld_bytes & -ld_bytes));
}

// A problem whose descriptors check out: D (m, n), op(A) (m, k), op(B) (k, n).
struct Problem {
  std::uint64_t m = 0, n = 0, k = 0;
  cudaDataType_t type = CUDA_R_32F;
  bool tf32 = false;
};

// The types of cublasLtMatmul's table that the shim computes: every matrix and the scale in
// float (compute 32F or its TF32 fast mode) or every one in double (compute 64F).
bool supported_types(const cublasLtMatmulDescOpaque_t& desc, cudaDataType_t type) {
  switch (desc.compute_type) {
    case CUBLAS_COMPUTE_32F:
    case CUBLAS_COMPUTE_32F_FAST_TF32:
      return desc.scale_type == CUDA_R_32F && type == CUDA_R_32F;
    case CUBLAS_COMPUTE_64F:
      return desc.scale_type == CUDA_R_64F && type == CUDA_R_64F;
  }
  return false;
}

// The checks that the heuristic and the matmul share; c may be null (then C is D).
cublasStatus_t check_problem(cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                             cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d, Problem& problem) {
  if (desc == nullptr || a == nullptr || b == nullptr || d == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  if (c == nullptr) c = d;  // "If Cdesc is omitted, this function assumes it to be equal to Ddesc"
  if (c->type != d->type) return CUBLAS_STATUS_INVALID_VALUE;  // C and D differ only in place and stride
  if (a->type != d->type || b->type != d->type || !supported_types(*desc, d->type)) return CUBLAS_STATUS_NOT_SUPPORTED;
  const bool ta = desc->transa == CUBLAS_OP_T, tb = desc->transb == CUBLAS_OP_T;
  const std::uint64_t m = d->rows, n = d->cols, k = ta ? a->rows : a->cols;
  if ((ta ? a->cols : a->rows) != m || (tb ? b->rows : b->cols) != n || (tb ? b->cols : b->rows) != k)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (c->rows != m || c->cols != n) return CUBLAS_STATUS_INVALID_VALUE;
  for (const cublasLtMatrixLayoutOpaque_t* layout : {a, b, c, d})
    if (layout->ld < std::max<std::int64_t>(1, std::int64_t(layout->rows))) return CUBLAS_STATUS_INVALID_VALUE;
  if (uses_bias(desc->epilogue) && desc->bias == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  problem = {m, n, k, d->type, desc->compute_type == CUBLAS_COMPUTE_32F_FAST_TF32};
  return CUBLAS_STATUS_SUCCESS;
}

template <class V>
cublasStatus_t read_attribute(V& value, const void* buffer, std::size_t bytes) {
  if (buffer == nullptr || bytes != sizeof(V)) return CUBLAS_STATUS_INVALID_VALUE;
  std::memcpy(&value, buffer, sizeof(V));
  return CUBLAS_STATUS_SUCCESS;
}

// The first and one-past-last byte that a column-major operand touches.
struct Extent {
  std::uintptr_t begin, end;
};
Extent extent_of(const void* p, const cublasLtMatrixLayoutOpaque_t& layout) {
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  if (layout.rows == 0 || layout.cols == 0) return {begin, begin};
  const std::uint64_t elements = (layout.cols - 1) * std::uint64_t(layout.ld) + layout.rows;
  return {begin, begin + std::uintptr_t(elements * element_bytes(layout.type))};
}

template <class T>
void run(const Problem& p, const cublasLtMatmulDescOpaque_t& desc, T alpha, const T* A, std::int64_t lda, const T* B,
         std::int64_t ldb, T beta, const T* C, std::int64_t ldc, T* D, std::int64_t ldd) {
  const bool ta = desc.transa == CUBLAS_OP_T, tb = desc.transb == CUBLAS_OP_T;
  const int m = int(p.m), n = int(p.n), k = int(p.k);
  const cublasLtEpilogue_t epilogue = desc.epilogue;
  // The bias pointer as it is now: the descriptor may point elsewhere before a captured
  // matmul runs, and the library reads it when the call is made.
  const T* bias = static_cast<const T*>(desc.bias);
  T* bias_gradient = static_cast<T*>(const_cast<void*>(desc.bias));
  const bool tf32 = p.tf32;
  simt::detail::enqueue([=] {
    // The gradients first: D may be A or B's memory only in a caller's bug, and C may be D.
    if (epilogue == CUBLASLT_EPILOGUE_BGRADA)
      for (int i = 0; i < m; ++i) {
        T sum = 0;
        for (int l = 0; l < k; ++l) sum += ta ? A[l + std::int64_t(i) * lda] : A[i + std::int64_t(l) * lda];
        bias_gradient[i] = sum;
      }
    if (epilogue == CUBLASLT_EPILOGUE_BGRADB)
      for (int j = 0; j < n; ++j) {
        T sum = 0;
        for (int l = 0; l < k; ++l) sum += tb ? B[j + std::int64_t(l) * ldb] : B[l + std::int64_t(j) * ldb];
        bias_gradient[j] = sum;
      }
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        // With alpha = 0, A and B are not read for the product; with beta = 0, C is not read.
        T value = alpha == T(0) ? T(0) : alpha * blas::detail::product_element(ta, tb, A, lda, B, ldb, k, i, j, tf32);
        if (beta != T(0)) value += beta * C[i + std::int64_t(j) * ldc];
        if (adds_bias(epilogue)) value += bias[i];
        // RELU_BIAS: "apply Bias and then ReLu transform", the ReLU being x := max(x, 0)
        // (cublasLt.h). The header says nothing of a NaN; assumed kept, as std::max(x, 0) and
        // IEEE 754-2019's maximum keep it, and as the backend's relu_forward does. A library
        // that clamped with fmax would give 0: the Linear tests' NaN case shows it on a GPU.
        if (epilogue == CUBLASLT_EPILOGUE_RELU_BIAS && value < T(0)) value = T(0);
        D[i + std::int64_t(j) * ldd] = value;
      }
  });
}

}  // namespace

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasLtContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* desc, cublasComputeType_t compute_type,
                                        cudaDataType_t scale_type) {
  if (desc == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *desc = new cublasLtMatmulDescOpaque_t{compute_type, scale_type};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) {
  delete desc;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute,
                                              const void* buffer, std::size_t bytes) {
  if (desc == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  switch (attribute) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
    case CUBLASLT_MATMUL_DESC_TRANSB: {
      std::int32_t op = 0;
      if (read_attribute(op, buffer, bytes) != CUBLAS_STATUS_SUCCESS || (op != CUBLAS_OP_N && op != CUBLAS_OP_T))
        return CUBLAS_STATUS_INVALID_VALUE;
      (attribute == CUBLASLT_MATMUL_DESC_TRANSA ? desc->transa : desc->transb) = cublasOperation_t(op);
      return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATMUL_DESC_EPILOGUE: {
      std::uint32_t epilogue = 0;
      if (read_attribute(epilogue, buffer, bytes) != CUBLAS_STATUS_SUCCESS) return CUBLAS_STATUS_INVALID_VALUE;
      if (epilogue != CUBLASLT_EPILOGUE_DEFAULT && epilogue != CUBLASLT_EPILOGUE_BIAS &&
          epilogue != CUBLASLT_EPILOGUE_RELU_BIAS && epilogue != CUBLASLT_EPILOGUE_BGRADA &&
          epilogue != CUBLASLT_EPILOGUE_BGRADB)
        return CUBLAS_STATUS_INVALID_VALUE;  // not emulated
      desc->epilogue = cublasLtEpilogue_t(epilogue);
      return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
      return read_attribute(desc->bias, buffer, bytes);
  }
  return CUBLAS_STATUS_INVALID_VALUE;  // not emulated
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* layout, cudaDataType_t type, std::uint64_t rows,
                                          std::uint64_t cols, std::int64_t ld) {
  if (layout == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *layout = new cublasLtMatrixLayoutOpaque_t{type, rows, cols, ld};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) {
  delete layout;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* preference) {
  if (preference == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *preference = new cublasLtMatmulPreferenceOpaque_t;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t preference) {
  delete preference;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t preference,
                                                    cublasLtMatmulPreferenceAttributes_t attribute, const void* buffer,
                                                    std::size_t bytes) {
  if (preference == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  switch (attribute) {
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES:
      return read_attribute(preference->max_workspace_bytes, buffer, bytes);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES:
      return read_attribute(preference->min_alignment[attribute - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES], buffer,
                            bytes);
  }
  return CUBLAS_STATUS_INVALID_VALUE;  // not emulated
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                              cublasLtMatrixLayout_t a_layout, cublasLtMatrixLayout_t b_layout,
                                              cublasLtMatrixLayout_t c_layout, cublasLtMatrixLayout_t d_layout,
                                              cublasLtMatmulPreference_t preference, int requested,
                                              cublasLtMatmulHeuristicResult_t results[], int* returned) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (requested <= 0 || preference == nullptr || results == nullptr || returned == nullptr)
    return CUBLAS_STATUS_INVALID_VALUE;
  *returned = 0;
  Problem problem;
  if (const cublasStatus_t status = check_problem(desc, a_layout, b_layout, c_layout, d_layout, problem);
      status != CUBLAS_STATUS_SUCCESS)
    return status;
  // An operand's pointers are as aligned as the preference promises of the first column and
  // its leading dimension allows of the others; the library reads the bias pointer's value
  // here to know its alignment (cublasLt.h).
  const cublasLtMatrixLayoutOpaque_t* layouts[4] = {a_layout, b_layout, c_layout ? c_layout : d_layout, d_layout};
  std::uint32_t alignment = uses_bias(desc->epilogue) ? alignment_of(desc->bias) : 256u;
  for (int operand = 0; operand < 4; ++operand)
    alignment = std::min({alignment, preference->min_alignment[operand], column_alignment(*layouts[operand])});
  if (alignment < kAlgorithmAlignment) return CUBLAS_STATUS_NOT_SUPPORTED;
  cublasLtMatmulHeuristicResult_t& result = results[0];
  result = {};
  result.algo.data[0] = kAlgorithmTag;
  for (int operand = 0; operand < 4; ++operand) result.algo.data[1 + operand] = preference->min_alignment[operand];
  const std::uint32_t bias_alignment = uses_bias(desc->epilogue) ? alignment_of(desc->bias) : 256u;
  result.algo.data[5] = bias_alignment;
  result.workspaceSize = 0;
  result.state = CUBLAS_STATUS_SUCCESS;
  result.wavesCount = 1.0f;
  *returned = 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void* alpha, const void* A,
                              cublasLtMatrixLayout_t a_layout, const void* B, cublasLtMatrixLayout_t b_layout,
                              const void* beta, const void* C, cublasLtMatrixLayout_t c_layout, void* D,
                              cublasLtMatrixLayout_t d_layout, const cublasLtMatmulAlgo_t* algo, void* workspace,
                              std::size_t workspace_bytes, cudaStream_t) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  Problem p;
  if (const cublasStatus_t status = check_problem(desc, a_layout, b_layout, c_layout, d_layout, p);
      status != CUBLAS_STATUS_SUCCESS)
    return status;
  if (c_layout == nullptr) c_layout = d_layout;
  if (alpha == nullptr || beta == nullptr || algo == nullptr || algo->data[0] != kAlgorithmTag)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (workspace_bytes > 0 &&
      (workspace == nullptr || reinterpret_cast<std::uintptr_t>(workspace) % kWorkspaceAlignment != 0))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (p.m > 0 && p.n > 0) {
    if (A == nullptr && p.k > 0) return CUBLAS_STATUS_INVALID_VALUE;
    if (B == nullptr && p.k > 0) return CUBLAS_STATUS_INVALID_VALUE;
    if (D == nullptr || C == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    // In place: "C == D and Cdesc == Ddesc"; out of place, C and D must not share memory.
    if (C == D) {
      if (c_layout->ld != d_layout->ld) return CUBLAS_STATUS_INVALID_VALUE;
    } else {
      const Extent c = extent_of(C, *c_layout), d = extent_of(D, *d_layout);
      if (c.begin < d.end && d.begin < c.end) return CUBLAS_STATUS_INVALID_VALUE;
    }
    // An operand less aligned than its algorithm was chosen for would be read with wider
    // accesses than it allows.
    const void* operands[4] = {A, B, C, D};
    const cublasLtMatrixLayout_t layouts[4] = {a_layout, b_layout, c_layout, d_layout};
    for (int operand = 0; operand < 4; ++operand)
      if (alignment_of(operands[operand]) < algo->data[1 + operand] ||
          column_alignment(*layouts[operand]) < kAlgorithmAlignment)
        return CUBLAS_STATUS_INVALID_VALUE;
    if (uses_bias(desc->epilogue) && alignment_of(desc->bias) < algo->data[5]) return CUBLAS_STATUS_INVALID_VALUE;
  }
  const bool is_double = p.type == CUDA_R_64F;
  if (is_bias_gradient(desc->epilogue) &&
      (is_double ? *static_cast<const double*>(alpha) != 1.0 : *static_cast<const float*>(alpha) != 1.0f))
    return CUBLAS_STATUS_INVALID_VALUE;  // not emulated
  ++accepted;
  if (is_double)
    run(p, *desc, *static_cast<const double*>(alpha), static_cast<const double*>(A), a_layout->ld,
        static_cast<const double*>(B), b_layout->ld, *static_cast<const double*>(beta), static_cast<const double*>(C),
        c_layout->ld, static_cast<double*>(D), d_layout->ld);
  else
    run(p, *desc, *static_cast<const float*>(alpha), static_cast<const float*>(A), a_layout->ld,
        static_cast<const float*>(B), b_layout->ld, *static_cast<const float*>(beta), static_cast<const float*>(C),
        c_layout->ld, static_cast<float*>(D), d_layout->ld);
  return CUBLAS_STATUS_SUCCESS;
}

std::int64_t accepted_matmuls() { return accepted.load(); }

}  // namespace simt::lt
