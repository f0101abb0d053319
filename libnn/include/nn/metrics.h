#pragma once
// Evaluation metrics for the regression heads ([Fe/H], log g, colours) and the classification head.
//
// The headline precision is sigma_gauss: the width of a Gaussian fitted to the histogram of the
// residuals predicted - truth, as in the thesis. A few catastrophic predictions inflate the RMSE
// without changing the core of the distribution; the fit (and the MAD) describe the core, so they
// are what is compared between nets, while bias and RMSE show what the core leaves out.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "nn/export.h"

namespace nn {

struct RegressionMetrics {
  std::int64_t n = 0;        // pairs used: those whose residual is not NaN
  double bias = 0.0;         // mean residual
  double sigma_gauss = 0.0;  // sigma of the Gaussian fitted to the residual histogram
  double sigma_mad = 0.0;    // 1.4826 * median |r - median(r)|: sigma for Gaussian residuals
  double rmse = 0.0;
};

// Residuals r = predicted - truth over the pairs where neither value is NaN and they are not the
// same infinity. Other infinite values are kept: they are real errors and make bias and RMSE
// infinite. Throws nn::Error when the spans differ in length. With n = 0 every figure is NaN.
//
// sigma_gauss histograms r over median(r) +- 5 sigma_mad (residuals outside are not binned, so far
// outliers cannot drag the fit) with a Freedman-Diaconis width for Gaussian data,
// 2.7 sigma_mad n^(-1/3): about 10 bins across the range at n = 20, 170 at n = 10^5. It then fits
// A exp(-(x - mu)^2 / (2 sigma^2)) to the counts at the bin centres by unweighted least squares
// from (highest count, median, sigma_mad). Binning widens the curve by width^2 / 12 in variance,
// under 0.1% of sigma from n = 10^4 on. sigma_gauss is NaN when it cannot be trusted: n < 20,
// sigma_mad is 0 (more than half the residuals equal) or the fit does not converge to a peak
// inside the histogram.
NN_API RegressionMetrics regression_metrics(std::span<const double> predicted, std::span<const double> truth);

struct Gaussian {
  double amplitude = 0.0;
  double mean = 0.0;
  double sigma = 0.0;
};

struct GaussianFit {
  Gaussian gaussian;  // sigma is reported positive (the model depends on sigma^2 only)
  bool converged = false;
  int iterations = 0;  // trial steps, accepted or not
};

// Least-squares fit of amplitude exp(-(x - mean)^2 / (2 sigma^2)) to the points (x, y) by
// Levenberg-Marquardt from start (whose amplitude and sigma must be non-zero). Converged means the
// last step moved every parameter by less than 1e-10 of its scale (amplitude for the amplitude,
// sigma for mean and sigma) within 200 trial steps. Throws nn::Error when x and y differ in length
// or hold fewer than 3 points.
NN_API GaussianFit fit_gaussian(std::span<const double> x, std::span<const double> y, Gaussian start);

// The histogram sigma_gauss is fitted to, for figures that show the fit: residuals (their NaNs
// already left out) over median +- 5 sigma_mad in ceil(10 n^(1/3) / 2.698) bins. When sigma_mad
// is 0 or not finite, which the rule cannot bin, their whole range +- 0.5 in 10 bins. Empty
// (no bins) for no residuals.
struct ResidualHistogram {
  double median = 0.0, low = 0.0, high = 0.0, width = 0.0;
  std::vector<double> centres, counts;
  std::int64_t outside = 0;  // residuals beyond [low, high)
};
NN_API ResidualHistogram residual_histogram(std::span<const double> residuals, double sigma_mad);

// The Gaussian regression_metrics reports as sigma_gauss, fitted to h (of n residuals), or
// nothing when it is not trusted (see regression_metrics).
NN_API std::optional<Gaussian> residual_gaussian(const ResidualHistogram& h, std::int64_t n, double sigma_mad);

struct BinaryMetrics {
  std::int64_t n = 0;  // pairs used: those where neither the logit nor the label is NaN
  std::int64_t true_positive = 0;
  std::int64_t false_positive = 0;
  std::int64_t true_negative = 0;
  std::int64_t false_negative = 0;
  double accuracy = 0.0;  // (true_positive + true_negative) / n; NaN when n = 0
};

// A star is predicted positive when its logit is > 0. Labels are 0 or 1; NaN labels (and NaN
// logits) leave the pair out. Throws nn::Error when the spans differ in length or a label is
// neither 0, 1 nor NaN.
NN_API BinaryMetrics binary_metrics(std::span<const double> logits, std::span<const double> labels);

}  // namespace nn
