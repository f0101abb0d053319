#pragma once
// The training loss of a net's output (B, n_targets [+ n_targets log variances] [+ 1 logit]):
//   regression  weighted L1 (the thesis's custom_loss):
//               L_reg = sum_t w_t mean_{i labelled} |yhat_it - y_it| / s_it,
//               s_it = max(sigma_it / mean_train(sigma_t), s_min), 1 without an error column
//               or, for nets with uncertainty heads, the negative log-likelihood (nn/ops.h
//               nll_loss, DESIGN.md "Uncertainties") of the labels under (mu, s = log sigma^2),
//               Gaussian or Laplace, with each label's own error e_it added in quadrature
//   classifier  BCE with logits on the last column, mean over rows with a class label
//   total       alpha L_reg + (1 - alpha) L_cls  (alpha = 1 without a classifier)
#include <optional>
#include <vector>

#include "nn/ops.h"

namespace nn {

// The labels of one batch. y, scale, mask and error are (B, n_targets): mask is 1 where label t
// of row i exists (y is then finite), 0 where it is missing; scale is the weighted L1's s;
// error the label's standard error in the target's z-score units (0 without one), which the
// likelihoods add in quadrature (empty: none has one). label is (B, 1) for the classifier: 0 or
// 1, NaN where missing (masked).
template <class T>
struct Targets {
  ConstView<T> y;
  ConstView<T> scale;
  ConstView<T> mask;
  ConstView<T> label;
  ConstView<T> error;
};

struct LossSpec {
  std::vector<double> weights;  // one per target
  double alpha = 1.0;           // share of the regression loss when a classifier is trained
  // The likelihood of a net with uncertainty heads, whose output holds a log variance per
  // target after the means; none: the weighted L1 of a net without them.
  std::optional<Likelihood> likelihood;
};

// s = max(sigma / mean_sigma, s_min), elementwise: the per-label scale of the weighted L1.
NN_API double label_scale(double sigma, double mean_train_sigma, double s_min);

template <class T>
class NetLoss {
 public:
  NetLoss(const LossSpec& spec, bool with_classifier);
  const LossSpec& spec() const { return spec_; }
  bool with_classifier() const { return with_classifier_; }
  // The loss of out (B, n_targets [+ 1]).
  double value(ConstView<T> out, const Targets<T>& targets);
  // The loss, and its gradient with respect to out (owned, valid until the next call).
  double value_and_gradient(ConstView<T> out, const Targets<T>& targets);
  // The gradient alone: on a GPU it waits for nothing, so a recorded training step holds it.
  void compute_gradient(ConstView<T> out, const Targets<T>& targets);
  ConstView<T> gradient() const { return grad_; }

 private:
  void check(ConstView<T> out, const Targets<T>& targets) const;
  // targets.error, or zeros where the batch has no errors.
  ConstView<T> label_errors(const Targets<T>& targets, Index rows, Device device);
  LossSpec spec_;
  bool with_classifier_;
  // Where the ops run: the device of the net's output, whichever it is.
  void place_on(Device device);
  Tensor<T> weights_;    // (1, n_targets): alpha w_t, the regression's share folded into its weights
  Tensor<T> cls_share_;  // (B, 1): 1 - alpha, scales the classifier's gradient
  Tensor<T> grad_;
  Tensor<T> no_errors_;  // (B, n_targets) of 0, for targets that come without errors
};

extern template class NN_API NetLoss<float>;
extern template class NN_API NetLoss<double>;

}  // namespace nn
