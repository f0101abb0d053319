// Status codes as nn::Error (check.h).
#include "check.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail {

void check(cudaError_t status, const char* what, std::source_location where) {
  if (status != cudaSuccess) {
    cudaGetLastError();  // the status is reported here; later checks must not report it again
    throw Error(str("CUDA: ", what, ": ", cudaGetErrorString(status)), where);
  }
}

void check(cublasStatus_t status, const char* what, std::source_location where) {
  if (status != CUBLAS_STATUS_SUCCESS) throw Error(str("cuBLAS: ", what, ": ", cublasGetStatusString(status)), where);
}

void check_launch(const char* kernel, std::source_location where) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) throw Error(str("CUDA: kernel ", kernel, ": ", cudaGetErrorString(status)), where);
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail
