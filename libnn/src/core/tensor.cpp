#include "nn/tensor.h"

#include <algorithm>
#include <new>
#include <type_traits>

#if defined(STARNN_WITH_CUDA)
#include "cuda_backend.h"
#endif

namespace nn {

const char* to_string(Device device) { return device == Device::cpu ? "cpu" : "cuda"; }

namespace {
// Rows start on cache lines, and SIMD loads never split one.
constexpr std::align_val_t kAlignment{64};

// Device memory comes from the CUDA backend; a build without one refuses it in resize().
void* allocate([[maybe_unused]] Device device, std::size_t bytes) {
#if defined(STARNN_WITH_CUDA)
  if (device == Device::cuda) return cuda::allocate(bytes);
#endif
  return ::operator new[](bytes, kAlignment);
}
}  // namespace

template <class T>
void Tensor<T>::Free::operator()(T* p) const {
#if defined(STARNN_WITH_CUDA)
  if (device == Device::cuda) return cuda::release(p);
#endif
  ::operator delete[](p, kAlignment);
}

template <class T>
void Tensor<T>::resize(Index rows, Index cols) {
  if (rows < 0 || cols < 0) throw Error(str("tensor shape (", rows, ", ", cols, ") is negative"));
#if !defined(STARNN_WITH_CUDA)
  if (device_ != Device::cpu) throw Error(str("no ", to_string(device_), " memory in this build of starnn"));
#endif
  const Index needed = rows * cols;
  if (needed > capacity_) {
    storage_ =
        std::unique_ptr<T[], Free>(static_cast<T*>(allocate(device_, sizeof(T) * std::size_t(needed))), Free{device_});
    capacity_ = needed;
  }
  rows_ = rows;
  cols_ = cols;
}

template <class T>
void Tensor<T>::resize(Index rows, Index cols, Device device) {
  if (device != device_) {
    storage_.reset();
    capacity_ = 0;
    device_ = device;
  }
  resize(rows, cols);
}

template <class T>
void Tensor<T>::move_to(Device device) {
  if (device == device_) return;
  Tensor<T> moved(rows_, cols_, device);
  transfer<T>(cview(), moved.view());
  *this = std::move(moved);
}

template <class T>
void transfer(ConstView<T> src, View<T> dst) {
  if (src.rows != dst.rows || src.cols != dst.cols)
    throw Error(
        str("transfer: source is (", src.rows, ", ", src.cols, "), destination (", dst.rows, ", ", dst.cols, ")"));
  if (!src.contiguous() || !dst.contiguous()) throw Error("transfer: both views must be contiguous");
  const std::size_t bytes = sizeof(T) * std::size_t(src.size());
  if (bytes == 0) return;
#if defined(STARNN_WITH_CUDA)
  if (src.device == Device::cuda && dst.device == Device::cuda) return cuda::copy_on_device(dst.data, src.data, bytes);
  if (src.device == Device::cuda) return cuda::copy_to_host(dst.data, src.data, bytes);
  if (dst.device == Device::cuda) return cuda::copy_to_device(dst.data, src.data, bytes);
#else
  if (src.device != Device::cpu || dst.device != Device::cpu)
    throw Error("transfer: no cuda memory in this build of starnn");
#endif
  std::copy(src.data, src.data + src.size(), dst.data);
}

template <class T>
void Tensor<T>::fill(T value) {
#if defined(STARNN_WITH_CUDA)
  if (device_ == Device::cuda) {
    if constexpr (std::is_same_v<T, std::uint8_t>)
      cuda::fill_bytes(data(), value, std::size_t(size()));
    else
      cuda::op_table<T>().fill(view(), value);
    return;
  }
#endif
  std::fill(data(), data() + size(), value);
}

template <class T>
void Tensor<T>::assign(Index rows, Index cols, T value) {
  resize(rows, cols);
  fill(value);
}

template void transfer<float>(ConstView<float>, View<float>);
template void transfer<double>(ConstView<double>, View<double>);
template void transfer<std::uint8_t>(ConstView<std::uint8_t>, View<std::uint8_t>);
template class Tensor<float>;
template class Tensor<double>;
template class Tensor<std::uint8_t>;

}  // namespace nn
