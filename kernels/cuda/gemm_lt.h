#pragma once
// GEMMs whose epilogue does an op's elementwise work, through cuBLASLt, on the row-major views
// of the library (as gemm_row_major.h does for cuBLAS): a Linear's bias and the ReLU after it,
// with the skip connection as C, and the bias gradient of a Linear's weight-gradient GEMM.
//
// A problem (types, transposes, sizes, leading dimensions, epilogue, and the alignment of every
// operand) gets its matmul descriptor, layouts and algorithm once, from cuBLASLt's heuristic,
// and keeps them; a call only sets the bias pointer and runs the matmul. Where the heuristic
// has no algorithm for a problem (an alignment its kernels cannot take, an epilogue it lacks
// for a type), the call returns false having queued nothing, and the op takes its cuBLAS path.
//
// Floats compute in CUBLAS_COMPUTE_32F, or CUBLAS_COMPUTE_32F_FAST_TF32 with GemmMath::tf32.
// Doubles take the same path in CUBLAS_COMPUTE_64F: cublasLtMatmul's table lists the bias
// epilogues for it (bias type CUDA_R_64F), and where a library or GPU lacks the kernel (with or
// without the ReLU), its heuristic says so and the op falls back.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "activation.h"
#include "cuda_backend.h"
#include "flavour.h"
#include "nn/tensor.h"
#include "runtime.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail {

class LtGemms {
 public:
  // The matmuls run in `workspace` (device memory, 256-byte aligned), which cuBLAS may share:
  // both run one call at a time on the backend's one stream. Allocates the buffer that bias
  // gradients are written to, so that a recorded step never allocates.
  LtGemms(void* workspace, std::size_t workspace_bytes);
  LtGemms(const LtGemms&) = delete;
  LtGemms& operator=(const LtGemms&) = delete;
  ~LtGemms();

  void set_math(GemmMath math) { math_ = math; }

  // y (rows, out) = act(residual + x (rows, in) W^T + b), W (out, in), b (1, out), the bias and
  // the activation (CUBLASLT_EPILOGUE_RELU_BIAS for a ReLU) in the epilogue and the residual as
  // C (beta = 1; y may be residual); without a residual (null), y = act(x W^T + b). False, with
  // nothing queued, where cuBLASLt has no algorithm or in is 0. cublasLt.h defines the ReLU as
  // x := max(x, 0) and says nothing of a NaN: the emulation keeps it, as relu_forward does; the
  // NaN case of the Linear tests checks a GPU's library.
  template <class T>
  bool linear_forward(const T* x, Index x_stride, const T* w, Index w_stride, const T* b, const T* residual,
                      Index residual_stride, T* y, Index y_stride, Index rows, Index in, Index out,
                      Activation activation, cudaStream_t stream);

  // dw (out, in) += dy^T x, x (rows, in), dy (rows, out), and the column sums of dy written to a
  // buffer of this object's (valid until the next call): its address, or null, with nothing
  // queued, where cuBLASLt has no algorithm or the sums do not fit in the buffer. The epilogue
  // writes the sums; the op accumulates its gradient, so the caller adds them to db.
  template <class T>
  const T* weight_gradient_and_bias_sums(const T* x, Index x_stride, const T* dy, Index dy_stride, T* dw,
                                         Index dw_stride, Index rows, Index in, Index out, cudaStream_t stream);

 private:
  // One column-major problem as cuBLASLt sees it: D (m, n) = alpha op(A) op(B) + beta C, then
  // the epilogue. Every field decides the descriptors or the heuristic's answer, the pointers'
  // alignments (bytes, at most 256) included.
  struct Problem {
    cudaDataType_t type;
    cublasComputeType_t compute;
    cublasOperation_t transa, transb;
    std::int64_t m, n, k, lda, ldb, ldc, ldd;
    cublasLtEpilogue_t epilogue;
    bool c_is_d;  // in place: C is D's memory, with D's layout
    std::uint32_t a_alignment, b_alignment, c_alignment, d_alignment, bias_alignment;
    auto operator<=>(const Problem&) const = default;
  };
  struct Plan;

  template <class T>
  Problem problem(cublasOperation_t transa, cublasOperation_t transb, Index m, Index n, Index k, const T* a, Index lda,
                  const T* b, Index ldb, const T* c, Index ldc, const T* d, Index ldd, cublasLtEpilogue_t epilogue,
                  const void* bias) const;
  // The plan of a problem, made on first use with `bias` set for the heuristic to see.
  const Plan& plan(const Problem& problem, const void* bias);
  // Runs the problem's plan with these operands; false if it has no algorithm.
  template <class T>
  bool matmul(const Problem& problem, T alpha, const T* a, const T* b, T beta, const T* c, T* d, const void* bias,
              cudaStream_t stream);

  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulPreference_t preference_ = nullptr;
  void* workspace_;
  std::size_t workspace_bytes_;
  void* bias_sums_ = nullptr;
  GemmMath math_ = GemmMath::fp32;
  std::map<Problem, std::unique_ptr<Plan>> plans_;
};

// The GEMM libraries a launcher runs its GEMMs on: cuBLAS, and cuBLASLt where its epilogues
// take over an op's elementwise passes. A null `lt` sends every GEMM through cuBLAS, each op
// through its cuBLAS path (the tests run both).
struct Blas {
  cublasHandle_t cublas;
  LtGemms* lt;
};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail
