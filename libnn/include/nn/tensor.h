#pragma once
// Tensors are row-major matrices: a batch of rows, one row per star. View is the non-owning
// form every op takes (pointer, shape, row stride, device); Tensor owns memory and only
// reallocates when it must grow, so workspaces are sized once per batch size.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "nn/error.h"

namespace nn {

using Index = std::int64_t;

enum class Device { cpu, cuda };
NN_API const char* to_string(Device device);

template <class T>
struct View {
  T* data = nullptr;
  Index rows = 0;
  Index cols = 0;
  Index stride = 0;  // elements between the starts of two rows; cols when contiguous
  Device device = Device::cpu;

  View() = default;
  View(T* data_, Index rows_, Index cols_, Device device_ = Device::cpu)
      : data(data_), rows(rows_), cols(cols_), stride(cols_), device(device_) {}
  View(T* data_, Index rows_, Index cols_, Index stride_, Device device_)
      : data(data_), rows(rows_), cols(cols_), stride(stride_), device(device_) {}

  // A mutable view converts to a const one, never the other way.
  template <class U>
  requires std::is_same_v<const U, T> View(const View<U>& other)  // NOLINT(google-explicit-constructor)
      : data(other.data), rows(other.rows), cols(other.cols), stride(other.stride), device(other.device) {}

  Index size() const { return rows * cols; }
  bool empty() const { return rows == 0 || cols == 0; }
  bool contiguous() const { return stride == cols || rows <= 1; }
  T* row(Index i) const { return data + i * stride; }
  T& operator()(Index i, Index j) const { return data[i * stride + j]; }
  // Columns [first, first + count) of every row, sharing this view's memory.
  View col_range(Index first, Index count) const { return View(data + first, rows, count, stride, device); }
  // Rows [first, first + count).
  View row_range(Index first, Index count) const { return View(data + first * stride, count, cols, stride, device); }
};

template <class T>
using ConstView = View<const T>;

// Owning storage on one device. resize() keeps the allocation when it is large enough.
template <class T>
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Index rows, Index cols, Device device = Device::cpu) : device_(device) { resize(rows, cols); }

  void resize(Index rows, Index cols);
  // Resizes on `device`: a tensor on another device is reallocated there (contents dropped).
  // Workspaces call it with their input's device, so a module runs wherever its input lives.
  void resize(Index rows, Index cols, Device device);
  // Moves the contents to `device` (a copy through the host when needed).
  void move_to(Device device);
  // Resizes and sets every element to value.
  void assign(Index rows, Index cols, T value);
  void fill(T value);

  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  Index size() const { return rows_ * cols_; }
  Device device() const { return device_; }
  T* data() { return storage_.get(); }
  const T* data() const { return storage_.get(); }

  View<T> view() { return View<T>(data(), rows_, cols_, device_); }
  ConstView<T> view() const { return ConstView<T>(data(), rows_, cols_, device_); }
  ConstView<T> cview() const { return view(); }
  operator View<T>() { return view(); }             // NOLINT(google-explicit-constructor)
  operator ConstView<T>() const { return view(); }  // NOLINT(google-explicit-constructor)
  T& operator()(Index i, Index j) { return storage_[i * cols_ + j]; }
  const T& operator()(Index i, Index j) const { return storage_[i * cols_ + j]; }

 private:
  struct Free {
    Device device = Device::cpu;  // whose allocator the memory came from
    void operator()(T* p) const;
  };
  std::unique_ptr<T[], Free> storage_;
  Index capacity_ = 0;
  Index rows_ = 0;
  Index cols_ = 0;
  Device device_ = Device::cpu;
};

// dst = src between any two devices; both contiguous and of the same shape.
template <class T>
void transfer(ConstView<T> src, View<T> dst);

extern template class NN_API Tensor<float>;
extern template class NN_API Tensor<double>;
extern template class NN_API Tensor<std::uint8_t>;

extern template NN_API void transfer<float>(ConstView<float>, View<float>);
extern template NN_API void transfer<double>(ConstView<double>, View<double>);
extern template NN_API void transfer<std::uint8_t>(ConstView<std::uint8_t>, View<std::uint8_t>);

}  // namespace nn
