#pragma once
// Shared tools of the CUDA backend tests. The same sources build against the host emulation
// (starnn_cuda_emulated_tests) and against libstarnn's GPU backend (starnn_cuda_gpu_tests),
// which skips where the runtime finds no device.
//
// Every device operand is a DeviceMatrix: its rows are followed by padding that holds a
// sentinel no op may change (out-of-bounds writes and stride bugs show up there), and an output
// that an op overwrites starts as NaN (a missed element shows up as NaN). Errors are scale-free:
// the normalised mean squared error sum (a - b)^2 / sum b^2 against the CPU reference (ggml's
// test-backend-ops), and the largest |a - b| / max(|b|, 1). The worst of each op is printed at
// the end of the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "context.h"
#include "cuda_backend.h"
#include "launch.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace nn::test {

#define NN_REQUIRE_CUDA_DEVICE()                                                  \
  do {                                                                            \
    if (::nn::cuda::device_count() == 0) GTEST_SKIP() << "no usable CUDA device"; \
  } while (false)

template <class T>
class DeviceMatrix {
 public:
  static constexpr Index kPad = 3;

  // (rows, cols), every element NaN.
  DeviceMatrix(Index rows, Index cols)
      : rows_(rows), cols_(cols), stride_(cols + kPad), memory_(cuda::allocate(bytes())) {
    std::vector<T> image(std::size_t(rows_ * stride_), sentinel());
    for (Index i = 0; i < rows_; ++i)
      for (Index j = 0; j < cols_; ++j) image[std::size_t(i * stride_ + j)] = std::numeric_limits<T>::quiet_NaN();
    cuda::copy_to_device(memory_.get(), image.data(), bytes());
  }
  explicit DeviceMatrix(ConstView<T> host) : DeviceMatrix(host.rows, host.cols) { set(host); }

  void set(ConstView<T> host) {
    std::vector<T> image = download_image();
    for (Index i = 0; i < rows_; ++i)
      for (Index j = 0; j < cols_; ++j) image[std::size_t(i * stride_ + j)] = host(i, j);
    cuda::copy_to_device(memory_.get(), image.data(), bytes());
  }

  View<T> view() { return View<T>(static_cast<T*>(memory_.get()), rows_, cols_, stride_, Device::cuda); }
  T* data() { return static_cast<T*>(memory_.get()); }
  Index stride() const { return stride_; }

  // The (rows, cols) values; fails the test if any padding element changed.
  Tensor<T> get() const {
    const std::vector<T> image = download_image();
    Tensor<T> out(rows_, cols_);
    Index damaged = 0;
    for (Index i = 0; i < rows_; ++i) {
      for (Index j = 0; j < cols_; ++j) out(i, j) = image[std::size_t(i * stride_ + j)];
      for (Index j = cols_; j < stride_; ++j) damaged += !same_bits(image[std::size_t(i * stride_ + j)], sentinel());
    }
    EXPECT_EQ(damaged, 0) << "an op wrote into the padding of a (" << rows_ << ", " << cols_ << ") matrix";
    return out;
  }

 private:
  struct Release {
    void operator()(void* p) const { cuda::release(p); }
  };
  static T sentinel() { return T(-1234.5); }
  static bool same_bits(T a, T b) { return std::memcmp(&a, &b, sizeof(T)) == 0; }
  std::size_t bytes() const { return sizeof(T) * std::size_t(rows_ * stride_); }
  std::vector<T> download_image() const {
    std::vector<T> image(std::size_t(rows_ * stride_));
    cuda::copy_to_host(image.data(), memory_.get(), bytes());
    return image;
  }

  Index rows_, cols_, stride_;
  std::unique_ptr<void, Release> memory_;
};

template <class T>
Tensor<T> random_matrix(Index rows, Index cols, Rng& rng, double scale = 1.0, double offset = 0.0) {
  Tensor<T> t(rows, cols);
  for (Index k = 0; k < t.size(); ++k) t.data()[k] = T(offset + scale * rng.normal());
  return t;
}

template <class T>
Tensor<T> copy_of(ConstView<T> v) {
  Tensor<T> t(v.rows, v.cols);
  for (Index i = 0; i < v.rows; ++i)
    for (Index j = 0; j < v.cols; ++j) t(i, j) = v(i, j);
  return t;
}

struct Errors {
  double nmse = 0.0;
  double max_error = 0.0;
};

template <class T>
Errors compare(ConstView<T> actual, ConstView<T> expected) {
  EXPECT_EQ(actual.rows, expected.rows);
  EXPECT_EQ(actual.cols, expected.cols);
  double diff = 0.0, norm = 0.0, worst = 0.0;
  for (Index i = 0; i < expected.rows; ++i)
    for (Index j = 0; j < expected.cols; ++j) {
      const double a = actual(i, j), b = expected(i, j);
      const double d =
          std::isnan(a) != std::isnan(b) ? std::numeric_limits<double>::infinity() : (std::isnan(a) ? 0.0 : a - b);
      diff += d * d;
      norm += std::isnan(b) ? 0.0 : b * b;
      worst = std::max(worst, std::abs(d) / std::max(std::isnan(b) ? 1.0 : std::abs(b), 1.0));
    }
  return {norm > 0.0 ? diff / norm : diff, worst};
}

template <class T>
const char* type_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

// The worst errors seen per op and type, printed when the run ends.
class ErrorLog : public ::testing::Environment {
 public:
  void record(const std::string& op, const char* type, const Errors& e) {
    Errors& worst = worst_[op + " (" + type + ")"];
    worst.nmse = std::max(worst.nmse, e.nmse);
    worst.max_error = std::max(worst.max_error, e.max_error);
  }
  void TearDown() override {
    for (const auto& [name, e] : worst_)
      std::cout << "[cuda vs cpu] " << name << ": worst nmse " << e.nmse << ", worst max error " << e.max_error << "\n";
  }

 private:
  std::map<std::string, Errors> worst_;
};

// Registered before main, as gtest wants its environments; gtest owns it.
inline ErrorLog* const error_log = static_cast<ErrorLog*>(::testing::AddGlobalTestEnvironment(new ErrorLog));

// Checks actual against the CPU's expected: NMSE within nmse_limit (0 asks for identical values).
template <class T>
void expect_close(const std::string& op, ConstView<T> actual, ConstView<T> expected, double nmse_limit,
                  const std::string& context) {
  const Errors e = compare(actual, expected);
  error_log->record(op, type_name<T>(), e);
  if (nmse_limit == 0.0)
    EXPECT_EQ(e.max_error, 0.0) << op << " " << context << ": values differ from the CPU's";
  else
    EXPECT_LE(e.nmse, nmse_limit) << op << " " << context << " (max error " << e.max_error << ")";
}

// Scalars (losses) as 1x1 matrices.
inline void expect_close_scalar(const std::string& op, const char* type, double actual, double expected,
                                double relative_limit, const std::string& context) {
  const double error = std::abs(actual - expected) / std::max(std::abs(expected), 1e-300);
  error_log->record(op, type, {error * error, error});
  EXPECT_LE(error, relative_limit) << op << " " << context << ": " << actual << " vs " << expected;
}

// Per-type tolerance: float limit, double limit.
template <class T>
double limit(double for_float, double for_double) {
  return std::is_same_v<T, float> ? for_float : for_double;
}

// Shapes every op is tried with: single elements, odd sizes that leave tail blocks and partial
// warps, and sizes past a grid's worth of work.
struct Size {
  Index rows, cols;
};
inline const std::vector<Size>& sizes() {
  static const std::vector<Size> all = {{1, 1}, {2, 3}, {17, 33}, {64, 96}, {130, 97}, {257, 5}, {3, 300}};
  return all;
}
// The BatchNorm column tiles split taller batches into row chunks (launch.h, row_chunks): these
// add batches of several chunks a column tile, with a shorter last chunk (1000, 40: 7 of 128
// rows and one of 104 at the default shape) and without (256, 64: 4 of 64 rows).
inline const std::vector<Size>& batch_sizes() {
  static const std::vector<Size> all = [] {
    std::vector<Size> v = sizes();
    v.insert(v.end(), {{1000, 40}, {256, 64}});
    return v;
  }();
  return all;
}

inline std::string describe(const Size& size, const cuda::LaunchShape& shape) {
  return "(" + std::to_string(size.rows) + ", " + std::to_string(size.cols) + ") block (" +
         std::to_string(shape.block.x) + ", " + std::to_string(shape.block.y) + ") max_blocks " +
         std::to_string(shape.max_blocks);
}

// Launch shapes per strategy: the default, odd blocks, and caps that make the grid stride.
inline const std::vector<cuda::LaunchShape>& elementwise_shapes() {
  static const std::vector<cuda::LaunchShape> all = {
      cuda::kElementwiseShape, {dim3(7, 5), 3}, {dim3(64, 1), 1}, {dim3(1, 32), 2}};
  return all;
}
inline const std::vector<cuda::LaunchShape>& column_tile_shapes() {
  static const std::vector<cuda::LaunchShape> all = {cuda::kColumnTileShape, {dim3(5, 7), 3},   {dim3(32, 1), 1},
                                                     {dim3(1, 64), 2},       {dim3(16, 33), 4}, {dim3(8, 3), 16}};
  return all;
}
inline const std::vector<cuda::LaunchShape>& warp_per_row_shapes() {
  static const std::vector<cuda::LaunchShape> all = {
      cuda::kWarpPerRowShape, {dim3(32, 1), 1}, {dim3(32, 3), 2}, {dim3(32, 8), 5}};
  return all;
}

// Every size through the entry point (shape null), then through the launcher with each shape.
template <class Check>
void for_each_case(const std::vector<Size>& all, const std::vector<cuda::LaunchShape>& shapes, Check&& check) {
  for (const Size& size : all) {
    check(size, nullptr);
    for (const cuda::LaunchShape& shape : shapes) check(size, &shape);
  }
}
template <class Check>
void for_each_case(const std::vector<cuda::LaunchShape>& shapes, Check&& check) {
  for_each_case(sizes(), shapes, check);
}

// What a failure message says of a case; entry_shape is the shape the entry point launches.
inline std::string context(const Size& size, const cuda::LaunchShape* shape, const cuda::LaunchShape& entry_shape) {
  return shape == nullptr ? describe(size, entry_shape) + " (entry point)" : describe(size, *shape);
}

// Per-feature BatchNorm parameters and running statistics of a layer that has trained a while.
template <class T>
struct Features {
  Tensor<T> gamma, beta, running_mean, running_var;
  Features(Index d, Rng& rng)
      : gamma(random_matrix<T>(1, d, rng, 0.3, 1.0)),
        beta(random_matrix<T>(1, d, rng, 0.3)),
        running_mean(random_matrix<T>(1, d, rng, 0.5)),
        running_var(1, d) {
    for (Index j = 0; j < d; ++j) running_var(0, j) = T(0.5 + rng.uniform());
  }
};

// The GEMM libraries that launchers with a cuBLASLt path are tried with: cuBLASLt where its
// heuristic has an algorithm, as the entry points run, and cuBLAS alone, the ops' fallback,
// which then runs on every problem.
enum class GemmRoute { cublaslt_where_it_can, cublas_alone };
inline const std::vector<GemmRoute>& gemm_routes() {
  static const std::vector<GemmRoute> all = {GemmRoute::cublaslt_where_it_can, GemmRoute::cublas_alone};
  return all;
}
inline cuda::detail::Blas blas_for(GemmRoute route) {
  const cuda::detail::Blas blas = cuda::detail::blas();
  return route == GemmRoute::cublas_alone ? cuda::detail::Blas{blas.cublas, nullptr} : blas;
}
inline std::string describe(GemmRoute route) {
  return route == GemmRoute::cublas_alone ? " through cuBLAS alone" : " through cuBLASLt where it can";
}

using Types = ::testing::Types<float, double>;

}  // namespace nn::test
