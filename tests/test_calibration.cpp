// The calibration of predicted uncertainties (nn/calibration.h) on residuals built by hand,
// and on a large sample drawn from the normal distribution calibration means.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "nn/calibration.h"
#include "nn/error.h"
#include "nn/random.h"

namespace {

// Stars with z = (predicted - truth) / sqrt(sigma^2 + label_error^2) set by hand: sigma 0.1 ..
// 0.8, label errors on every other star, and a ninth star without a sigma (left out).
struct HandMade {
  std::vector<double> z = {0.5, -1.5, 0.2, 2.5, -1.2, 1.9599, -1.95998, 0.99};
  std::vector<double> predicted, sigma, truth, label_error;
  HandMade() {
    for (std::size_t i = 0; i < z.size(); ++i) {
      sigma.push_back(0.1 * double(i + 1));
      label_error.push_back(i % 2 == 1 ? 0.05 * double(i) : 0.0);
      truth.push_back(1.0 + double(i));
      predicted.push_back(truth.back() + z[i] * std::hypot(sigma.back(), label_error.back()));
    }
    predicted.push_back(3.0);
    sigma.push_back(std::numeric_limits<double>::quiet_NaN());
    truth.push_back(3.1);
    label_error.push_back(0.0);
  }
};

TEST(Calibration, CoverageSpreadAndBinsOfResidualsSetByHand) {
  const HandMade h;
  const nn::CalibrationMetrics c = nn::calibration_metrics(h.predicted, h.sigma, h.truth, h.label_error, 2);
  EXPECT_EQ(c.n, 8);
  EXPECT_DOUBLE_EQ(c.coverage_68, 3.0 / 8.0);  // |z| < 1: 0.5, 0.2, 0.99
  EXPECT_DOUBLE_EQ(c.coverage_95, 7.0 / 8.0);  // |z| < 1.96: all but 2.5
  // median(z) = 0.35; median |z - 0.35| = (1.55 + 1.6099) / 2.
  EXPECT_NEAR(c.z_sigma_mad, 1.4826 * 1.57995, 1e-12);
  EXPECT_NEAR(c.mean_sigma, 0.45, 1e-15);
  // The central 95 % of a standard normal ends at 1.959964: 1.9599 inside, 1.95998 outside.
  ASSERT_EQ(c.reliability.size(), 19u);
  EXPECT_NEAR(c.reliability[18].expected, 0.95, 1e-15);
  EXPECT_DOUBLE_EQ(c.reliability[18].observed, 6.0 / 8.0);
  // The central 70 % ends at 1.036433: 0.99 inside, 1.2 outside.
  EXPECT_DOUBLE_EQ(c.reliability[13].observed, 3.0 / 8.0);
  ASSERT_EQ(c.bins.size(), 2u);
  EXPECT_NEAR(c.bins[0].sigma_low, 0.1, 1e-15);
  EXPECT_NEAR(c.bins[0].sigma_high, 0.4, 1e-15);
  EXPECT_NEAR(c.bins[1].mean_sigma, 0.65, 1e-15);
  EXPECT_EQ(c.bins[0].residuals.n, 4);
  EXPECT_EQ(c.bins[1].residuals.n, 4);
}

// For Gaussian residuals whose sigma is right, z is N(0, 1): coverage 0.6827 and 0.9500, the
// reliability curve on the diagonal, z_sigma_mad 1; and residuals grow with sigma bin by bin.
TEST(Calibration, CalibratedGaussianResidualsCoverWhatTheyPromise) {
  nn::Rng rng(7);
  const std::size_t n = 40000;
  std::vector<double> predicted, sigma, truth, label_error(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    sigma.push_back(0.05 + 0.5 * rng.uniform());
    truth.push_back(rng.uniform());
    predicted.push_back(truth.back() + sigma.back() * rng.normal());
  }
  const nn::CalibrationMetrics c = nn::calibration_metrics(predicted, sigma, truth, label_error);
  EXPECT_NEAR(c.coverage_68, 0.6827, 0.008);
  EXPECT_NEAR(c.coverage_95, 0.9500, 0.004);
  EXPECT_NEAR(c.z_sigma_mad, 1.0, 0.02);
  for (const nn::CoveragePoint& p : c.reliability) EXPECT_NEAR(p.observed, p.expected, 0.01) << p.expected;
  ASSERT_EQ(c.bins.size(), 5u);
  for (std::size_t b = 0; b < 5; ++b) {
    EXPECT_NEAR(c.bins[b].residuals.sigma_mad / c.bins[b].mean_sigma, 1.0, 0.1) << b;
    if (b > 0) EXPECT_GT(c.bins[b].residuals.sigma_mad, c.bins[b - 1].residuals.sigma_mad) << b;
  }
}

TEST(Calibration, NoUsableStarGivesNaNAndSpansMustAgree) {
  const std::vector<double> one = {1.0}, none = {std::numeric_limits<double>::quiet_NaN()};
  const nn::CalibrationMetrics c = nn::calibration_metrics(one, none, one, one);
  EXPECT_EQ(c.n, 0);
  EXPECT_TRUE(std::isnan(c.coverage_68) && std::isnan(c.z_sigma_mad));
  EXPECT_TRUE(c.bins.empty());
  EXPECT_THROW(nn::calibration_metrics(one, one, one, {}), nn::Error);
}

// Without label errors z scales as 1/k, so the factor is the unscaled z_sigma_mad itself; with
// label errors the factor found gives z_sigma_mad 1 when applied.
TEST(Calibration, SigmaScaleGivesUnitZMad) {
  nn::Rng rng(9);
  std::vector<double> predicted, sigma, truth, none, label_error;
  for (int i = 0; i < 2000; ++i) {
    const double s = 0.1 + 0.3 * rng.uniform();
    truth.push_back(rng.normal());
    predicted.push_back(truth.back() + 0.6 * s * rng.normal());  // sigma 1/0.6 too large
    sigma.push_back(s);
    none.push_back(0.0);
    label_error.push_back(0.05);
  }
  const double unscaled = nn::calibration_metrics(predicted, sigma, truth, none).z_sigma_mad;
  EXPECT_NEAR(nn::sigma_scale_for_unit_z_mad(predicted, sigma, truth, none), unscaled, 1e-9 * unscaled);
  EXPECT_NEAR(unscaled, 0.6, 0.05);
  const double k = nn::sigma_scale_for_unit_z_mad(predicted, sigma, truth, label_error);
  std::vector<double> scaled;
  for (double s : sigma) scaled.push_back(k * s);
  EXPECT_NEAR(nn::calibration_metrics(predicted, scaled, truth, label_error).z_sigma_mad, 1.0, 1e-6);
  EXPECT_LT(k, unscaled);  // the label errors carry part of the spread
  EXPECT_THROW(
      nn::sigma_scale_for_unit_z_mad({predicted.data(), 5}, {sigma.data(), 5}, {truth.data(), 5}, {none.data(), 5}),
      nn::Error);
}

}  // namespace
