#pragma once
// Loss kernels. A loss is one number per batch, summed in double as on the CPU: each target
// (column) is a column tile over the batch (reduce.cuh) with double accumulators, so dynamic
// shared memory is blockDim.x * blockDim.y doubles. The kernels leave one double per target,
// added in the CPU's order by sum_in_order_single_thread.
#include <cmath>

#include "likelihood.h"
#include "nn/tensor.h"
#include "reduce.cuh"
#include "simt.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// terms[t] = w_t sum_i m_it term(i, t) / sum_i m_it, or 0 for a target without labels in the
// batch: the weighted masked mean both regression losses are, for a term functor below.
template <class T, class Term>
__global__ void weighted_masked_mean_column_tile(Term term, const T* __restrict__ mask, Index mask_stride,
                                                 const T* __restrict__ w, double* __restrict__ terms, Index rows,
                                                 Index cols) {
  // mask is (rows, cols); w and terms are (1, cols).
  SIMT_DYNAMIC_SHARED(double, buffer);
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index t = first + threadIdx.x;
    double sum = 0, count = 0;
    if (t < cols)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) {
        const T m = mask[i * mask_stride + t];
        count += double(m);
        if (m != T(0)) sum += term(i, t);
      }
    sum = column_tile_sum(sum, buffer);
    count = column_tile_sum(count, buffer);
    if (t < cols && threadIdx.y == 0) terms[t] = count > 0 ? double(w[t]) * sum / count : 0.0;
  }
}

// For every element, gradient(i, t, labelled, share) with share = w_t / (labelled rows of t)
// writes that element's gradient (0 where the label is missing). Counts the labelled rows of
// each target first, in double as the CPU.
template <class T, class Gradient>
__global__ void weighted_masked_gradient_column_tile(Gradient gradient, const T* __restrict__ mask, Index mask_stride,
                                                     const T* __restrict__ w, Index rows, Index cols) {
  // mask is (rows, cols); w is (1, cols).
  SIMT_DYNAMIC_SHARED(double, buffer);
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index t = first + threadIdx.x;
    double count = 0;
    if (t < cols)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) count += double(mask[i * mask_stride + t]);
    count = column_tile_sum(count, buffer);
    if (t >= cols) continue;
    const double share = count > 0 ? double(w[t]) / count : 0.0;
    for (Index i = threadIdx.y; i < rows; i += blockDim.y) gradient(i, t, mask[i * mask_stride + t] != T(0), share);
  }
}

// The weighted L1: |yhat - y| / s, and its gradient share sign(yhat - y) / s (sign(0) = 0, as
// PyTorch), rounded in T as the CPU rounds it. yhat, y, s, dyhat are (rows, cols).
template <class T>
struct WeightedL1 {
  const T* yhat;
  Index yhat_stride;
  const T* y;
  Index y_stride;
  const T* s;
  Index s_stride;
  T* dyhat;  // the backward's output; unused by the loss
  Index dyhat_stride;
  __device__ double operator()(Index i, Index t) const {
    return std::abs(double(yhat[i * yhat_stride + t]) - double(y[i * y_stride + t])) / double(s[i * s_stride + t]);
  }
  __device__ void operator()(Index i, Index t, bool labelled, double share) const {
    const T e = yhat[i * yhat_stride + t] - y[i * y_stride + t];
    const T sign = T(e > T(0)) - T(e < T(0));
    dyhat[i * dyhat_stride + t] = labelled ? T(share) * sign / s[i * s_stride + t] : T(0);
  }
};

// A likelihood's term l(mu - y, s, e^2) and its gradients share dl/dmu, share dl/ds
// (likelihood.h). mu, s, y, e, dmu, ds are (rows, cols).
template <class T>
struct NegativeLogLikelihood {
  Likelihood likelihood;
  const T* mu;
  Index mu_stride;
  const T* s;
  Index s_stride;
  const T* y;
  Index y_stride;
  const T* e;
  Index e_stride;
  T* dmu;  // the backward's outputs; unused by the loss
  Index dmu_stride;
  T* ds;
  Index ds_stride;
  __device__ double operator()(Index i, Index t) const {
    const double error = e[i * e_stride + t];
    return nll_term(likelihood, double(mu[i * mu_stride + t]) - double(y[i * y_stride + t]),
                    double(s[i * s_stride + t]), error * error);
  }
  __device__ void operator()(Index i, Index t, bool labelled, double share) const {
    double dl_dmu = 0.0, dl_ds = 0.0;
    if (labelled) {
      const double error = e[i * e_stride + t];
      nll_term_gradient(likelihood, double(mu[i * mu_stride + t]) - double(y[i * y_stride + t]),
                        double(s[i * s_stride + t]), error * error, dl_dmu, dl_ds);
    }
    dmu[i * dmu_stride + t] = labelled ? T(share * dl_dmu) : T(0);
    ds[i * ds_stride + t] = labelled ? T(share * dl_ds) : T(0);
  }
};

// terms[j] = mean over the labelled rows of column j (label not NaN) of max(z, 0) - z t +
// log1p(exp(-|z|)), the BCE with logits, finite for any z (no exp of a large positive number);
// 0 for a column without labels in the batch.
template <class T>
__global__ void bce_terms_column_tile(const T* __restrict__ z, Index z_stride, const T* __restrict__ target,
                                      Index target_stride, double* __restrict__ terms, Index rows, Index cols) {
  // z, target are (rows, cols); terms is (1, cols).
  SIMT_DYNAMIC_SHARED(double, buffer);
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    double sum = 0, count = 0;
    if (j < cols)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) {
        const double zi = z[i * z_stride + j], ti = target[i * target_stride + j];
        if (std::isnan(ti)) continue;
        count += 1;
        sum += (zi < 0.0 ? 0.0 : zi) - zi * ti + std::log1p(std::exp(-std::abs(zi)));
      }
    sum = column_tile_sum(sum, buffer);
    count = column_tile_sum(count, buffer);
    if (j < cols && threadIdx.y == 0) terms[j] = count > 0 ? sum / count : 0.0;
  }
}

// out = values[0] + values[1] + ... in that order, as the CPU adds its per-target terms: one
// thread, for a handful of numbers, so the host reads back one double and allocates nothing.
__global__ void sum_in_order_single_thread(const double* __restrict__ values, Index count, double* __restrict__ out) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  double sum = 0.0;
  for (Index k = 0; k < count; ++k) sum += values[k];
  *out = sum;
}

// dz = (sigmoid(z) - t) / (labelled rows of the column), the sigmoid written so exp never
// overflows; 0 where the label is NaN (masked). Counts the labelled rows first, as the CPU.
template <class T>
__global__ void bce_backward_column_tile(const T* __restrict__ z, Index z_stride, const T* __restrict__ target,
                                         Index target_stride, T* __restrict__ dz, Index dz_stride, Index rows,
                                         Index cols) {
  // z, target, dz are (rows, cols).
  SIMT_DYNAMIC_SHARED(double, buffer);
  for (Index first = Index(blockIdx.x) * blockDim.x; first < cols; first += Index(gridDim.x) * blockDim.x) {
    const Index j = first + threadIdx.x;
    double count = 0;
    if (j < cols)
      for (Index i = threadIdx.y; i < rows; i += blockDim.y) count += !std::isnan(target[i * target_stride + j]);
    count = column_tile_sum(count, buffer);
    if (j >= cols) continue;
    const T inv_count = count > 0 ? T(1) / T(count) : T(0);
    for (Index i = threadIdx.y; i < rows; i += blockDim.y) {
      const T zi = z[i * z_stride + j], ti = target[i * target_stride + j];
      const T e = std::exp(-std::abs(zi));
      const T sigmoid = zi >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
      dz[i * dz_stride + j] = std::isnan(ti) ? T(0) : (sigmoid - ti) * inv_count;
    }
  }
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
