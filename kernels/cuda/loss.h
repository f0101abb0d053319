#pragma once
// Launchers of the loss ops (kernels in loss.cuh). Matrices are (rows, targets) with row
// strides, w is (1, targets); `terms` are device buffers of one double per target.
#include "launch.h"
#include "nn/ops.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// A block per target, 256 row stripes: a batch has few targets and many rows.
inline constexpr LaunchShape kLossShape{dim3(1, 256), kMaxBlocks};

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR

namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch {

// terms[t] = w_t (mean over labelled rows of |yhat - y| / s), 0 without labels; the loss is their sum.
template <class T>
void weighted_l1_terms(const T* yhat, Index yhat_stride, const T* y, Index y_stride, const T* s, Index s_stride,
                       const T* mask, Index mask_stride, const T* w, double* terms, Index rows, Index cols,
                       cudaStream_t stream, const LaunchShape& shape = kLossShape);
template <class T>
void weighted_l1_backward(const T* yhat, Index yhat_stride, const T* y, Index y_stride, const T* s, Index s_stride,
                          const T* mask, Index mask_stride, const T* w, T* dyhat, Index dyhat_stride, Index rows,
                          Index cols, cudaStream_t stream, const LaunchShape& shape = kLossShape);
// terms[t] = w_t (mean over labelled rows of the negative log-likelihood, nn/ops.h), 0 without labels.
template <class T>
void nll_terms(Likelihood likelihood, const T* mu, Index mu_stride, const T* s, Index s_stride, const T* y,
               Index y_stride, const T* e, Index e_stride, const T* mask, Index mask_stride, const T* w, double* terms,
               Index rows, Index cols, cudaStream_t stream, const LaunchShape& shape = kLossShape);
template <class T>
void nll_backward(Likelihood likelihood, const T* mu, Index mu_stride, const T* s, Index s_stride, const T* y,
                  Index y_stride, const T* e, Index e_stride, const T* mask, Index mask_stride, const T* w, T* dmu,
                  Index dmu_stride, T* ds, Index ds_stride, Index rows, Index cols, cudaStream_t stream,
                  const LaunchShape& shape = kLossShape);
// terms[j] = the BCE with logits averaged over the labelled rows (label not NaN) of column j, 0
// without labels.
template <class T>
void bce_terms(const T* z, Index z_stride, const T* target, Index target_stride, double* terms, Index rows, Index cols,
               cudaStream_t stream, const LaunchShape& shape = kLossShape);
// *out = values[0] + ... + values[count - 1], in that order.
void sum_in_order(const double* values, Index count, double* out, cudaStream_t stream);
template <class T>
void bce_with_logits_backward(const T* z, Index z_stride, const T* target, Index target_stride, T* dz, Index dz_stride,
                              Index rows, Index cols, cudaStream_t stream, const LaunchShape& shape = kLossShape);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR::launch
