// BF16 inference's products (kernels/cpu/bf16_products.h) against closed forms and against double.
// Inside an nn::Bf16Products scope a float forward product rounds x and W to BF16 and sums the
// (exact) products in float, so the reference is the double product of the rounded values: the
// only error left is float's summation, at most about k u sum|x_bf||w_bf| (u = 2^-24); the
// tolerance is twice that, while a product that skipped the rounding or used a stale weight is
// off by about 2^-9 of the terms, 2^15 times more.
#include <cmath>
#include <limits>

#include "bf16_products.h"
#include "harness.h"
#include "nn/devices.h"
#include "nn/ops.h"

namespace nn::test {
namespace {

using cpu::from_bf16;
using cpu::to_bf16;

float bf16_of(float v) { return from_bf16(to_bf16(v)); }

TEST(Bf16Rounding, RoundsToNearestTiesToEven) {
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(to_bf16(-2.0f), 0xc000);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the tie goes to the even 1.
  EXPECT_EQ(bf16_of(1.0f + 0x1p-8f), 1.0f);
  // 1 + 3 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: the tie goes to the even 1 + 2^-6.
  EXPECT_EQ(bf16_of(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);
  // Just above a tie rounds up, just below rounds down.
  EXPECT_EQ(bf16_of(1.0f + 0x1p-8f + 0x1p-20f), 1.0f + 0x1p-7f);
  EXPECT_EQ(bf16_of(1.0f + 0x1p-8f - 0x1p-20f), 1.0f);
  // pi keeps 8 significant bits: 3.140625.
  EXPECT_EQ(bf16_of(3.14159265f), 3.140625f);
}

TEST(Bf16Rounding, KeepsNanInfinityAndOverflowsToInfinity) {
  EXPECT_TRUE(std::isnan(bf16_of(std::numeric_limits<float>::quiet_NaN())));
  // A NaN whose payload sits in the low bits only (which truncation would turn into infinity).
  EXPECT_TRUE(std::isnan(bf16_of(std::bit_cast<float>(0x7f800001u))));
  EXPECT_EQ(bf16_of(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(bf16_of(-std::numeric_limits<float>::infinity()), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(bf16_of(std::numeric_limits<float>::max()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(bf16_of(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(bf16_of(-0.0f)));
  // Subnormals are zeros of their sign, as the hardware conversion treats them.
  EXPECT_EQ(to_bf16(0x1p-130f), 0x0000);
  EXPECT_EQ(to_bf16(-0x1p-130f), 0x8000);
  EXPECT_EQ(bf16_of(0x1p-126f), 0x1p-126f);  // the smallest normal stays
}

// The activations' conversion (the hardware's) and the weights' (to_bf16) agree on every kind of
// finite value: a product with an identity weight gives bf16_of(x) exactly.
TEST(Bf16Products, ActivationsRoundAsWeightsDo) {
  if (const std::string why = bf16_unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::vector<float> values = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f,
                                     3.14159265f,    -2.7182818f,        0x1p-130f,
                                     -0x1p-130f,     0x1p-126f,          1e-3f,
                                     -123456.789f};
  const Index n = Index(values.size());
  Tensor<float> x(1, n), w, b, y(1, n);
  for (Index j = 0; j < n; ++j) x(0, j) = values[std::size_t(j)];
  w.assign(n, n, 0.0f);
  for (Index j = 0; j < n; ++j) w(j, j) = 1.0f;
  b.assign(1, n, 0.0f);
  const Bf16Products scope;
  ops::linear_forward<float>(x, w, b, y);
  for (Index j = 0; j < n; ++j) EXPECT_EQ(y(0, j), bf16_of(x(0, j))) << x(0, j);
}

// Skips a test where BF16 cannot run, saying why; the other test below checks the message there.
#define REQUIRE_BF16()                                                                 \
  do {                                                                                 \
    if (const std::string why = bf16_unavailable(); !why.empty()) GTEST_SKIP() << why; \
  } while (false)

TEST(Bf16Products, WhereUnavailableTheScopeSaysWhy) {
  const std::string why = bf16_unavailable();
  if (why.empty()) GTEST_SKIP() << "this machine runs BF16 products";
  try {
    const Bf16Products scope;
    FAIL() << "a BF16 scope opened where: " << why;
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), why);
    EXPECT_NE(why.find(STARNN_WITH_ONEDNN ? "AVX512_BF16" : "oneDNN"), std::string::npos) << why;
  }
}

// The double product of x and W rounded to BF16, plus b (and the residual), as Tensor<double>.
Tensor<double> rounded_reference(ConstView<float> x, ConstView<float> w, ConstView<float> b,
                                 const ConstView<float>* residual) {
  Tensor<double> y(x.rows, w.rows);
  for (Index i = 0; i < x.rows; ++i)
    for (Index j = 0; j < w.rows; ++j) {
      double sum = double(b(0, j)) + (residual ? double((*residual)(i, j)) : 0.0);
      for (Index k = 0; k < x.cols; ++k) sum += double(bf16_of(x(i, k))) * double(bf16_of(w(j, k)));
      y(i, j) = sum;
    }
  return y;
}

// max |actual - expected| over the bound k u sum |x_bf||w_bf| + |b| + |residual| of each output.
double scaled_error(ConstView<float> actual, ConstView<double> expected, ConstView<float> x, ConstView<float> w) {
  double worst = 0.0;
  for (Index i = 0; i < actual.rows; ++i)
    for (Index j = 0; j < actual.cols; ++j) {
      double magnitude = 1.0;
      for (Index k = 0; k < x.cols; ++k) magnitude += std::abs(double(bf16_of(x(i, k))) * double(bf16_of(w(j, k))));
      const double bound = 2.0 * double(x.cols + 2) * 0x1p-24 * magnitude;
      worst = std::max(worst, std::abs(double(actual(i, j)) - expected(i, j)) / bound);
    }
  return worst;
}

Tensor<float> random_float(Index rows, Index cols, Rng& rng, double scale = 1.0) {
  Tensor<float> t(rows, cols);
  for (Index k = 0; k < t.size(); ++k) t.data()[k] = float(scale * rng.normal());
  return t;
}

struct Shape {
  Index rows, in, out;
};
const std::vector<Shape> kShapes = {{1, 3, 2}, {7, 5, 9}, {33, 130, 1}, {256, 64, 64}, {300, 32, 96}, {4096, 64, 256}};

TEST(Bf16Products, ForwardProductsMatchTheRoundedProductInDouble) {
  REQUIRE_BF16();
  Rng rng(91);
  const Bf16Products scope;
  for (const Shape& s : kShapes) {
    // x is the middle columns of a wider tensor: a row stride that is not the width.
    Tensor<float> x_wide = random_float(s.rows, s.in + 3, rng), w = random_float(s.out, s.in, rng, 0.3);
    const View<float> x = View<float>(x_wide).col_range(1, s.in);
    const Tensor<float> b = random_float(1, s.out, rng), r = random_float(s.rows, s.out, rng);
    Tensor<float> y(s.rows, s.out);
    const std::string at = str("(", s.rows, ", ", s.in, ", ", s.out, ")");

    Tensor<double> ref = rounded_reference(x, w, b, nullptr);
    ops::linear_forward<float>(x, w, b, y);
    EXPECT_LE(scaled_error(y, ref, x, w), 1.0) << "linear " << at;

    ops::relu_forward<double>(ref, ref);
    ops::linear_relu_forward<float>(x, w, b, y);
    EXPECT_LE(scaled_error(y, ref, x, w), 1.0) << "linear relu " << at;

    const ConstView<float> rv = r;
    ref = rounded_reference(x, w, b, &rv);
    ops::linear_residual_forward<float>(x, w, b, r, y);
    EXPECT_LE(scaled_error(y, ref, x, w), 1.0) << "linear residual " << at;
    Tensor<float> in_place(s.rows, s.out);
    std::copy(r.data(), r.data() + r.size(), in_place.data());
    ops::linear_residual_forward<float>(x, w, b, in_place, in_place);
    EXPECT_LE(scaled_error(in_place, ref, x, w), 1.0) << "linear residual in place " << at;
  }
}

// The rounding is there: outside the scope the same product is float's, and differs.
TEST(Bf16Products, OnlyInsideTheScope) {
  REQUIRE_BF16();
  Rng rng(92);
  const Tensor<float> x = random_float(64, 64, rng), w = random_float(64, 64, rng, 0.3), b = random_float(1, 64, rng);
  Tensor<float> inside(64, 64), outside(64, 64), after(64, 64);
  ops::linear_forward<float>(x, w, b, outside);
  {
    const Bf16Products scope;
    ops::linear_forward<float>(x, w, b, inside);
  }
  ops::linear_forward<float>(x, w, b, after);
  EXPECT_TRUE(std::equal(after.data(), after.data() + after.size(), outside.data()));
  double largest = 0.0;
  for (Index k = 0; k < x.size(); ++k)
    largest = std::max(largest, double(std::abs(inside.data()[k] - outside.data()[k])));
  // 64 terms of order 0.3 each rounded by up to 2^-9 relative: differences of order 1e-3.
  EXPECT_GT(largest, 1e-4);
  EXPECT_LT(largest, 0.1);
}

// A weight is packed once per scope; when its values change, the next product packs it again.
TEST(Bf16Products, AChangedWeightIsPackedAgain) {
  REQUIRE_BF16();
  Rng rng(93);
  const Tensor<float> x = random_float(128, 48, rng), b = random_float(1, 40, rng);
  Tensor<float> w = random_float(40, 48, rng, 0.3), y(128, 40);
  const Bf16Products scope;
  ops::linear_forward<float>(x, w, b, y);
  EXPECT_LE(scaled_error(y, rounded_reference(x, w, b, nullptr), x, w), 1.0);
  w(17, 5) += 1.0f;  // one value, in place: same address, same shape
  ops::linear_forward<float>(x, w, b, y);
  EXPECT_LE(scaled_error(y, rounded_reference(x, w, b, nullptr), x, w), 1.0) << "a stale packed weight was used";
}

TEST(Bf16Products, NanReachesTheOutput) {
  REQUIRE_BF16();
  Rng rng(94);
  Tensor<float> x = random_float(16, 32, rng);
  const Tensor<float> w = random_float(8, 32, rng, 0.3), b = random_float(1, 8, rng);
  x(3, 7) = std::numeric_limits<float>::quiet_NaN();
  Tensor<float> y(16, 8);
  const Bf16Products scope;
  ops::linear_relu_forward<float>(x, w, b, y);
  for (Index j = 0; j < 8; ++j) {
    EXPECT_TRUE(std::isnan(y(3, j))) << j;
    EXPECT_FALSE(std::isnan(y(4, j))) << j;
  }
}

TEST(Bf16Products, BackwardProductsRefuse) {
  REQUIRE_BF16();
  Rng rng(95);
  const Tensor<float> x = random_float(16, 8, rng), w = random_float(4, 8, rng), dy = random_float(16, 4, rng);
  Tensor<float> dx(16, 8), dw(4, 8), db(1, 4);
  const Bf16Products scope;
  try {
    ops::linear_backward<float>(x, w, dy, dx, GradWrite::overwrite, dw, db);
    FAIL() << "a backward product ran in BF16";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("BF16 is for inference"), std::string::npos) << e.message();
  }
}

TEST(Bf16Products, PrecisionNames) {
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_EQ(parse_precision("fp32"), Precision::fp32);
  EXPECT_STREQ(to_string(Precision::bf16), "bf16");
  try {
    parse_precision("fp16");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("'fp16'"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace nn::test
