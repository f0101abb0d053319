#pragma once
// What an op does to its result before writing it, in the same loop, kernel or GEMM epilogue:
// nothing, or a ReLU. The fused ops of both backends take it as an argument: BatchNorm + ReLU in
// the BatchNorm column loops (kernels/cpu/batchnorm_columns.h) and column tiles
// (kernels/cuda/batchnorm.cuh), Linear + ReLU in cuBLASLt's epilogue (kernels/cuda/gemm_lt.h).
namespace nn {

enum class Activation { none, relu };

}  // namespace nn
