// The CPU backend's vectorisable exp (kernels/cpu/vector_exp.h) against exp in double over the
// whole float range it returns normal numbers for, and at its limits.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "vector_exp.h"

namespace nn::test {
namespace {

using cpu::vector_exp;

// |vector_exp(x) - exp(x)| in units of the last place of the float nearest exp(x).
double ulps(float x) {
  const double exact = std::exp(double(x));
  const float nearest = float(exact);
  const double ulp = double(std::nextafter(nearest, std::numeric_limits<float>::infinity())) - double(nearest);
  return std::abs(double(vector_exp(x)) - exact) / ulp;
}

TEST(VectorExp, WithinOneUlpOverTheRange) {
  double worst = 0.0;
  float at = 0.0f;
  // Every 4096th float of [log(FLT_MIN), log(FLT_MAX)], and every float near 0.
  for (float x = -87.33f; x < 88.72f;) {
    const double e = ulps(x);
    if (e > worst) worst = e, at = x;
    const float step = std::abs(x) < 1e-3f ? 1e-9f : 0.0f;
    float next = x;
    for (int k = 0; k < 4096 && step == 0.0f; ++k) next = std::nextafter(next, 100.0f);
    x = step == 0.0f ? next : x + step;
  }
  std::cout << "[vector exp] worst " << worst << " ulp at " << at << "\n";
  EXPECT_LT(worst, 1.0);
}

TEST(VectorExp, KeepsTheLimitsOfExp) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(vector_exp(0.0f), 1.0f);
  EXPECT_EQ(vector_exp(inf), inf);
  EXPECT_EQ(vector_exp(89.0f), inf);
  EXPECT_EQ(vector_exp(-inf), 0.0f);
  EXPECT_EQ(vector_exp(-88.0f), 0.0f);  // below log(FLT_MIN): the result would be subnormal
  EXPECT_TRUE(std::isnan(vector_exp(std::numeric_limits<float>::quiet_NaN())));
  // Just below log(FLT_MAX) the result is finite and near FLT_MAX, not an overflow.
  EXPECT_TRUE(std::isfinite(vector_exp(88.72f)));
  EXPECT_GT(vector_exp(88.72f), 3.3e38f);
}

}  // namespace
}  // namespace nn::test
