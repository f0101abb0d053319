#pragma once
// What an op does to its result before writing it, in the same kernel or GEMM epilogue: nothing,
// or a ReLU. The fused ops take it as an argument: BatchNorm + ReLU in the BatchNorm column tiles
// (batchnorm.cuh), Linear + ReLU in cuBLASLt's epilogue (gemm_lt.h).
#include "flavour.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

enum class Activation { none, relu };

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
