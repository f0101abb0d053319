// cuBLASLt GEMMs with epilogues on row-major views (gemm_lt.h).
#include "gemm_lt.h"

#include <algorithm>
#include <type_traits>

#include "check.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail {
namespace {

// Bias gradients of up to 256 Ki floats (a Linear 64 times wider than the widest of the thesis's
// nets); wider ones take the cuBLAS path.
constexpr std::size_t kBiasSumsBytes = std::size_t(1) << 20;

// The alignment cuBLASLt assumes of a pointer unless told less
// (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*_BYTES).
constexpr std::uint32_t kMaxAlignment = 256;

// What the heuristic may assume of a pointer: the largest power of two that divides it, up to
// 256. It reads the leading dimensions from the layouts.
std::uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  return address == 0 ? kMaxAlignment
                      : std::uint32_t(std::min<std::uintptr_t>(kMaxAlignment, address & (~address + 1)));
}

template <class T>
constexpr cudaDataType_t data_type() {
  return std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_64F;
}

}  // namespace

struct LtGemms::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  bool found = false;  // the heuristic had an algorithm
  cublasLtMatmulAlgo_t algo{};
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    if (c != d) cublasLtMatrixLayoutDestroy(c);
    cublasLtMatrixLayoutDestroy(d);
    cublasLtMatrixLayoutDestroy(b);
    cublasLtMatrixLayoutDestroy(a);
    cublasLtMatmulDescDestroy(desc);
  }
};

LtGemms::LtGemms(void* workspace, std::size_t workspace_bytes)
    : workspace_(workspace), workspace_bytes_(workspace_bytes) {
  check(cublasLtCreate(&handle_), "cublasLtCreate");
  check(cublasLtMatmulPreferenceCreate(&preference_), "cublasLtMatmulPreferenceCreate");
  const std::uint64_t max_workspace = workspace_bytes;
  check(cublasLtMatmulPreferenceSetAttribute(preference_, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_workspace,
                                             sizeof(max_workspace)),
        "cublasLtMatmulPreferenceSetAttribute");
  check(cudaMalloc(&bias_sums_, kBiasSumsBytes), "cudaMalloc (bias gradient of cuBLASLt)");
}

// Statuses are ignored: at exit the driver may already be shutting down.
LtGemms::~LtGemms() {
  plans_.clear();
  cudaFree(bias_sums_);
  cublasLtMatmulPreferenceDestroy(preference_);
  cublasLtDestroy(handle_);
}

template <class T>
LtGemms::Problem LtGemms::problem(cublasOperation_t transa, cublasOperation_t transb, Index m, Index n, Index k,
                                  const T* a, Index lda, const T* b, Index ldb, const T* c, Index ldc, const T* d,
                                  Index ldd, cublasLtEpilogue_t epilogue, const void* bias) const {
  const cublasComputeType_t compute = !std::is_same_v<T, float> ? CUBLAS_COMPUTE_64F
                                      : math_ == GemmMath::tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                                : CUBLAS_COMPUTE_32F;
  if (c == d && ldc != ldd) throw Error("cuBLASLt GEMM: C is D's memory with another leading dimension");
  return {.type = data_type<T>(),
          .compute = compute,
          .transa = transa,
          .transb = transb,
          .m = m,
          .n = n,
          .k = k,
          .lda = lda,
          .ldb = ldb,
          .ldc = ldc,
          .ldd = ldd,
          .epilogue = epilogue,
          .c_is_d = c == d,
          .a_alignment = alignment_of(a),
          .b_alignment = alignment_of(b),
          .c_alignment = alignment_of(c),
          .d_alignment = alignment_of(d),
          .bias_alignment = alignment_of(bias)};
}

const LtGemms::Plan& LtGemms::plan(const Problem& p, const void* bias) {
  std::unique_ptr<Plan>& slot = plans_[p];
  if (slot) return *slot;
  auto plan = std::make_unique<Plan>();
  check(cublasLtMatmulDescCreate(&plan->desc, p.compute, p.type), "cublasLtMatmulDescCreate");
  auto set = [&](cublasLtMatmulDescAttributes_t attribute, const auto& value) {
    check(cublasLtMatmulDescSetAttribute(plan->desc, attribute, &value, sizeof(value)),
          "cublasLtMatmulDescSetAttribute");
  };
  set(CUBLASLT_MATMUL_DESC_TRANSA, p.transa);
  set(CUBLASLT_MATMUL_DESC_TRANSB, p.transb);
  set(CUBLASLT_MATMUL_DESC_EPILOGUE, p.epilogue);
  // The heuristic judges the bias vector's alignment by its pointer.
  set(CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);
  auto layout = [&](cublasLtMatrixLayout_t& out, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
    check(cublasLtMatrixLayoutCreate(&out, p.type, std::uint64_t(rows), std::uint64_t(cols), ld),
          "cublasLtMatrixLayoutCreate");
  };
  const bool ta = p.transa == CUBLAS_OP_T, tb = p.transb == CUBLAS_OP_T;
  layout(plan->a, ta ? p.k : p.m, ta ? p.m : p.k, p.lda);
  layout(plan->b, tb ? p.n : p.k, tb ? p.k : p.n, p.ldb);
  layout(plan->d, p.m, p.n, p.ldd);
  // In place, C must be D with D's very layout ("C == D and Cdesc == Ddesc").
  if (p.c_is_d)
    plan->c = plan->d;
  else
    layout(plan->c, p.m, p.n, p.ldc);

  const std::uint32_t alignments[] = {p.a_alignment, p.b_alignment, p.c_alignment, p.d_alignment};
  const cublasLtMatmulPreferenceAttributes_t alignment_attributes[] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  for (int operand = 0; operand < 4; ++operand)
    check(cublasLtMatmulPreferenceSetAttribute(preference_, alignment_attributes[operand], &alignments[operand],
                                               sizeof(alignments[operand])),
          "cublasLtMatmulPreferenceSetAttribute");
  cublasLtMatmulHeuristicResult_t result{};
  int returned = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle_, plan->desc, plan->a, plan->b, plan->c, plan->d,
                                                               preference_, 1, &result, &returned);
  // No algorithm is an answer (the op falls back), not an error; anything else is a bug here.
  if (status != CUBLAS_STATUS_NOT_SUPPORTED) check(status, "cublasLtMatmulAlgoGetHeuristic");
  plan->found = status == CUBLAS_STATUS_SUCCESS && returned > 0 && result.state == CUBLAS_STATUS_SUCCESS;
  plan->algo = result.algo;
  slot = std::move(plan);
  return *slot;
}

template <class T>
bool LtGemms::matmul(const Problem& p, T alpha, const T* a, const T* b, T beta, const T* c, T* d, const void* bias,
                     cudaStream_t stream) {
  const Plan& found = plan(p, bias);
  if (!found.found) return false;
  check(cublasLtMatmulDescSetAttribute(found.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)),
        "cublasLtMatmulDescSetAttribute");
  check(cublasLtMatmul(handle_, found.desc, &alpha, a, found.a, b, found.b, &beta, c, found.c, d, found.d, &found.algo,
                       workspace_, workspace_bytes_, stream),
        "cublasLtMatmul");
  return true;
}

template <class T>
bool LtGemms::linear_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, const T* residual,
                             Index residual_stride, T* y, Index y_stride, Index rows, Index in, Index out,
                             Activation activation, cudaStream_t stream) {
  if (in == 0) return false;  // no product: the bias alone, which the cuBLAS path writes
  // Column-major, y^T (out, rows) = W (out, in) x^T (in, rows) + residual^T: A is W's memory,
  // which reads as the column-major W^T (in, out), transposed; B is x's, the column-major x^T.
  // The bias runs along D's rows (the outputs) and is broadcast over its columns (the batch);
  // the ReLU comes after it ("apply Bias and then ReLu transform"). Without a residual, beta = 0
  // and C is D, unread.
  const T* c = residual != nullptr ? residual : y;
  const Index ldc = residual != nullptr ? residual_stride : y_stride;
  const cublasLtEpilogue_t epilogue =
      activation == Activation::relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  const Problem p =
      problem(CUBLAS_OP_T, CUBLAS_OP_N, out, rows, in, w, w_stride, x, x_stride, c, ldc, y, y_stride, epilogue, b);
  return matmul(p, T(1), w, x, residual != nullptr ? T(1) : T(0), c, y, b, stream);
}

template <class T>
const T* LtGemms::weight_gradient_and_bias_sums(const T* x, Index x_stride, const T* dy, Index dy_stride, T* dw,
                                                Index dw_stride, Index rows, Index in, Index out, cudaStream_t stream) {
  if (std::size_t(out) * sizeof(T) > kBiasSumsBytes) return nullptr;
  T* sums = static_cast<T*>(bias_sums_);
  // Column-major, dW^T (in, out) += x^T (in, rows) dy (rows, out): A is x's memory, the
  // column-major x^T as it is; B is dy's, the column-major dy^T (out, rows), transposed. The
  // bias gradient runs along D's columns (the outputs), a sum of op(B) = dy over k = rows:
  // BGRADB. dW accumulates in place (C is D, beta = 1).
  const Problem p = problem(CUBLAS_OP_N, CUBLAS_OP_T, in, out, rows, x, x_stride, dy, dy_stride, dw, dw_stride, dw,
                            dw_stride, CUBLASLT_EPILOGUE_BGRADB, sums);
  return matmul(p, T(1), x, dy, T(1), dw, dw, sums, stream) ? sums : nullptr;
}

#define NN_INSTANTIATE(T)                                                                                          \
  template bool LtGemms::linear_forward<T>(const T*, Index, const T*, Index, const T*, const T*, Index, T*, Index, \
                                           Index, Index, Index, Activation, cudaStream_t);                         \
  template const T* LtGemms::weight_gradient_and_bias_sums<T>(const T*, Index, const T*, Index, T*, Index, Index,  \
                                                              Index, Index, cudaStream_t);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail
