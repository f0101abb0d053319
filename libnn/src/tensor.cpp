#include "nn/tensor.h"

#include <algorithm>
#include <new>

namespace nn {

const char* to_string(Device device) { return device == Device::cpu ? "cpu" : "cuda"; }

namespace {
// Rows start on cache lines, and SIMD loads never split one.
constexpr std::align_val_t kAlignment{64};
}  // namespace

template <class T>
void Tensor<T>::Free::operator()(T* p) const {
  ::operator delete[](p, kAlignment);
}

template <class T>
void Tensor<T>::resize(Index rows, Index cols) {
  if (rows < 0 || cols < 0) throw Error(str("tensor shape (", rows, ", ", cols, ") is negative"));
  if (device_ != Device::cpu) throw Error(str("no ", to_string(device_), " memory in this build of starnn"));
  const Index needed = rows * cols;
  if (needed > capacity_) {
    storage_.reset(static_cast<T*>(::operator new[](sizeof(T) * std::size_t(needed), kAlignment)));
    capacity_ = needed;
  }
  rows_ = rows;
  cols_ = cols;
}

template <class T>
void Tensor<T>::fill(T value) {
  std::fill(data(), data() + size(), value);
}

template <class T>
void Tensor<T>::assign(Index rows, Index cols, T value) {
  resize(rows, cols);
  fill(value);
}

template class Tensor<float>;
template class Tensor<double>;
template class Tensor<std::uint8_t>;

}  // namespace nn
