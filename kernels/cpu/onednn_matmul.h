#pragma once
// Float products through oneDNN's matmul primitive (the CPU GEMM provider of products.h where
// the build found oneDNN): c (m, n) = a (m, k) b (k, n), row-major views of any strides, with the
// bias, the residual or c's own earlier contents added in the same pass (oneDNN's post-ops), as
// the CUDA backend's cuBLASLt epilogues do. The ReLU is not among them: oneDNN's clamps a NaN to
// 0, and a NaN must reach the loss (products.cpp clamps in a pass of its own).
#include <cstdint>

#include "nn/tensor.h"

namespace nn::cpu::onednn {

// A row-major matrix in memory, used as it is or transposed: a (rows, cols) view with row
// stride ld read as its transpose is the (cols, rows) operand.
struct Operand {
  const float* data = nullptr;
  Index ld = 0;
  bool transposed = false;
};

// What the pass adds to the product, in this order: the bias row (1, n); c's earlier contents
// (accumulate, c += a b) or a residual (m, n) with row stride residual_ld.
struct Epilogue {
  const float* bias = nullptr;
  bool accumulate = false;
  const float* residual = nullptr;
  Index residual_ld = 0;
};

// One product. The primitive for each shape, strides, epilogue and thread count is created at its
// first use and kept for the calling thread (primitive creation JIT-compiles kernels: tens of
// microseconds to milliseconds, more than most products take); a thread's cache holds at most
// kCachedShapes, and starts again when full. Runs on omp_get_max_threads() of the calling thread,
// so the same shape and thread count give the same bits.
void matmul(Index m, Index n, Index k, Operand a, Operand b, const Epilogue& epilogue, float* c, Index ldc);

// The BF16 product of bf16_products.h: c (m, n) = a (m, k) w^T + the epilogue, a in BF16 with
// row stride lda, w the float (n, k) weight, which is rounded to BF16 and packed in the kernel's
// own layout at its first use on the calling thread and again when its values have changed;
// summed in float.
void matmul_bf16(Index m, Index n, Index k, const std::uint16_t* a, Index lda, ConstView<float> w,
                 const Epilogue& epilogue, float* c, Index ldc);
// Forgets the calling thread's packed BF16 weights.
void release_bf16_weights();

inline constexpr std::size_t kCachedShapes = 256;

// oneDNN's version and the instruction set its kernels use on this machine, for --version.
std::string description();

}  // namespace nn::cpu::onednn
