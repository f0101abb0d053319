// The parameter-free layers: ReLU and Dropout.
#include "nn/layers.h"

namespace nn {

template <class T>
ConstView<T> ReLU<T>::forward(ConstView<T> x, Mode) {
  y_.resize(x.rows, x.cols, x.device);
  ops::relu_forward<T>(x, y_);
  return y_;
}

template <class T>
ConstView<T> ReLU<T>::backward(ConstView<T> dy) {
  dx_.resize(y_.rows(), y_.cols(), y_.device());
  ops::relu_backward<T>(y_, dy, dx_);
  return dx_;
}

template <class T>
Dropout<T>::Dropout(Index features, double p, std::uint64_t seed) : features_(features), p_(p), seed_(seed) {
  if (!(p >= 0.0 && p < 1.0)) throw Error(str("Dropout: probability ", p, " is outside [0, 1)"));
}

template <class T>
ConstView<T> Dropout<T>::forward(ConstView<T> x, Mode mode) {
  identity_ = mode == Mode::eval || p_ == 0.0;
  if (identity_) return x;
  mask_.resize(x.rows, x.cols, x.device);
  y_.resize(x.rows, x.cols, x.device);
  ops::dropout_forward<T>(x, p_, seed_ + 0x9E3779B97F4A7C15ull * ++draws_, mask_, y_);
  return y_;
}

template <class T>
ConstView<T> Dropout<T>::backward(ConstView<T> dy) {
  if (identity_) return dy;
  dx_.resize(dy.rows, dy.cols, dy.device);
  ops::multiply<T>(dy, mask_, dx_);
  return dx_;
}

template class ReLU<float>;
template class ReLU<double>;
template class Dropout<float>;
template class Dropout<double>;

}  // namespace nn
