#include "nn/net.h"

namespace nn {

template <class T>
Heads<T>::Heads(Index features, const HeadSpec& spec) : features_(features), spec_(spec) {
  if (spec.n_targets <= 0) throw Error(str("heads: n_targets is ", spec.n_targets, ", must be positive"));
  const Index per_target = spec.variance ? 2 : 1;
  if (spec.type == HeadType::linear) {
    heads_.push_back(std::make_unique<Linear<T>>(features, per_target * spec.n_targets));
  } else {
    for (Index k = 0; k < spec.n_targets; ++k) heads_.push_back(std::make_unique<Linear<T>>(features + k, per_target));
  }
  if (spec.classifier == Classifier::binary) cls_.emplace(features + spec.n_targets, 1);
}

template <class T>
void Heads<T>::reset_parameters(Rng& rng) {
  for (auto& head : heads_) head->reset_parameters(rng);
  if (cls_) cls_->reset_parameters(rng);
}

template <class T>
void Heads<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  if (spec_.type == HeadType::linear) {
    heads_[0]->visit(visitor, join_name(prefix, "head"));
  } else {
    for (std::size_t k = 0; k < heads_.size(); ++k) heads_[k]->visit(visitor, join_name(prefix, str("heads.", k)));
  }
  if (cls_) cls_->visit(visitor, join_name(prefix, "cls"));
}

template <class T>
ConstView<T> Heads<T>::forward(ConstView<T> h, Mode mode) {
  // concat_ = [h | y_0 .. y_{T-1}]: head k of a causal chain reads its first w_0 + k columns,
  // the classifier reads all of them. Log variances go to the output alone.
  const Index rows = h.rows, n_targets = spec_.n_targets;
  concat_.resize(rows, features_ + n_targets, h.device);
  out_.resize(rows, out_features(), h.device);
  View<T> concat = concat_.view(), out = out_.view();
  ops::copy<T>(h, concat.col_range(0, features_));
  if (spec_.type == HeadType::linear) {
    // Its output is (B, T means [+ T log variances]).
    const ConstView<T> y = heads_[0]->forward(h, mode);
    ops::copy<T>(y.col_range(0, n_targets), concat.col_range(features_, n_targets));
    if (spec_.variance) ops::copy<T>(y.col_range(n_targets, n_targets), out.col_range(n_targets, n_targets));
  } else {
    // Head k's output is (B, mean_k [, log variance_k]).
    for (Index k = 0; k < n_targets; ++k) {
      const ConstView<T> y = heads_[k]->forward(concat.col_range(0, features_ + k), mode);
      ops::copy<T>(y.col_range(0, 1), concat.col_range(features_ + k, 1));
      if (spec_.variance) ops::copy<T>(y.col_range(1, 1), out.col_range(n_targets + k, 1));
    }
  }
  ops::copy<T>(concat.col_range(features_, n_targets), out.col_range(0, n_targets));
  if (cls_) ops::copy<T>(cls_->forward(concat, mode), out.col_range(out.cols - 1, 1));
  return out_;
}

template <class T>
ConstView<T> Heads<T>::backward(ConstView<T> dy) {
  // Every y_k feeds the output and later consumers (later causal heads, the classifier), so
  // its total gradient is ready once those ran backward: go from the last consumer down.
  // dy_target_ holds each head's output gradient in its output's layout.
  const Index rows = dy.rows, n_targets = spec_.n_targets;
  dconcat_.resize(rows, features_ + n_targets, dy.device);
  dy_target_.resize(rows, (spec_.variance ? 2 : 1) * n_targets, dy.device);
  View<T> dconcat = dconcat_.view(), dy_target = dy_target_.view();
  ops::fill<T>(dconcat, T(0));
  if (cls_) cls_->backward_accumulate(dy.col_range(dy.cols - 1, 1), dconcat);
  if (spec_.type == HeadType::linear) {
    ops::add<T>(dy.col_range(0, n_targets), dconcat.col_range(features_, n_targets), dy_target.col_range(0, n_targets));
    if (spec_.variance) ops::copy<T>(dy.col_range(n_targets, n_targets), dy_target.col_range(n_targets, n_targets));
    heads_[0]->backward_accumulate(dy_target, dconcat.col_range(0, features_));
  } else {
    const Index per_target = spec_.variance ? 2 : 1;
    for (Index k = n_targets - 1; k >= 0; --k) {
      const View<T> dy_head = dy_target.col_range(per_target * k, per_target);
      ops::add<T>(dy.col_range(k, 1), dconcat.col_range(features_ + k, 1), dy_head.col_range(0, 1));
      if (spec_.variance) ops::copy<T>(dy.col_range(n_targets + k, 1), dy_head.col_range(1, 1));
      heads_[k]->backward_accumulate(dy_head, dconcat.col_range(0, features_ + k));
    }
  }
  return dconcat.col_range(0, features_);
}

template class Heads<float>;
template class Heads<double>;

}  // namespace nn
