#include "nn/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include "nn/error.h"

namespace nn {
namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// ---- Levenberg-Marquardt for A exp(-(x - mu)^2 / (2 sigma^2)) ----

using Vec3 = std::array<double, 3>;  // (amplitude, mean, sigma)
using Mat3 = std::array<Vec3, 3>;

constexpr int max_trials = 200;
constexpr double step_tolerance = 1e-10;
// Past this damping the step is pure gradient descent too short to matter; if it still does not
// lower the cost, the normal equations are degenerate (a parameter with no effect).
constexpr double max_damping = 1e30;

double gaussian(const Vec3& p, double x) {
  const double d = x - p[1];
  return p[0] * std::exp(-0.5 * d * d / (p[2] * p[2]));
}

Vec3 gaussian_gradient(const Vec3& p, double x) {
  const double d = x - p[1];
  const double s2 = p[2] * p[2];
  const double g = std::exp(-0.5 * d * d / s2);
  return {g, p[0] * g * d / s2, p[0] * g * d * d / (s2 * p[2])};
}

double sum_of_squares(std::span<const double> x, std::span<const double> y, const Vec3& p) {
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double e = y[i] - gaussian(p, x[i]);
    sum += e * e;
  }
  return sum;
}

// J^T J and J^T e for the residuals e = y - model.
void normal_equations(std::span<const double> x, std::span<const double> y, const Vec3& p, Mat3& jtj, Vec3& jte) {
  jtj = {};
  jte = {};
  for (std::size_t i = 0; i < x.size(); ++i) {
    const Vec3 j = gaussian_gradient(p, x[i]);
    const double e = y[i] - gaussian(p, x[i]);
    for (int a = 0; a < 3; ++a) {
      jte[a] += j[a] * e;
      for (int b = 0; b < 3; ++b) jtj[a][b] += j[a] * j[b];
    }
  }
}

// Gaussian elimination with partial pivoting; false when the system is singular.
bool solve3(Mat3 a, Vec3 b, Vec3& x) {
  for (int col = 0; col < 3; ++col) {
    int pivot = col;
    for (int row = col + 1; row < 3; ++row)
      if (std::abs(a[row][col]) > std::abs(a[pivot][col])) pivot = row;
    if (a[pivot][col] == 0.0) return false;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (int row = col + 1; row < 3; ++row) {
      const double factor = a[row][col] / a[col][col];
      for (int k = col; k < 3; ++k) a[row][k] -= factor * a[col][k];
      b[row] -= factor * b[col];
    }
  }
  for (int row = 2; row >= 0; --row) {
    double sum = b[row];
    for (int k = row + 1; k < 3; ++k) sum -= a[row][k] * x[k];
    x[row] = sum / a[row][row];
  }
  return std::isfinite(x[0]) && std::isfinite(x[1]) && std::isfinite(x[2]);
}

// The mean is measured against sigma, not against itself: a mean near 0 must not demand an
// absolute precision that rounding cannot give.
bool step_negligible(const Vec3& step, const Vec3& p) {
  const double sigma = std::abs(p[2]);
  return std::abs(step[0]) <= step_tolerance * std::abs(p[0]) && std::abs(step[1]) <= step_tolerance * sigma &&
         std::abs(step[2]) <= step_tolerance * sigma;
}

// Marquardt's damping, scaled by the diagonal of J^T J, makes the step independent of the units
// of each parameter (counts for the amplitude, dex for mean and sigma).
std::optional<Vec3> damped_step(const Mat3& jtj, const Vec3& jte, double damping) {
  Mat3 a = jtj;
  for (int k = 0; k < 3; ++k) a[k][k] += damping * std::max(jtj[k][k], std::numeric_limits<double>::min());
  Vec3 step{};
  if (!solve3(a, jte, step)) return std::nullopt;
  return step;
}

// ---- Regression ----

// Median of values, which it reorders.
double median_of(std::vector<double>& values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  if (values.size() % 2 == 1) return *middle;
  return 0.5 * (*middle + *std::max_element(values.begin(), middle));
}

constexpr std::int64_t min_fit_count = 20;
constexpr double half_range_in_sigmas = 5.0;
// Freedman-Diaconis, 2 IQR n^(-1/3), with the IQR of a Gaussian, 1.349 sigma.
constexpr double bin_width_in_sigmas = 2.0 * 1.349;
constexpr double mad_to_sigma = 1.4826;

// Residuals of the usable pairs: NaN on either side, or the same infinity on both, gives NaN.
std::vector<double> residuals(std::span<const double> predicted, std::span<const double> truth) {
  std::vector<double> r;
  r.reserve(predicted.size());
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const double d = predicted[i] - truth[i];
    if (!std::isnan(d)) r.push_back(d);
  }
  return r;
}

}  // namespace

ResidualHistogram residual_histogram(std::span<const double> residuals, double sigma_mad) {
  ResidualHistogram h;
  if (residuals.empty()) return h;
  std::vector<double> sorted(residuals.begin(), residuals.end());
  h.median = median_of(sorted);
  double bins = 0.0;
  if (sigma_mad > 0.0 && std::isfinite(sigma_mad)) {
    h.low = h.median - half_range_in_sigmas * sigma_mad;
    h.high = h.median + half_range_in_sigmas * sigma_mad;
    bins =
        std::ceil(2.0 * half_range_in_sigmas * std::cbrt(static_cast<double>(residuals.size())) / bin_width_in_sigmas);
  } else {
    const auto [lowest, highest] = std::minmax_element(sorted.begin(), sorted.end());
    h.low = *lowest - 0.5;
    h.high = *highest + 0.5;
    bins = 10.0;
  }
  const auto count = static_cast<std::size_t>(bins);
  h.width = (h.high - h.low) / bins;
  h.counts.assign(count, 0.0);
  for (std::size_t k = 0; k < count; ++k) h.centres.push_back(h.low + (static_cast<double>(k) + 0.5) * h.width);
  for (const double v : residuals) {
    if (!(v >= h.low && v < h.high)) {
      ++h.outside;
      continue;
    }
    // Rounding can put a value just below high into bin `count`.
    h.counts[std::min(static_cast<std::size_t>((v - h.low) / h.width), count - 1)] += 1.0;
  }
  return h;
}

std::optional<Gaussian> residual_gaussian(const ResidualHistogram& h, std::int64_t n, double sigma_mad) {
  if (n < min_fit_count || !(sigma_mad > 0.0) || !std::isfinite(sigma_mad) || h.counts.empty()) return std::nullopt;
  const double peak = *std::max_element(h.counts.begin(), h.counts.end());
  const GaussianFit fit = fit_gaussian(h.centres, h.counts, {peak, h.median, sigma_mad});
  const Gaussian& g = fit.gaussian;
  // A peak outside the histogram, or a curve wider than it, is not constrained by the data.
  const bool trusted =
      fit.converged && g.amplitude > 0.0 && g.mean > h.low && g.mean < h.high && g.sigma < h.high - h.low;
  if (!trusted) return std::nullopt;
  return g;
}

GaussianFit fit_gaussian(std::span<const double> x, std::span<const double> y, Gaussian start) {
  if (x.size() != y.size()) throw Error(str("fit_gaussian: ", x.size(), " abscissae for ", y.size(), " ordinates"));
  if (x.size() < 3) throw Error(str("fit_gaussian: ", x.size(), " points cannot fix 3 parameters"));
  if (start.amplitude == 0.0 || start.sigma == 0.0)
    throw Error(str("fit_gaussian: the start needs a non-zero amplitude and sigma, got ", start.amplitude, " and ",
                    start.sigma));
  Vec3 p{start.amplitude, start.mean, start.sigma};
  double cost = sum_of_squares(x, y, p);
  double damping = 1e-3;
  Mat3 jtj{};
  Vec3 jte{};
  bool stale = true;  // whether p moved since the normal equations were built
  GaussianFit fit;
  while (fit.iterations < max_trials && damping <= max_damping) {
    ++fit.iterations;
    if (stale) normal_equations(x, y, p, jtj, jte);
    stale = false;
    const std::optional<Vec3> step = damped_step(jtj, jte, damping);
    if (!step) {
      damping *= 10.0;
      continue;
    }
    const Vec3 trial{p[0] + (*step)[0], p[1] + (*step)[1], p[2] + (*step)[2]};
    const double trial_cost = sum_of_squares(x, y, trial);
    const bool negligible = step_negligible(*step, p);
    if (trial_cost <= cost) {
      p = trial;
      cost = trial_cost;
      damping = std::max(damping / 10.0, 1e-12);
      stale = true;
    } else {
      damping *= 10.0;
    }
    // A negligible step that was rejected still means p is a minimum to rounding.
    if (negligible) {
      fit.converged = true;
      break;
    }
  }
  fit.gaussian = {p[0], p[1], std::abs(p[2])};
  return fit;
}

RegressionMetrics regression_metrics(std::span<const double> predicted, std::span<const double> truth) {
  if (predicted.size() != truth.size())
    throw Error(str("regression_metrics: ", predicted.size(), " predictions for ", truth.size(), " true values"));
  const std::vector<double> r = residuals(predicted, truth);
  RegressionMetrics m;
  m.n = static_cast<std::int64_t>(r.size());
  if (r.empty()) {
    m.bias = m.sigma_gauss = m.sigma_mad = m.rmse = not_a_number;
    return m;
  }
  double sum = 0.0;
  double sum_of_squares = 0.0;
  for (const double v : r) {
    sum += v;
    sum_of_squares += v * v;
  }
  m.bias = sum / static_cast<double>(r.size());
  m.rmse = std::sqrt(sum_of_squares / static_cast<double>(r.size()));
  std::vector<double> deviations = r;
  const double median = median_of(deviations);
  for (double& v : deviations) v = std::abs(v - median);
  m.sigma_mad = mad_to_sigma * median_of(deviations);
  const std::optional<Gaussian> fit = residual_gaussian(residual_histogram(r, m.sigma_mad), m.n, m.sigma_mad);
  m.sigma_gauss = fit ? fit->sigma : not_a_number;
  return m;
}

BinaryMetrics binary_metrics(std::span<const double> logits, std::span<const double> labels) {
  if (logits.size() != labels.size())
    throw Error(str("binary_metrics: ", logits.size(), " logits for ", labels.size(), " labels"));
  BinaryMetrics m;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i]) || std::isnan(labels[i])) continue;
    if (labels[i] != 0.0 && labels[i] != 1.0)
      throw Error(str("binary_metrics: label ", i, " is ", labels[i], ", not 0 or 1"));
    const bool predicted = logits[i] > 0.0;
    const bool actual = labels[i] == 1.0;
    std::int64_t& cell =
        predicted ? (actual ? m.true_positive : m.false_positive) : (actual ? m.false_negative : m.true_negative);
    ++cell;
    ++m.n;
  }
  m.accuracy =
      m.n == 0 ? not_a_number : static_cast<double>(m.true_positive + m.true_negative) / static_cast<double>(m.n);
  return m;
}

}  // namespace nn
