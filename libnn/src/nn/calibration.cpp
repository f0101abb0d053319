#include "nn/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nn/error.h"

namespace nn {
namespace {

// The z with P(|Z| < z) = p for a standard normal Z: erf(z / sqrt 2) = p, by bisection (erf
// is increasing; 60 halvings of [0, 10] reach double precision).
double central_interval(double p) {
  double low = 0.0, high = 10.0;
  for (int k = 0; k < 60; ++k) {
    const double mid = 0.5 * (low + high);
    (std::erf(mid / std::sqrt(2.0)) < p ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

double fraction_below(const std::vector<double>& abs_z, double limit) {
  const auto count = std::count_if(abs_z.begin(), abs_z.end(), [&](double a) { return a < limit; });
  return double(count) / double(abs_z.size());
}

// The stars with every value finite; an nn::Error naming `what` when the spans differ in length.
std::vector<std::size_t> usable_stars(const char* what, std::span<const double> predicted,
                                      std::span<const double> sigma, std::span<const double> truth,
                                      std::span<const double> label_error) {
  if (predicted.size() != sigma.size() || predicted.size() != truth.size() || predicted.size() != label_error.size())
    throw Error(str(what, ": ", predicted.size(), " predictions, ", sigma.size(), " sigmas, ", truth.size(),
                    " labels and ", label_error.size(), " label errors"));
  std::vector<std::size_t> used;
  for (std::size_t i = 0; i < predicted.size(); ++i)
    if (std::isfinite(predicted[i]) && std::isfinite(sigma[i]) && std::isfinite(truth[i]) &&
        std::isfinite(label_error[i]))
      used.push_back(i);
  return used;
}

}  // namespace

double sigma_scale_for_unit_z_mad(std::span<const double> predicted, std::span<const double> sigma,
                                  std::span<const double> truth, std::span<const double> label_error) {
  const std::vector<std::size_t> used =
      usable_stars("sigma_scale_for_unit_z_mad", predicted, sigma, truth, label_error);
  if (used.size() < 10)
    throw Error(
        str("calibrating sigma: ", used.size(), " stars with a prediction, sigma and label; at least 10 are needed"));
  std::vector<double> z(used.size()), zeros(used.size(), 0.0);
  const auto z_mad = [&](double k) {
    for (std::size_t u = 0; u < used.size(); ++u) {
      const std::size_t i = used[u];
      const double s = k * sigma[i];
      z[u] = (predicted[i] - truth[i]) / std::sqrt(s * s + label_error[i] * label_error[i]);
    }
    return regression_metrics(z, zeros).sigma_mad;
  };
  // z_sigma_mad falls as k grows; 80 halvings of log k over [1e-4, 1e4] reach double precision.
  double low = std::log(1e-4), high = std::log(1e4);
  for (int step = 0; step < 80; ++step) {
    const double mid = 0.5 * (low + high);
    (z_mad(std::exp(mid)) > 1.0 ? low : high) = mid;
  }
  return std::exp(0.5 * (low + high));
}

CalibrationMetrics calibration_metrics(std::span<const double> predicted, std::span<const double> sigma,
                                       std::span<const double> truth, std::span<const double> label_error, int bins) {
  const std::vector<std::size_t> used = usable_stars("calibration_metrics", predicted, sigma, truth, label_error);
  CalibrationMetrics c;
  c.n = std::int64_t(used.size());
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (used.empty()) {
    c.mean_sigma = c.z_sigma_mad = c.coverage_68 = c.coverage_95 = nan;
    return c;
  }
  std::vector<double> z, abs_z, zeros(used.size(), 0.0);
  double sigma_sum = 0.0;
  for (const std::size_t i : used) {
    z.push_back((predicted[i] - truth[i]) / std::sqrt(sigma[i] * sigma[i] + label_error[i] * label_error[i]));
    abs_z.push_back(std::abs(z.back()));
    sigma_sum += sigma[i];
  }
  c.mean_sigma = sigma_sum / double(used.size());
  c.z_sigma_mad = regression_metrics(z, zeros).sigma_mad;
  c.coverage_68 = fraction_below(abs_z, 1.0);
  c.coverage_95 = fraction_below(abs_z, 1.96);
  for (int k = 1; k <= 19; ++k) {
    const double expected = 0.05 * k;
    c.reliability.push_back({expected, fraction_below(abs_z, central_interval(expected))});
  }
  // Equal-count bins of predicted sigma; ties in sigma keep the stars' order.
  std::vector<std::size_t> order(used.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return sigma[used[a]] < sigma[used[b]]; });
  const std::size_t n_bins = std::min(used.size(), std::size_t(std::max(bins, 1)));
  for (std::size_t b = 0; b < n_bins; ++b) {
    const std::size_t first = b * used.size() / n_bins, last = (b + 1) * used.size() / n_bins;
    std::vector<double> p, t;
    double sum = 0.0;
    for (std::size_t k = first; k < last; ++k) {
      const std::size_t i = used[order[k]];
      p.push_back(predicted[i]);
      t.push_back(truth[i]);
      sum += sigma[i];
    }
    c.bins.push_back({sigma[used[order[first]]], sigma[used[order[last - 1]]], sum / double(last - first),
                      regression_metrics(p, t)});
  }
  return c;
}

}  // namespace nn
