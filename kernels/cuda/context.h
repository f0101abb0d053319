#pragma once
// The backend's state, one per process and made on first use: the stream every op runs on,
// the cuBLAS handle bound to it, cuBLASLt with its cached plans, and a scratch buffer for the
// small results (loss sums) that the host reads back and the BatchNorm row chunks' partial sums.
// Drive the backend from one host thread at a time.
#include <cstddef>

#include "flavour.h"
#include "gemm_lt.h"
#include "runtime.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail {

cudaStream_t stream();
Blas blas();
// At least `bytes` of device memory, valid until a call that asks for more: that one
// reallocates it, one that asks for no more returns the same memory (so work recorded as a CUDA
// graph can keep using it).
void* scratch(std::size_t bytes);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::detail
