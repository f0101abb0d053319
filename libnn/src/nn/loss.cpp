#include "nn/loss.h"

#include <algorithm>

namespace nn {

double label_scale(double sigma, double mean_train_sigma, double s_min) {
  return std::max(sigma / mean_train_sigma, s_min);
}

template <class T>
NetLoss<T>::NetLoss(const LossSpec& spec, bool with_classifier) : spec_(spec), with_classifier_(with_classifier) {
  if (spec.weights.empty()) throw Error("loss: no target weights");
  if (!(spec.alpha >= 0.0 && spec.alpha <= 1.0)) throw Error(str("loss: alpha ", spec.alpha, " is outside [0, 1]"));
  // alpha L_reg = L_reg with weights alpha w_t: the weighted L1 is linear in its weights.
  const double alpha = with_classifier ? spec.alpha : 1.0;
  weights_.resize(1, Index(spec.weights.size()));
  for (std::size_t t = 0; t < spec.weights.size(); ++t) weights_(0, Index(t)) = T(alpha * spec.weights[t]);
}

template <class T>
void NetLoss<T>::place_on(Device device) {
  weights_.move_to(device);
}

template <class T>
void NetLoss<T>::check(ConstView<T> out, const Targets<T>& targets) const {
  const Index n_targets = weights_.cols();
  const Index expected = n_targets * (spec_.likelihood ? 2 : 1) + with_classifier_;
  if (out.cols != expected) throw Error(str("loss: the net has ", out.cols, " outputs, the loss expects ", expected));
  if (with_classifier_ && targets.label.rows != out.rows)
    throw Error(str("loss: ", targets.label.rows, " class labels for ", out.rows, " rows"));
}

template <class T>
ConstView<T> NetLoss<T>::label_errors(const Targets<T>& targets, Index rows, Device device) {
  if (targets.error.rows > 0) return targets.error;
  if (no_errors_.rows() != rows || no_errors_.device() != device) {
    no_errors_.resize(rows, weights_.cols(), device);
    no_errors_.fill(T(0));
  }
  return no_errors_;
}

template <class T>
double NetLoss<T>::value(ConstView<T> out, const Targets<T>& targets) {
  check(out, targets);
  place_on(out.device);
  const Index n_targets = weights_.cols();
  const double alpha = with_classifier_ ? spec_.alpha : 1.0;
  const ConstView<T> mean = out.col_range(0, n_targets);
  double loss = spec_.likelihood
                    ? ops::nll_loss<T>(*spec_.likelihood, mean, out.col_range(n_targets, n_targets), targets.y,
                                       label_errors(targets, out.rows, out.device), targets.mask, weights_)
                    : ops::weighted_l1_loss<T>(mean, targets.y, targets.scale, targets.mask, weights_);
  if (with_classifier_)
    loss += (1.0 - alpha) * ops::bce_with_logits_loss<T>(out.col_range(out.cols - 1, 1), targets.label);
  return loss;
}

template <class T>
double NetLoss<T>::value_and_gradient(ConstView<T> out, const Targets<T>& targets) {
  compute_gradient(out, targets);
  return value(out, targets);
}

template <class T>
void NetLoss<T>::compute_gradient(ConstView<T> out, const Targets<T>& targets) {
  check(out, targets);
  place_on(out.device);
  const Index n_targets = weights_.cols();
  grad_.resize(out.rows, out.cols, out.device);
  View<T> grad = grad_.view();
  if (spec_.likelihood)
    ops::nll_backward<T>(*spec_.likelihood, out.col_range(0, n_targets), out.col_range(n_targets, n_targets), targets.y,
                         label_errors(targets, out.rows, out.device), targets.mask, weights_,
                         grad.col_range(0, n_targets), grad.col_range(n_targets, n_targets));
  else
    ops::weighted_l1_backward<T>(out.col_range(0, n_targets), targets.y, targets.scale, targets.mask, weights_,
                                 grad.col_range(0, n_targets));
  if (with_classifier_) {
    const View<T> dz = grad.col_range(out.cols - 1, 1);
    ops::bce_with_logits_backward<T>(out.col_range(out.cols - 1, 1), targets.label, dz);
    if (cls_share_.rows() != out.rows || cls_share_.device() != out.device) {
      cls_share_.resize(out.rows, 1, out.device);
      cls_share_.fill(T(1.0 - spec_.alpha));
    }
    ops::multiply<T>(dz, cls_share_, dz);
  }
}

template class NetLoss<float>;
template class NetLoss<double>;

}  // namespace nn
