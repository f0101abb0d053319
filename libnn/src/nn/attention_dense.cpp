#include "nn/layers.h"

namespace nn {

template <class T>
AttentionDense<T>::AttentionDense(Index features) : lin(features, features) {}

template <class T>
void AttentionDense<T>::reset_parameters(Rng& rng) {
  lin.reset_parameters(rng);
}

template <class T>
void AttentionDense<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  lin.visit(visitor, join_name(prefix, "lin"));
}

template <class T>
ConstView<T> AttentionDense<T>::forward(ConstView<T> h, Mode mode) {
  return forward(h, ConstView<T>(), mode);
}

template <class T>
ConstView<T> AttentionDense<T>::forward(ConstView<T> h, ConstView<T> residual, Mode mode) {
  h_ = h;
  ConstView<T> z = lin.forward(h, mode);
  a_.resize(h.rows, h.cols, h.device);
  y_.resize(h.rows, h.cols, h.device);
  ops::attention_forward<T>(z, h, residual, a_, y_);
  return y_;
}

template <class T>
ConstView<T> AttentionDense<T>::backward(ConstView<T> dy) {
  // h reaches y twice: directly, and through the logits z = lin(h).
  dh_.resize(h_.rows, h_.cols, h_.device);
  dz_.resize(h_.rows, h_.cols, h_.device);
  ops::attention_backward<T>(h_, a_, dy, dh_, dz_);
  lin.backward_accumulate(dz_, dh_);
  return dh_;
}

template class AttentionDense<float>;
template class AttentionDense<double>;

}  // namespace nn
