#include <cmath>

#include "nn/layers.h"

namespace nn {

template <class T>
LinearParams<T>::LinearParams(Index in_features, Index out_features) {
  if (in_features <= 0 || out_features <= 0)
    throw Error(str("Linear(", in_features, ", ", out_features, "): sizes must be positive"));
  weight.rows = out_features;
  weight.cols = in_features;
  bias.rows = 1;
  bias.cols = out_features;
  bias.vector = true;
}

template <class T>
void LinearParams<T>::reset_parameters(Rng& rng) {
  const double bound = 1.0 / std::sqrt(double(in_features()));
  for (Index k = 0; k < weight.value.size(); ++k) weight.value.data[k] = T(rng.uniform(-bound, bound));
  for (Index k = 0; k < bias.value.size(); ++k) bias.value.data[k] = T(rng.uniform(-bound, bound));
}

template <class T>
void LinearParams<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  visitor.parameter(join_name(prefix, "weight"), weight);
  visitor.parameter(join_name(prefix, "bias"), bias);
}

template <class T>
ConstView<T> Linear<T>::forward(ConstView<T> x, Mode) {
  x_ = x;
  y_.resize(x.rows, out_features(), x.device);
  ops::linear_forward<T>(x, weight.value, bias.value, y_);
  return y_;
}

template <class T>
ConstView<T> Linear<T>::backward(ConstView<T> dy) {
  dx_.resize(x_.rows, in_features(), x_.device);
  ops::linear_backward<T>(x_, weight.value, dy, dx_, GradWrite::overwrite, weight.grad, bias.grad);
  return dx_;
}

template <class T>
void Linear<T>::backward_accumulate(ConstView<T> dy, View<T> dx) {
  ops::linear_backward<T>(x_, weight.value, dy, dx, GradWrite::accumulate, weight.grad, bias.grad);
}

template struct LinearParams<float>;
template struct LinearParams<double>;
template class Linear<float>;
template class Linear<double>;

}  // namespace nn
