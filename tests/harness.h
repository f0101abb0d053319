#pragma once
// Shared test tools: the PyTorch reference fixture, tensors from JSON, and the
// finite-difference gradient check used for every module and loss.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/random.h"

namespace nn::test {

using Json = nlohmann::json;

inline const Json& torch_reference() {
  static const Json fixture = [] {
    std::ifstream in(std::string(STARNN_TEST_DATA) + "/torch_reference.json");
    return Json::parse(in);
  }();
  return fixture;
}

// A JSON matrix (list of rows) or vector (read as one row) as a tensor.
inline Tensor<double> tensor_from_json(const Json& j) {
  if (!j.is_array() || j.empty()) return Tensor<double>(0, 0);
  if (!j[0].is_array()) {
    Tensor<double> t(1, Index(j.size()));
    for (std::size_t k = 0; k < j.size(); ++k) t(0, Index(k)) = j[k].get<double>();
    return t;
  }
  Tensor<double> t(Index(j.size()), Index(j[0].size()));
  for (std::size_t i = 0; i < j.size(); ++i)
    for (std::size_t k = 0; k < j[i].size(); ++k) t(Index(i), Index(k)) = j[i][k].get<double>();
  return t;
}

// Largest |a - b| / max(|b|, 1) over all elements (a relative error that is absolute near 0).
inline double max_error(ConstView<double> a, ConstView<double> b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  double worst = 0.0;
  for (Index i = 0; i < a.rows; ++i)
    for (Index j = 0; j < a.cols; ++j)
      worst = std::max(worst, std::abs(a(i, j) - b(i, j)) / std::max(std::abs(b(i, j)), 1.0));
  return worst;
}

inline Tensor<double> random_tensor(Index rows, Index cols, Rng& rng, double scale = 1.0) {
  Tensor<double> t(rows, cols);
  for (Index k = 0; k < t.size(); ++k) t.data()[k] = scale * rng.normal();
  return t;
}

inline Tensor<double> copy_of(ConstView<double> v) {
  Tensor<double> t(v.rows, v.cols);
  for (Index i = 0; i < v.rows; ++i)
    for (Index j = 0; j < v.cols; ++j) t(i, j) = v(i, j);
  return t;
}

// Normwise error of an analytic gradient against a numerical one:
// ||a - n|| / max(||a||, ||n||, 1) -- relative, and absolute for gradients of norm below 1
// (BatchNorm makes some gradients exactly zero, where only an absolute error means anything).
inline double gradient_error(const std::vector<double>& analytic, const std::vector<double>& numeric) {
  double diff = 0.0, na = 0.0, nn_ = 0.0;
  for (std::size_t k = 0; k < analytic.size(); ++k) {
    diff += (analytic[k] - numeric[k]) * (analytic[k] - numeric[k]);
    na += analytic[k] * analytic[k];
    nn_ += numeric[k] * numeric[k];
  }
  return std::sqrt(diff) / std::max({std::sqrt(na), std::sqrt(nn_), 1.0});
}

struct GradientCheck {
  double worst = 0.0;      // the largest error over the input and every parameter tensor
  std::string worst_name;  // where it occurred
  Index checked = 0;       // number of derivatives compared
};

// Checks dL/dx and dL/dparameters of L = sum(dy * module(x)) in training mode, with central
// differences in double. before_forward runs before every forward (e.g. to repeat a dropout mask).
inline GradientCheck check_module_gradients(
    Module<double>& module, ParameterStore<double>& store, Tensor<double>& x, Rng& rng,
    const std::function<void()>& before_forward = [] {}) {
  const double h = 1e-6;
  auto run = [&] {
    before_forward();
    return module.forward(x.view(), Mode::train);
  };
  ConstView<double> y = run();
  Tensor<double> dy = random_tensor(y.rows, y.cols, rng);
  auto objective = [&] {
    ConstView<double> out = run();
    double sum = 0.0;
    for (Index i = 0; i < out.rows; ++i)
      for (Index j = 0; j < out.cols; ++j) sum += dy(i, j) * out(i, j);
    return sum;
  };
  run();
  store.zero_grad();
  Tensor<double> dx = copy_of(module.backward(dy.view()));
  Tensor<double> grads = copy_of(store.grads());

  auto numeric_derivative = [&](double& value) {
    const double saved = value;
    value = saved + h;
    const double plus = objective();
    value = saved - h;
    const double minus = objective();
    value = saved;
    return (plus - minus) / (2 * h);
  };

  GradientCheck result;
  auto record = [&](const std::string& name, const std::vector<double>& a, const std::vector<double>& n) {
    const double e = gradient_error(a, n);
    result.checked += Index(a.size());
    if (e >= result.worst) {
      result.worst = e;
      result.worst_name = name;
    }
  };
  {
    std::vector<double> a(dx.data(), dx.data() + dx.size()), n;
    for (Index k = 0; k < x.size(); ++k) n.push_back(numeric_derivative(x.data()[k]));
    record("input", a, n);
  }
  for (const auto& entry : store.entries()) {
    const Index count = entry.param->rows * entry.param->cols;
    std::vector<double> a(grads.data() + entry.offset, grads.data() + entry.offset + count), n;
    for (Index k = 0; k < count; ++k) n.push_back(numeric_derivative(store.values().data[entry.offset + k]));
    record(entry.name, a, n);
  }
  return result;
}

}  // namespace nn::test
