#pragma once
// The three products of a Linear on the CPU, forward and backward side by side, each run by the
// GEMM provider of its precision: oneDNN's matmul primitives for float where the build found
// oneDNN (the bias, the ReLU and the residual in the product's own pass), OpenBLAS otherwise and
// always for double (the reference precision of the tests). STARNN_CPU_GEMM=onednn|openblas in the
// environment forces the float provider; kernels/README.md, "The CPU's GEMM providers", gives the
// measurements behind the default. Inside an nn::Bf16Products scope the float forward product
// runs in BF16 instead (bf16_products.h).
#include <string>

#include "nn/ops.h"

namespace nn::cpu {

enum class GemmProvider { openblas, onednn };

// The provider of float products in this process: STARNN_CPU_GEMM if set (an nn::Error for a
// value other than onednn or openblas, or for onednn in a build without it), else oneDNN where
// built. Read once.
GemmProvider float_gemm_provider();
// Changes it for the whole process, for tests and benchmarks that compare the providers side by
// side; not while another thread runs products.
void set_float_gemm_provider(GemmProvider provider);
// The provider of each precision and what it runs on, for --version.
std::string gemm_description();

// What a Linear's forward adds to x W^T + b.
enum class LinearEpilogue { none, relu, residual };

// Forward: y (B, out) = x (B, in) W^T + b, then max(., 0) (relu) or + residual (residual; the
// residual may be y itself).
template <class T>
void linear_product(ConstView<T> x, ConstView<T> w, ConstView<T> b, LinearEpilogue epilogue, ConstView<T> residual,
                    View<T> y);

// Backward: dw (out, in) += dy^T x, and dx (B, in) = dy W, or += where dx_write says accumulate.
template <class T>
void weight_gradient_product(ConstView<T> dy, ConstView<T> x, View<T> dw);
template <class T>
void input_gradient_product(ConstView<T> dy, ConstView<T> w, GradWrite dx_write, View<T> dx);

}  // namespace nn::cpu
