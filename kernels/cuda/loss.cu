// The losses on the GPU: the uncertainty-weighted L1, the negative log-likelihoods of the
// uncertainty heads and BCE with logits.
#include "check.h"
#include "context.h"
#include "cuda_backend.h"
#include "loss.cuh"
#include "loss.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {

template <class T>
void weighted_l1_terms(const T* yhat, Index yhat_stride, const T* y, Index y_stride, const T* s, Index s_stride,
                       const T* mask, Index mask_stride, const T* w, double* terms, Index rows, Index cols,
                       cudaStream_t stream, const LaunchShape& shape) {
  if (cols == 0) return;
  const WeightedL1<T> term{yhat, yhat_stride, y, y_stride, s, s_stride, nullptr, 0};
  SIMT_LAUNCH((weighted_masked_mean_column_tile<T, WeightedL1<T>>), column_tile_grid("weighted_l1_loss", cols, shape),
              shape.block, column_tile_shared_bytes<double>(shape), stream, term, mask, mask_stride, w, terms, rows,
              cols);
  detail::check_launch("weighted_masked_mean_column_tile (weighted L1)");
}

template <class T>
void weighted_l1_backward(const T* yhat, Index yhat_stride, const T* y, Index y_stride, const T* s, Index s_stride,
                          const T* mask, Index mask_stride, const T* w, T* dyhat, Index dyhat_stride, Index rows,
                          Index cols, cudaStream_t stream, const LaunchShape& shape) {
  if (rows == 0 || cols == 0) return;
  const WeightedL1<T> gradient{yhat, yhat_stride, y, y_stride, s, s_stride, dyhat, dyhat_stride};
  SIMT_LAUNCH((weighted_masked_gradient_column_tile<T, WeightedL1<T>>),
              column_tile_grid("weighted_l1_backward", cols, shape), shape.block,
              column_tile_shared_bytes<double>(shape), stream, gradient, mask, mask_stride, w, rows, cols);
  detail::check_launch("weighted_masked_gradient_column_tile (weighted L1)");
}

template <class T>
void nll_terms(Likelihood likelihood, const T* mu, Index mu_stride, const T* s, Index s_stride, const T* y,
               Index y_stride, const T* e, Index e_stride, const T* mask, Index mask_stride, const T* w, double* terms,
               Index rows, Index cols, cudaStream_t stream, const LaunchShape& shape) {
  if (cols == 0) return;
  const NegativeLogLikelihood<T> term{likelihood, mu,       mu_stride, s, s_stride, y, y_stride,
                                      e,          e_stride, nullptr,   0, nullptr,  0};
  SIMT_LAUNCH((weighted_masked_mean_column_tile<T, NegativeLogLikelihood<T>>),
              column_tile_grid("nll_loss", cols, shape), shape.block, column_tile_shared_bytes<double>(shape), stream,
              term, mask, mask_stride, w, terms, rows, cols);
  detail::check_launch("weighted_masked_mean_column_tile (likelihood)");
}

template <class T>
void nll_backward(Likelihood likelihood, const T* mu, Index mu_stride, const T* s, Index s_stride, const T* y,
                  Index y_stride, const T* e, Index e_stride, const T* mask, Index mask_stride, const T* w, T* dmu,
                  Index dmu_stride, T* ds, Index ds_stride, Index rows, Index cols, cudaStream_t stream,
                  const LaunchShape& shape) {
  if (rows == 0 || cols == 0) return;
  const NegativeLogLikelihood<T> gradient{likelihood, mu,       mu_stride, s,          s_stride, y,        y_stride,
                                          e,          e_stride, dmu,       dmu_stride, ds,       ds_stride};
  SIMT_LAUNCH((weighted_masked_gradient_column_tile<T, NegativeLogLikelihood<T>>),
              column_tile_grid("nll_backward", cols, shape), shape.block, column_tile_shared_bytes<double>(shape),
              stream, gradient, mask, mask_stride, w, rows, cols);
  detail::check_launch("weighted_masked_gradient_column_tile (likelihood)");
}

template <class T>
void bce_terms(const T* z, Index z_stride, const T* target, Index target_stride, double* terms, Index rows, Index cols,
               cudaStream_t stream, const LaunchShape& shape) {
  if (cols == 0) return;
  SIMT_LAUNCH(bce_terms_column_tile<T>, column_tile_grid("bce_with_logits_loss", cols, shape), shape.block,
              column_tile_shared_bytes<double>(shape), stream, z, z_stride, target, target_stride, terms, rows, cols);
  detail::check_launch("bce_terms_column_tile");
}

void sum_in_order(const double* values, Index count, double* out, cudaStream_t stream) {
  SIMT_LAUNCH(sum_in_order_single_thread, 1, 1, 0, stream, values, count, out);
  detail::check_launch("sum_in_order_single_thread");
}

template <class T>
void bce_with_logits_backward(const T* z, Index z_stride, const T* target, Index target_stride, T* dz, Index dz_stride,
                              Index rows, Index cols, cudaStream_t stream, const LaunchShape& shape) {
  if (rows == 0 || cols == 0) return;
  SIMT_LAUNCH(bce_backward_column_tile<T>, column_tile_grid("bce_with_logits_backward", cols, shape), shape.block,
              column_tile_shared_bytes<double>(shape), stream, z, z_stride, target, target_stride, dz, dz_stride, rows,
              cols);
  detail::check_launch("bce_backward_column_tile");
}

}  // namespace launch

namespace {

// The sum of count doubles (one per target) in order, read back to the host.
double total(double* values, Index count) {
  launch::sum_in_order(values, count, values + count, detail::stream());
  double sum = 0.0;
  copy_to_host(&sum, values + count, sizeof(double));
  return sum;
}

}  // namespace

template <class T>
double weighted_l1_loss(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w) {
  detail::expect_on_device("weighted_l1_loss", yhat, y, s, mask, w);
  auto* terms = static_cast<double*>(detail::scratch(sizeof(double) * std::size_t(yhat.cols + 1)));
  launch::weighted_l1_terms(yhat.data, yhat.stride, y.data, y.stride, s.data, s.stride, mask.data, mask.stride, w.data,
                            terms, yhat.rows, yhat.cols, detail::stream());
  return total(terms, yhat.cols);
}

template <class T>
void weighted_l1_backward(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w,
                          View<T> dyhat) {
  detail::expect_on_device("weighted_l1_backward", yhat, y, s, mask, w, dyhat);
  launch::weighted_l1_backward(yhat.data, yhat.stride, y.data, y.stride, s.data, s.stride, mask.data, mask.stride,
                               w.data, dyhat.data, dyhat.stride, yhat.rows, yhat.cols, detail::stream());
}

template <class T>
double nll_loss(Likelihood likelihood, ConstView<T> mu, ConstView<T> s, ConstView<T> y, ConstView<T> e,
                ConstView<T> mask, ConstView<T> w) {
  detail::expect_on_device("nll_loss", mu, s, y, e, mask, w);
  auto* terms = static_cast<double*>(detail::scratch(sizeof(double) * std::size_t(mu.cols + 1)));
  launch::nll_terms(likelihood, mu.data, mu.stride, s.data, s.stride, y.data, y.stride, e.data, e.stride, mask.data,
                    mask.stride, w.data, terms, mu.rows, mu.cols, detail::stream());
  return total(terms, mu.cols);
}

template <class T>
void nll_backward(Likelihood likelihood, ConstView<T> mu, ConstView<T> s, ConstView<T> y, ConstView<T> e,
                  ConstView<T> mask, ConstView<T> w, View<T> dmu, View<T> ds) {
  detail::expect_on_device("nll_backward", mu, s, y, e, mask, w, dmu, ds);
  launch::nll_backward(likelihood, mu.data, mu.stride, s.data, s.stride, y.data, y.stride, e.data, e.stride, mask.data,
                       mask.stride, w.data, dmu.data, dmu.stride, ds.data, ds.stride, mu.rows, mu.cols,
                       detail::stream());
}

template <class T>
double bce_with_logits_loss(ConstView<T> z, ConstView<T> t) {
  detail::expect_on_device("bce_with_logits_loss", z, t);
  auto* terms = static_cast<double*>(detail::scratch(sizeof(double) * std::size_t(z.cols + 1)));
  launch::bce_terms(z.data, z.stride, t.data, t.stride, terms, z.rows, z.cols, detail::stream());
  return total(terms, z.cols);
}

template <class T>
void bce_with_logits_backward(ConstView<T> z, ConstView<T> t, View<T> dz) {
  detail::expect_on_device("bce_with_logits_backward", z, t, dz);
  launch::bce_with_logits_backward(z.data, z.stride, t.data, t.stride, dz.data, dz.stride, z.rows, z.cols,
                                   detail::stream());
}

#define NN_INSTANTIATE(T)                                                                                             \
  template void launch::weighted_l1_terms<T>(const T*, Index, const T*, Index, const T*, Index, const T*, Index,      \
                                             const T*, double*, Index, Index, cudaStream_t, const LaunchShape&);      \
  template void launch::weighted_l1_backward<T>(const T*, Index, const T*, Index, const T*, Index, const T*, Index,   \
                                                const T*, T*, Index, Index, Index, cudaStream_t, const LaunchShape&); \
  template void launch::nll_terms<T>(Likelihood, const T*, Index, const T*, Index, const T*, Index, const T*, Index,  \
                                     const T*, Index, const T*, double*, Index, Index, cudaStream_t,                  \
                                     const LaunchShape&);                                                             \
  template void launch::nll_backward<T>(Likelihood, const T*, Index, const T*, Index, const T*, Index, const T*,      \
                                        Index, const T*, Index, const T*, T*, Index, T*, Index, Index, Index,         \
                                        cudaStream_t, const LaunchShape&);                                            \
  template void launch::bce_terms<T>(const T*, Index, const T*, Index, double*, Index, Index, cudaStream_t,           \
                                     const LaunchShape&);                                                             \
  template void launch::bce_with_logits_backward<T>(const T*, Index, const T*, Index, T*, Index, Index, Index,        \
                                                    cudaStream_t, const LaunchShape&);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

template <class T>
void fill_loss_ops(OpTable<T>& table) {
  table.weighted_l1_loss = weighted_l1_loss<T>;
  table.weighted_l1_backward = weighted_l1_backward<T>;
  table.nll_loss = nll_loss<T>;
  table.nll_backward = nll_backward<T>;
  table.bce_with_logits_loss = bce_with_logits_loss<T>;
  table.bce_with_logits_backward = bce_with_logits_backward<T>;
}
template void fill_loss_ops(OpTable<float>&);
template void fill_loss_ops(OpTable<double>&);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
