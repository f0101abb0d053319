#pragma once
// CUDA and cuBLAS status codes as nn::Error, naming the call and where it was made.
#include <source_location>

#include "flavour.h"
#include "nn/tensor.h"
#include "runtime.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail {

void check(cudaError_t status, const char* what, std::source_location where = std::source_location::current());
void check(cublasStatus_t status, const char* what, std::source_location where = std::source_location::current());

// Follows every launch. A bad configuration shows up here at once; a fault inside a kernel
// only at a later check, since kernels run asynchronously.
void check_launch(const char* kernel, std::source_location where = std::source_location::current());

// Every non-empty view an op is given must live on the GPU: a host pointer handed to a kernel
// is a fault there, not an error message.
template <class... Views>
void expect_on_device(const char* op, const Views&... views) {
  if (((!views.empty() && views.device != Device::cuda) || ...))
    throw Error(str(op, ": the CUDA backend was given a view of host memory"));
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail
