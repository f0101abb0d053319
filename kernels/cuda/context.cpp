// The backend's process-wide state (context.h) and the GEMM precision switch.
#include "context.h"

#include <memory>

#include "check.h"
#include "cuda_backend.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace detail {
namespace {

class Context {
 public:
  Context() {
    check(cudaStreamCreate(&stream_), "cudaStreamCreate");
    check(cublasCreate(&blas_), "cublasCreate");
    check(cublasSetStream(blas_, stream_), "cublasSetStream");
    // A workspace of cuBLAS's own would be allocated inside the first GEMM of a recorded step,
    // which a recording (a CUDA graph) cannot hold; 32 MiB is what cuBLAS asks for on sm_90.
    // cuBLASLt is handed the same one with every matmul.
    check(cudaMalloc(&blas_workspace_, kBlasWorkspaceBytes), "cudaMalloc (cuBLAS workspace)");
    check(cublasSetWorkspace(blas_, blas_workspace_, kBlasWorkspaceBytes), "cublasSetWorkspace");
    lt_ = std::make_unique<LtGemms>(blas_workspace_, kBlasWorkspaceBytes);
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  // Statuses are ignored: at exit the driver may already be shutting down.
  ~Context() {
    cudaFree(scratch_);
    lt_.reset();
    cublasDestroy(blas_);
    cudaFree(blas_workspace_);
    cudaStreamDestroy(stream_);
  }

  cudaStream_t stream() const { return stream_; }
  Blas blas() const { return {blas_, lt_.get()}; }
  GemmMath math() const { return math_; }

  void set_math(GemmMath math) {
    check(cublasSetMathMode(blas_, math == GemmMath::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
          "cublasSetMathMode");
    lt_->set_math(math);
    math_ = math;
  }

  void* scratch(std::size_t bytes) {
    if (bytes > scratch_bytes_) {
      // Queued work may still read the old buffer; cudaFree waits for it.
      check(cudaFree(scratch_), "cudaFree");
      scratch_ = nullptr;
      scratch_bytes_ = 0;
      check(cudaMalloc(&scratch_, bytes), "cudaMalloc (scratch)");
      scratch_bytes_ = bytes;
    }
    return scratch_;
  }

 private:
  static constexpr std::size_t kBlasWorkspaceBytes = std::size_t(32) << 20;
  cudaStream_t stream_ = nullptr;
  void* blas_workspace_ = nullptr;  // shared by cuBLAS and cuBLASLt, which run one call at a time
  cublasHandle_t blas_ = nullptr;
  std::unique_ptr<LtGemms> lt_;
  GemmMath math_ = GemmMath::fp32;
  void* scratch_ = nullptr;
  std::size_t scratch_bytes_ = 0;
};

Context& context() {
  static Context instance;
  return instance;
}

}  // namespace

cudaStream_t stream() { return context().stream(); }
Blas blas() { return context().blas(); }
void* scratch(std::size_t bytes) { return context().scratch(bytes); }

}  // namespace detail

void set_gemm_math(GemmMath math) { detail::context().set_math(math); }
GemmMath gemm_math() { return detail::context().math(); }

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
