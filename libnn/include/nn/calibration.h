#pragma once
// Whether predicted uncertainties mean what they say, on stars the net never saw (DESIGN.md,
// "Uncertainties"). Each star's standardised residual is
//   z = (predicted - truth) / sqrt(sigma^2 + label_error^2),
// sigma the model's 1-sigma uncertainty and label_error the label's own: for calibrated
// Gaussian uncertainties z ~ N(0, 1), so 68.3 % of |z| fall below 1 and 95 % below 1.96.
#include <cstdint>
#include <span>
#include <vector>

#include "nn/metrics.h"

namespace nn {

// Stars whose predicted sigma lies in [sigma_low, sigma_high]: their mean sigma and the
// residuals' metrics. A net whose sigma means something has residuals that grow with it.
struct SigmaBin {
  double sigma_low = 0.0, sigma_high = 0.0, mean_sigma = 0.0;
  RegressionMetrics residuals;
};

// The fraction of stars whose |z| lies inside the central interval a standard normal holds
// with probability `expected`.
struct CoveragePoint {
  double expected = 0.0, observed = 0.0;
};

struct CalibrationMetrics {
  std::int64_t n = 0;                      // stars with a finite prediction, sigma, truth and label error
  double mean_sigma = 0.0;                 // of the predicted sigma
  double z_sigma_mad = 0.0;                // 1.4826 median |z - median(z)|: 1 when calibrated
  double coverage_68 = 0.0;                // fraction with |z| < 1
  double coverage_95 = 0.0;                // fraction with |z| < 1.96
  std::vector<SigmaBin> bins;              // equal counts, by ascending predicted sigma
  std::vector<CoveragePoint> reliability;  // expected 0.05, 0.10, ..., 0.95
};

// Throws nn::Error when the spans differ in length. Stars with any value not finite are left
// out; with none left every figure is NaN and there are no bins. `bins` equal-count bins (fewer
// when there are fewer stars).
// The factor k > 0 for which the stars' z, computed with k sigma in place of sigma, has
// z_sigma_mad 1 (found by bisection on log k; z_sigma_mad falls as k grows). Stars as in
// calibration_metrics; an nn::Error when fewer than 10 are left.
NN_API double sigma_scale_for_unit_z_mad(std::span<const double> predicted, std::span<const double> sigma,
                                         std::span<const double> truth, std::span<const double> label_error);

NN_API CalibrationMetrics calibration_metrics(std::span<const double> predicted, std::span<const double> sigma,
                                              std::span<const double> truth, std::span<const double> label_error,
                                              int bins = 5);

}  // namespace nn
