#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "nn/error.h"
#include "nn/metrics.h"
#include "nn/random.h"

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

struct Sample {
  std::vector<double> predicted;
  std::vector<double> truth;
};

// Residuals drawn from N(mean, sigma^2), a fraction of them replaced by uniform values in
// [-outlier_range, outlier_range]; returned as predictions against a truth of 0.5 so that the
// subtraction is exercised.
Sample draw(std::uint64_t seed, int n, double mean, double sigma, double outlier_fraction = 0.0,
            double outlier_range = 0.0) {
  nn::Rng rng(seed);
  Sample s;
  for (int i = 0; i < n; ++i) {
    const double residual =
        rng.uniform() < outlier_fraction ? rng.uniform(-outlier_range, outlier_range) : mean + sigma * rng.normal();
    s.truth.push_back(0.5);
    s.predicted.push_back(0.5 + residual);
  }
  return s;
}

double sample_sigma(const Sample& s) {
  double sum = 0.0;
  double sum_sq = 0.0;
  for (std::size_t i = 0; i < s.truth.size(); ++i) {
    const double r = s.predicted[i] - s.truth[i];
    sum += r;
    sum_sq += r * r;
  }
  const double n = static_cast<double>(s.truth.size());
  return std::sqrt((sum_sq - sum * sum / n) / (n - 1.0));
}

// The figures go to the log so that a run records what the estimators gave, not only that they passed.
void print_figures(const char* label, const nn::RegressionMetrics& m, const Sample& s) {
  std::printf("[ figures  ] %s, n = %lld: bias %.5f sigma_gauss %.5f sigma_mad %.5f rmse %.5f sample sd %.5f\n", label,
              static_cast<long long>(m.n), m.bias, m.sigma_gauss, m.sigma_mad, m.rmse, sample_sigma(s));
}

TEST(Metrics, ClosedFormsOnOddSample) {
  // Residuals 1, 2, 3, 4, 10: mean 4, mean square 26, median 3, |r - 3| = 2 1 0 1 7 with median 1.
  const std::vector<double> predicted{1.5, 2.0, 3.0, 4.5, 10.25};
  const std::vector<double> truth{0.5, 0.0, 0.0, 0.5, 0.25};
  const nn::RegressionMetrics m = nn::regression_metrics(predicted, truth);
  EXPECT_EQ(m.n, 5);
  EXPECT_DOUBLE_EQ(m.bias, 4.0);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(26.0));
  EXPECT_DOUBLE_EQ(m.sigma_mad, 1.4826);
  EXPECT_TRUE(std::isnan(m.sigma_gauss));
}

TEST(Metrics, MadOfEvenSampleAveragesTheMiddlePair) {
  // Residuals -1, 0, 2, 5: median 1; |r - 1| = 2 1 1 4, median 1.5. Mean 1.5, mean square 7.5.
  const std::vector<double> predicted{4.0, -1.0, 2.0, 0.0};
  const std::vector<double> truth{-1.0, 0.0, 2.0, -2.0};
  const nn::RegressionMetrics m = nn::regression_metrics(predicted, truth);
  EXPECT_EQ(m.n, 4);
  EXPECT_DOUBLE_EQ(m.bias, 1.5);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(7.5));
  EXPECT_DOUBLE_EQ(m.sigma_mad, 1.4826 * 1.5);
}

TEST(Metrics, NanPairsAreLeftOut) {
  const std::vector<double> predicted{1.5, nan, 2.0, 3.0, 7.0, 4.5, inf, 10.25};
  const std::vector<double> truth{0.5, 1.0, 0.0, 0.0, nan, 0.5, inf, 0.25};
  const nn::RegressionMetrics m = nn::regression_metrics(predicted, truth);
  EXPECT_EQ(m.n, 5);
  EXPECT_DOUBLE_EQ(m.bias, 4.0);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(26.0));
  EXPECT_DOUBLE_EQ(m.sigma_mad, 1.4826);
}

TEST(Metrics, NoUsablePairGivesNan) {
  for (const auto& [predicted, truth] : {std::pair{std::vector<double>{}, std::vector<double>{}},
                                         std::pair{std::vector<double>{nan, 1.0}, std::vector<double>{2.0, nan}}}) {
    const nn::RegressionMetrics m = nn::regression_metrics(predicted, truth);
    EXPECT_EQ(m.n, 0);
    EXPECT_TRUE(std::isnan(m.bias));
    EXPECT_TRUE(std::isnan(m.rmse));
    EXPECT_TRUE(std::isnan(m.sigma_mad));
    EXPECT_TRUE(std::isnan(m.sigma_gauss));
  }
}

TEST(Metrics, MismatchedLengthsThrow) {
  const std::vector<double> three{1.0, 2.0, 3.0};
  const std::vector<double> two{1.0, 2.0};
  EXPECT_THROW(nn::regression_metrics(three, two), nn::Error);
  EXPECT_THROW(nn::binary_metrics(two, three), nn::Error);
  EXPECT_THROW(nn::fit_gaussian(three, two, {1.0, 0.0, 1.0}), nn::Error);
  EXPECT_THROW(nn::fit_gaussian(two, two, {1.0, 0.0, 1.0}), nn::Error);
}

TEST(Metrics, GaussianResidualsGiveTheirSigmaAndBias) {
  const Sample s = draw(20240611, 100000, 0.1, 0.2);
  const nn::RegressionMetrics m = nn::regression_metrics(s.predicted, s.truth);
  EXPECT_EQ(m.n, 100000);
  EXPECT_NEAR(m.bias, 0.1, 0.003);
  EXPECT_NEAR(m.sigma_gauss, 0.2, 0.2 * 0.02);
  EXPECT_NEAR(m.sigma_mad, 0.2, 0.2 * 0.02);
  EXPECT_NEAR(m.rmse, std::sqrt(0.1 * 0.1 + 0.2 * 0.2), 0.003);
  // The fit and the plain standard deviation measure the same thing here.
  EXPECT_NEAR(m.sigma_gauss, sample_sigma(s), 0.2 * 0.02);
  print_figures("N(0.1, 0.2^2)", m, s);
}

TEST(Metrics, OutliersInflateRmseButNotTheFittedSigma) {
  // 5% of the residuals uniform in [-3, 3]: the standard deviation more than doubles, the core does not.
  const Sample s = draw(77, 100000, 0.1, 0.2, 0.05, 3.0);
  const nn::RegressionMetrics m = nn::regression_metrics(s.predicted, s.truth);
  EXPECT_NEAR(m.sigma_gauss, 0.2, 0.2 * 0.03);
  EXPECT_NEAR(m.sigma_mad, 0.2, 0.2 * 0.08);
  EXPECT_GT(m.rmse, 0.4);
  EXPECT_GT(sample_sigma(s), 0.4);
  EXPECT_NEAR(m.bias, 0.95 * 0.1, 0.01);
  print_figures("with 5% outliers", m, s);
}

TEST(Metrics, TooFewResidualsGiveNanRatherThanAFit) {
  const Sample tiny = draw(5, 19, 0.0, 0.2);
  const nn::RegressionMetrics m = nn::regression_metrics(tiny.predicted, tiny.truth);
  EXPECT_EQ(m.n, 19);
  EXPECT_TRUE(std::isnan(m.sigma_gauss));
  EXPECT_TRUE(std::isfinite(m.sigma_mad));
  EXPECT_TRUE(std::isfinite(m.rmse));
}

TEST(Metrics, IdenticalResidualsGiveNanSigmaGauss) {
  const std::vector<double> predicted(100, 1.25);
  const std::vector<double> truth(100, 1.0);
  const nn::RegressionMetrics m = nn::regression_metrics(predicted, truth);
  EXPECT_DOUBLE_EQ(m.bias, 0.25);
  EXPECT_DOUBLE_EQ(m.sigma_mad, 0.0);
  EXPECT_TRUE(std::isnan(m.sigma_gauss));
}

TEST(Metrics, FitRecoversAnExactGaussian) {
  const double amplitude = 123.4;
  const double mean = 0.3;
  const double sigma = 0.45;
  std::vector<double> x;
  std::vector<double> y;
  for (int i = 0; i < 41; ++i) {
    x.push_back(-2.0 + 0.1 * i);
    y.push_back(amplitude * std::exp(-(x.back() - mean) * (x.back() - mean) / (2.0 * sigma * sigma)));
  }
  const nn::GaussianFit fit = nn::fit_gaussian(x, y, {60.0, -0.2, 0.9});
  EXPECT_TRUE(fit.converged);
  EXPECT_NEAR(fit.gaussian.amplitude, amplitude, 1e-6);
  EXPECT_NEAR(fit.gaussian.mean, mean, 1e-6);
  EXPECT_NEAR(fit.gaussian.sigma, sigma, 1e-6);
  std::printf("[ figures  ] exact Gaussian: %d trial steps, errors %.2e %.2e %.2e\n", fit.iterations,
              fit.gaussian.amplitude - amplitude, fit.gaussian.mean - mean, fit.gaussian.sigma - sigma);
}

TEST(Metrics, BinaryConfusionCounts) {
  // A logit of exactly 0 is a negative; NaN on either side drops the pair.
  const std::vector<double> logits{2.0, -1.0, 0.5, -3.0, 0.0, 4.0, nan, 1.0};
  const std::vector<double> labels{1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, nan};
  const nn::BinaryMetrics m = nn::binary_metrics(logits, labels);
  EXPECT_EQ(m.n, 6);
  EXPECT_EQ(m.true_positive, 2);
  EXPECT_EQ(m.false_positive, 1);
  EXPECT_EQ(m.true_negative, 2);
  EXPECT_EQ(m.false_negative, 1);
  EXPECT_DOUBLE_EQ(m.accuracy, 4.0 / 6.0);
}

TEST(Metrics, BinaryRejectsLabelsOtherThanZeroAndOne) {
  const std::vector<double> logits{1.0, 1.0};
  const std::vector<double> labels{1.0, 0.5};
  EXPECT_THROW(nn::binary_metrics(logits, labels), nn::Error);
  const nn::BinaryMetrics empty = nn::binary_metrics({}, {});
  EXPECT_EQ(empty.n, 0);
  EXPECT_TRUE(std::isnan(empty.accuracy));
}

}  // namespace

// The histogram figures draw is the one the fit used: its edges, bin count and counts from the
// rule in metrics.h, by hand.
TEST(Metrics, ResidualHistogramFollowsTheBinningRule) {
  // 27 residuals about 0, two of them far beyond +-5 sigma_mad.
  std::vector<double> r;
  for (int k = -11; k <= 12; ++k) r.push_back(0.01 * k);
  r.push_back(-0.005);
  r.push_back(9.0);
  r.push_back(-9.0);
  const double sigma_mad = 0.05;
  const nn::ResidualHistogram h = nn::residual_histogram(r, sigma_mad);
  std::vector<double> sorted = r;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_DOUBLE_EQ(h.median, sorted[13]);
  EXPECT_DOUBLE_EQ(h.low, h.median - 0.25);
  EXPECT_DOUBLE_EQ(h.high, h.median + 0.25);
  // ceil(10 * 27^(1/3) / 2.698) = ceil(30 / 2.698) = 12 bins.
  ASSERT_EQ(h.counts.size(), 12u);
  EXPECT_DOUBLE_EQ(h.width, 0.5 / 12);
  EXPECT_EQ(h.outside, 2);
  double binned = 0;
  for (double c : h.counts) binned += c;
  EXPECT_EQ(binned, 25.0);
  // Each value lands in floor((v - low) / width).
  std::vector<double> expected(12, 0.0);
  for (double v : r)
    if (v >= h.low && v < h.high) expected[std::size_t((v - h.low) / h.width)] += 1;
  EXPECT_EQ(h.counts, expected);
  EXPECT_DOUBLE_EQ(h.centres.front(), h.low + 0.5 * h.width);
}

TEST(Metrics, ResidualHistogramWithoutSpreadCoversTheRange) {
  const std::vector<double> r(30, 0.25);
  const nn::ResidualHistogram h = nn::residual_histogram(r, 0.0);
  EXPECT_DOUBLE_EQ(h.low, -0.25);
  EXPECT_DOUBLE_EQ(h.high, 0.75);
  ASSERT_EQ(h.counts.size(), 10u);
  EXPECT_EQ(h.counts[5], 30.0);
  EXPECT_EQ(h.outside, 0);
  EXPECT_FALSE(nn::residual_gaussian(h, 30, 0.0));
}

// residual_gaussian is sigma_gauss: the same number, and nothing exactly where it is NaN.
TEST(Metrics, ResidualGaussianIsTheReportedSigma) {
  nn::Rng rng(5);
  std::vector<double> predicted(4000), truth(4000, 0.0);
  for (double& p : predicted) p = 0.1 + 0.2 * rng.normal();
  const nn::RegressionMetrics m = nn::regression_metrics(predicted, truth);
  const nn::ResidualHistogram h = nn::residual_histogram(predicted, m.sigma_mad);
  const std::optional<nn::Gaussian> g = nn::residual_gaussian(h, m.n, m.sigma_mad);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->sigma, m.sigma_gauss);
  EXPECT_NEAR(g->sigma, 0.2, 0.01);
  EXPECT_NEAR(g->mean, 0.1, 0.01);
  EXPECT_FALSE(nn::residual_gaussian(nn::residual_histogram(std::vector<double>(10, 0.5), 0.1), 10, 0.1));
}
