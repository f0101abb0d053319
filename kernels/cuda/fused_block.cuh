#pragma once
// Elementwise kernels of the residual blocks' fused ops (fused_block.cu). Their BatchNorm + ReLU
// kernels are batchnorm.cuh's column tiles with Activation::relu.
#include "batchnorm.cuh"
#include "nn/tensor.h"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// y = residual + b in every row, before the cuBLAS GEMM adds x W^T (beta = 1): on the cuBLAS
// path, the skip connection rides on the pass that puts a Linear's bias in place. y may be
// residual.
template <class T>
struct BiasAndResidual {
  static constexpr const char* name = "linear_residual_forward (bias and residual)";
  const T* b;         // (1, cols)
  const T* residual;  // residual, y are (rows, cols)
  Index residual_stride;
  T* y;
  Index y_stride;
  __device__ void operator()(Index i, Index j) const { y[i * y_stride + j] = residual[i * residual_stride + j] + b[j]; }
};

// Row o of a Linear's weight (out, in) times the scale of the evaluation-mode BatchNorm after it.
template <class T>
struct FoldBatchNormIntoWeight {
  static constexpr const char* name = "batchnorm_fold_into_linear (weight)";
  const T* w;  // w, w_folded are (out, in); the BatchNorm's vectors (1, out)
  Index w_stride;
  const T* gamma;
  const T* beta;
  const T* running_mean;
  const T* running_var;
  T eps;
  T* w_folded;
  Index w_folded_stride;
  __device__ void operator()(Index o, Index k) const {
    w_folded[o * w_folded_stride + k] =
        w[o * w_stride + k] * eval_affine(gamma, beta, running_mean, running_var, eps, o).scale;
  }
};

// The bias through the BatchNorm: b_folded = BN_eval(b).
template <class T>
struct FoldBatchNormIntoBias {
  static constexpr const char* name = "batchnorm_fold_into_linear (bias)";
  const T* b;  // all (1, out)
  const T* gamma;
  const T* beta;
  const T* running_mean;
  const T* running_var;
  T eps;
  T* b_folded;
  __device__ void operator()(Index, Index o) const {
    const EvalAffine<T> bn = eval_affine(gamma, beta, running_mean, running_var, eps, o);
    b_folded[o] = b[o] * bn.scale + bn.shift;
  }
};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
