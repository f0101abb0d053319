// Bad input gives a clear nn::Error, never a crash or a silent NaN.
#include <limits>

#include "harness.h"
#include "nn/loss.h"
#include "nn/net.h"

namespace nn::test {
namespace {

// Runs f and returns the message of the nn::Error it throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

NetSpec tiny_spec() {
  NetSpec spec;
  spec.n_inputs = 3;
  spec.backbone = {8, 16, 2, BlockType::resdense, Skips::additive, 0.0};
  spec.heads = {HeadType::linear, 2, Classifier::none};
  return spec;
}

TEST(BadInput, MismatchedShapesNameTheOperand) {
  Tensor<float> x(4, 3), w(2, 5), b(1, 2), y(4, 2);
  const std::string msg = error_of([&] { ops::linear_forward<float>(x, w, b, y); });
  EXPECT_NE(msg.find("linear_forward: weight is (2, 5), expected (2, 3)"), std::string::npos) << msg;
  Tensor<float> wrong_out(4, 3);
  EXPECT_NE(error_of([&] { ops::add<float>(x, b, wrong_out); }).find("add: second operand"), std::string::npos);
}

TEST(BadInput, NetRejectsWrongInputWidth) {
  Net<float> net(tiny_spec());
  Tensor<float> x(5, 4);
  x.fill(0.0f);
  EXPECT_NE(error_of([&] { net.forward(x.view(), Mode::train); }).find("input has 4 columns, the net expects 3"),
            std::string::npos);
}

TEST(BadInput, ZeroBatch) {
  Net<float> net(tiny_spec());
  Tensor<float> x(0, 3);
  EXPECT_NE(error_of([&] { net.forward(x.view(), Mode::eval); }).find("batch is empty"), std::string::npos);
}

TEST(BadInput, NanInputNamesRowAndColumn) {
  Net<float> net(tiny_spec());
  Tensor<float> x(5, 3);
  x.fill(1.0f);
  x(3, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(error_of([&] { net.forward(x.view(), Mode::train); }).find("input row 3, column 2 is nan"),
            std::string::npos);
}

TEST(BadInput, OneRowTrainingBatch) {
  Net<float> net(tiny_spec());
  Tensor<float> x(1, 3);
  x.fill(1.0f);
  EXPECT_NE(error_of([&] { net.forward(x.view(), Mode::train); }).find("at least 2 rows"), std::string::npos);
  EXPECT_EQ(error_of([&] { net.forward(x.view(), Mode::eval); }), "");  // fine in evaluation
}

TEST(BadInput, ImpossibleSizesAndProbabilities) {
  EXPECT_NE(error_of([] { features_scale(64, 32, 4); }).find("n_init <= n_max"), std::string::npos);
  EXPECT_NE(error_of([] { features_scale(2, 4, 2); }).find("rounds to 0"), std::string::npos);
  EXPECT_NE(error_of([] { Linear<float>(0, 3); }).find("must be positive"), std::string::npos);
  EXPECT_NE(error_of([] { Dropout<float>(3, 1.0, 0); }).find("outside [0, 1)"), std::string::npos);
}

TEST(BadInput, LossWithWrongTargetCount) {
  NetLoss<float> loss({{1.0, 1.0, 1.0}, 1.0, {}}, false);
  Tensor<float> out(4, 2), y(4, 2), s(4, 2), m(4, 2);
  EXPECT_NE(error_of([&] {
              loss.value(out, {y, s, m, {}});
            }).find("the net has 2 outputs, the loss expects 3"),
            std::string::npos);
}

TEST(BadInput, ErrorCarriesSourceLocation) {
  try {
    features_scale(0, 1, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sandwich.cpp:"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(e.message()) + e.message().size(), std::string(e.what()).size());
  }
}

}  // namespace
}  // namespace nn::test
