// Loss ops on the CPU: the uncertainty-weighted L1, the negative log-likelihoods of the
// uncertainty heads and BCE with logits.
#include <cmath>

#include "backend.h"
#include "likelihood.h"

namespace nn::cpu {
namespace {

// Number of labelled rows of target t (the denominator of its mean).
template <class T>
double labelled_rows(ConstView<T> mask, Index t) {
  double count = 0.0;
  for (Index i = 0; i < mask.rows; ++i) count += double(mask(i, t));
  return count;
}

// Rows whose class label is known: a NaN label is masked (a star without the label's column
// still trains the regression targets), as a missing regression label is.
template <class T>
Index labelled_classes(ConstView<T> t) {
  Index count = 0;
  for (Index i = 0; i < t.rows; ++i) count += !std::isnan(t(i, 0));
  return count;
}

// sum_t w_t (sum over labelled i of term(i, t)) / (labelled rows of t), 0 for a target
// without labels: the weighted masked mean both regression losses are. Summed in double: the
// loss is one number per batch, and its accuracy costs nothing. Targets are few, so each is
// one pass down its column.
template <class T, class Term>
double weighted_masked_mean(ConstView<T> mask, ConstView<T> w, Term term) {
  double loss = 0.0;
  for (Index t = 0; t < mask.cols; ++t) {
    const double count = labelled_rows(mask, t);
    if (count == 0) continue;
    double sum = 0.0;
    for (Index i = 0; i < mask.rows; ++i)
      if (mask(i, t) != T(0)) sum += term(i, t);
    loss += double(w.data[t]) * sum / count;
  }
  return loss;
}

template <class T>
double weighted_l1_loss(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w) {
  return weighted_masked_mean(
      mask, w, [&](Index i, Index t) { return std::abs(double(yhat(i, t)) - double(y(i, t))) / double(s(i, t)); });
}

// For every element, gradient(i, t, labelled, share) with share = w_t / (labelled rows of t)
// writes that element's gradient (0 where the label is missing).
template <class T, class Gradient>
void weighted_masked_gradient(ConstView<T> mask, ConstView<T> w, Gradient gradient) {
  for (Index t = 0; t < mask.cols; ++t) {
    const double share = double(w.data[t]) / labelled_rows(mask, t);
    for (Index i = 0; i < mask.rows; ++i) gradient(i, t, mask(i, t) != T(0), share);
  }
}

template <class T>
void weighted_l1_backward(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w,
                          View<T> dyhat) {
  // d|e|/de = sign(e), 0 at e = 0 (as PyTorch); masked labels get no gradient.
  weighted_masked_gradient(mask, w, [&](Index i, Index t, bool labelled, double share) {
    const T e = yhat(i, t) - y(i, t);
    const T sign = T(e > T(0)) - T(e < T(0));
    dyhat(i, t) = labelled ? T(share) * sign / s(i, t) : T(0);
  });
}

template <class T>
double nll_loss(Likelihood likelihood, ConstView<T> mu, ConstView<T> s, ConstView<T> y, ConstView<T> e,
                ConstView<T> mask, ConstView<T> w) {
  return weighted_masked_mean(mask, w, [&](Index i, Index t) {
    const double error = e(i, t);
    return nll_term(likelihood, double(mu(i, t)) - double(y(i, t)), double(s(i, t)), error * error);
  });
}

template <class T>
void nll_backward(Likelihood likelihood, ConstView<T> mu, ConstView<T> s, ConstView<T> y, ConstView<T> e,
                  ConstView<T> mask, ConstView<T> w, View<T> dmu, View<T> ds) {
  weighted_masked_gradient(mask, w, [&](Index i, Index t, bool labelled, double share) {
    double dl_dmu = 0.0, dl_ds = 0.0;
    if (labelled) {
      const double error = e(i, t);
      nll_term_gradient(likelihood, double(mu(i, t)) - double(y(i, t)), double(s(i, t)), error * error, dl_dmu, dl_ds);
    }
    dmu(i, t) = labelled ? T(share * dl_dmu) : T(0);
    ds(i, t) = labelled ? T(share * dl_ds) : T(0);
  });
}

template <class T>
double bce_with_logits_loss(ConstView<T> z, ConstView<T> t) {
  // max(z, 0) - z t + log1p(exp(-|z|)): no exp of a large positive number, finite for any z.
  // The mean over labelled rows; 0 for a batch without labels.
  const Index count = labelled_classes(t);
  if (count == 0) return 0.0;
  double sum = 0.0;
  for (Index i = 0; i < z.rows; ++i) {
    const double zi = z(i, 0), ti = t(i, 0);
    if (!std::isnan(ti)) sum += std::max(zi, 0.0) - zi * ti + std::log1p(std::exp(-std::abs(zi)));
  }
  return sum / double(count);
}

template <class T>
void bce_with_logits_backward(ConstView<T> z, ConstView<T> t, View<T> dz) {
  // d/dz = (sigmoid(z) - t) / (labelled rows), with the sigmoid written so exp never overflows;
  // masked rows get no gradient.
  const Index count = labelled_classes(t);
  const T inv_count = count > 0 ? T(1) / T(count) : T(0);
  for (Index i = 0; i < z.rows; ++i) {
    const T zi = z(i, 0);
    const T e = std::exp(-std::abs(zi));
    const T sigmoid = zi >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    dz(i, 0) = std::isnan(t(i, 0)) ? T(0) : (sigmoid - t(i, 0)) * inv_count;
  }
}

}  // namespace

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

}  // namespace nn::cpu
