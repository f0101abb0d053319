#include "nn/layers.h"

namespace nn {

template <class T>
BatchNormParams<T>::BatchNormParams(Index features, BatchNormOptions options) : options_(options) {
  if (features <= 0) throw Error(str("BatchNorm1d(", features, "): size must be positive"));
  weight.rows = bias.rows = 1;
  weight.cols = bias.cols = features;
  weight.vector = bias.vector = true;
  running_mean.assign(1, features, T(0));
  running_var.assign(1, features, T(1));
}

template <class T>
void BatchNormParams<T>::reset_parameters(Rng&) {
  for (Index j = 0; j < weight.cols; ++j) {
    weight.value.data[j] = T(1);
    bias.value.data[j] = T(0);
  }
  running_mean.fill(T(0));
  running_var.fill(T(1));
}

template <class T>
void BatchNormParams<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  visitor.parameter(join_name(prefix, "weight"), weight);
  visitor.parameter(join_name(prefix, "bias"), bias);
  visitor.buffer(join_name(prefix, "running_mean"), running_mean);
  visitor.buffer(join_name(prefix, "running_var"), running_var);
}

template <class T>
ConstView<T> BatchNorm1d<T>::forward(ConstView<T> x, Mode mode) {
  x_ = x;
  y_.resize(x.rows, x.cols, x.device);
  if (mode == Mode::train) {
    mean_.resize(1, x.cols, x.device);
    invstd_.resize(1, x.cols, x.device);
    ops::batchnorm_forward_train<T>(x, weight.value, bias.value, options(), y_, mean_, invstd_, running_mean,
                                    running_var);
  } else {
    ops::batchnorm_forward_eval<T>(x, weight.value, bias.value, running_mean, running_var, options(), y_);
  }
  return y_;
}

template <class T>
ConstView<T> BatchNorm1d<T>::backward(ConstView<T> dy) {
  dx_.resize(x_.rows, x_.cols, x_.device);
  ops::batchnorm_backward<T>(x_, mean_, invstd_, weight.value, dy, dx_, weight.grad, bias.grad);
  return dx_;
}

template struct BatchNormParams<float>;
template struct BatchNormParams<double>;
template class BatchNorm1d<float>;
template class BatchNorm1d<double>;

}  // namespace nn
