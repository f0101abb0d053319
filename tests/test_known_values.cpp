// Known values worked out by hand or from closed forms, independent of any other code.
#include <cmath>
#include <limits>
#include <map>

#include "harness.h"
#include "nn/layers.h"
#include "nn/net.h"
#include "nn/optim.h"
#include "nn/schedule.h"

namespace nn::test {
namespace {

TEST(KnownValues, BatchNormHandComputed) {
  // One column 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
  BatchNorm1d<double> bn(1);
  ParameterStore<double> store;
  store.bind(bn);
  bn.weight.value.data[0] = 2.0;
  bn.bias.value.data[0] = 0.5;
  Tensor<double> x(4, 1);
  for (Index i = 0; i < 4; ++i) x(i, 0) = double(i + 1);
  ConstView<double> y = bn.forward(x.view(), Mode::train);
  const double invstd = 1.0 / std::sqrt(1.25 + 1e-5);
  for (Index i = 0; i < 4; ++i) EXPECT_NEAR(y(i, 0), 2.0 * (double(i + 1) - 2.5) * invstd + 0.5, 1e-14);
  EXPECT_NEAR(bn.running_mean(0, 0), 0.1 * 2.5, 1e-15);
  EXPECT_NEAR(bn.running_var(0, 0), 0.9 * 1.0 + 0.1 * 5.0 / 3.0, 1e-15);
  // Evaluation uses the running statistics.
  ConstView<double> e = bn.forward(x.view(), Mode::eval);
  const double running_invstd = 1.0 / std::sqrt(0.9 + 0.5 / 3.0 + 1e-5);
  for (Index i = 0; i < 4; ++i) EXPECT_NEAR(e(i, 0), 2.0 * (double(i + 1) - 0.25) * running_invstd + 0.5, 1e-14);
}

TEST(KnownValues, AdamThreeStepsClosedForm) {
  // With a constant gradient g, the bias-corrected moments are exactly g and g^2, so each
  // step moves a parameter by lr g / (|g| + eps): after 3 steps p0 - 3 lr g / (|g| + eps).
  // AdamW first shrinks p by (1 - lr wd) each step.
  for (double weight_decay : {0.0, 0.1}) {
    SCOPED_TRACE(weight_decay);
    Linear<double> holder(4, 1);
    ParameterStore<double> store;
    store.bind(holder);
    const double p0[4] = {0.5, -1.0, 2.0, 0.0}, g[4] = {0.3, -2.0, 1e-3, 5.0}, bias_grad = 0.7;
    for (Index k = 0; k < 4; ++k) holder.weight.value.data[k] = p0[k];
    holder.bias.value.data[0] = 0.0;
    const double lr = 0.01, eps = 1e-8;
    Adam<double> adam(store, {0.999, eps, weight_decay});
    for (int step = 0; step < 3; ++step) {
      for (Index k = 0; k < 4; ++k) holder.weight.grad.data[k] = g[k];
      holder.bias.grad.data[0] = bias_grad;
      adam.step(lr, 0.9);
    }
    for (Index k = 0; k < 4; ++k) {
      double p = p0[k];
      for (int step = 0; step < 3; ++step) p = p * (1 - lr * weight_decay) - lr * g[k] / (std::abs(g[k]) + eps);
      EXPECT_NEAR(holder.weight.value.data[k], p, 1e-14);
    }
    EXPECT_EQ(adam.steps(), 3);
  }
}

TEST(KnownValues, OneCycleFirstPeakLast) {
  const OneCycleOptions o{3e-3, 1000, 0.25, 25.0, 1e4, 0.95, 0.85};
  auto schedule = make_one_cycle(o);
  EXPECT_NEAR(schedule->at(0).lr, 3e-3 / 25.0, 1e-18);
  EXPECT_NEAR(schedule->at(0).beta1, 0.95, 1e-15);
  EXPECT_NEAR(schedule->at(249).lr, 3e-3, 1e-18);  // the peak: step pct_start * total - 1
  EXPECT_NEAR(schedule->at(249).beta1, 0.85, 1e-15);
  EXPECT_NEAR(schedule->at(999).lr, 3e-3 / 25.0 / 1e4, 1e-20);
  EXPECT_NEAR(schedule->at(999).beta1, 0.95, 1e-15);
  // Halfway down the annealing, the cosine is at its middle.
  EXPECT_NEAR(schedule->at(624).lr, (3e-3 + 3e-3 / 25.0 / 1e4) / 2, 1e-12);
}

TEST(KnownValues, ConstantAndStepSchedules) {
  EXPECT_EQ(make_constant(0.02, 0.8)->at(12345).lr, 0.02);
  auto step = make_step({0.1, 10, 0.5, 0.9});
  EXPECT_DOUBLE_EQ(step->at(9).lr, 0.1);
  EXPECT_DOUBLE_EQ(step->at(10).lr, 0.05);
  EXPECT_DOUBLE_EQ(step->at(25).lr, 0.025);
}

TEST(KnownValues, BceFiniteAtHundred) {
  Tensor<double> z(2, 1), t(2, 1), dz(2, 1);
  z(0, 0) = -100, t(0, 0) = 1;  // confidently wrong: loss 100, gradient -1 per row
  z(1, 0) = 100, t(1, 0) = 1;   // confidently right: loss 0
  const double loss = ops::bce_with_logits_loss<double>(z.view(), t.view());
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_NEAR(loss, (100.0 + 0.0) / 2, 1e-12);
  ops::bce_with_logits_backward<double>(z.view(), t.view(), dz.view());
  EXPECT_NEAR(dz(0, 0), -1.0 / 2, 1e-15);
  EXPECT_NEAR(dz(1, 0), 0.0, 1e-15);
  Tensor<float> zf(1, 1), tf(1, 1);
  zf(0, 0) = 100.0f, tf(0, 0) = 0.0f;
  EXPECT_NEAR(ops::bce_with_logits_loss<float>(zf.view(), tf.view()), 100.0, 1e-4);
}

TEST(KnownValues, BceLeavesOutMaskedLabels) {
  // Row 2 has no class label (NaN): the mean is over rows 0 and 1, as if row 2 were not there.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor<double> z(3, 1), t(3, 1), dz(3, 1);
  z(0, 0) = -100, t(0, 0) = 1;
  z(1, 0) = 100, t(1, 0) = 1;
  z(2, 0) = 3, t(2, 0) = nan;
  EXPECT_NEAR(ops::bce_with_logits_loss<double>(z.view(), t.view()), (100.0 + 0.0) / 2, 1e-12);
  ops::bce_with_logits_backward<double>(z.view(), t.view(), dz.view());
  EXPECT_NEAR(dz(0, 0), -1.0 / 2, 1e-15);
  EXPECT_NEAR(dz(1, 0), 0.0, 1e-15);
  EXPECT_EQ(dz(2, 0), 0.0);
  // A batch without any label adds nothing and trains nothing.
  for (Index i = 0; i < 3; ++i) t(i, 0) = nan;
  EXPECT_EQ(ops::bce_with_logits_loss<double>(z.view(), t.view()), 0.0);
  ops::bce_with_logits_backward<double>(z.view(), t.view(), dz.view());
  for (Index i = 0; i < 3; ++i) EXPECT_EQ(dz(i, 0), 0.0);
}

TEST(KnownValues, WeightedL1LeavesOutMaskedLabels) {
  // Target 0 has labels in rows 0 and 2 only; row 1's label is NaN and masked. Target 1 has
  // no label at all in this batch and adds nothing.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor<double> yhat(3, 2), y(3, 2), s(3, 2), mask(3, 2), w(1, 2), grad(3, 2);
  const double rows[3][2] = {{1.0, 5.0}, {2.0, 5.0}, {0.0, 5.0}};
  for (Index i = 0; i < 3; ++i)
    for (Index t = 0; t < 2; ++t) {
      yhat(i, t) = rows[i][t];
      y(i, t) = (i == 1 || t == 1) ? nan : 0.5;
      mask(i, t) = (i == 1 || t == 1) ? 0.0 : 1.0;
      s(i, t) = i == 2 ? 0.25 : 1.0;
    }
  w(0, 0) = 10.0, w(0, 1) = 3.0;
  const double loss = ops::weighted_l1_loss<double>(yhat.view(), y.view(), s.view(), mask.view(), w.view());
  EXPECT_DOUBLE_EQ(loss, 10.0 * (0.5 / 1.0 + 0.5 / 0.25) / 2.0);
  ops::weighted_l1_backward<double>(yhat.view(), y.view(), s.view(), mask.view(), w.view(), grad.view());
  EXPECT_DOUBLE_EQ(grad(0, 0), 10.0 / 2.0);
  EXPECT_DOUBLE_EQ(grad(1, 0), 0.0);
  EXPECT_DOUBLE_EQ(grad(2, 0), -10.0 / 2.0 / 0.25);
  for (Index i = 0; i < 3; ++i) EXPECT_EQ(grad(i, 1), 0.0);
}

TEST(KnownValues, UniformAttentionIsIdentity) {
  // Zero logits give a = 1/d, and y = d a h = h.
  AttentionDense<double> att(5);
  ParameterStore<double> store;
  store.bind(att);
  Rng rng(3);
  Tensor<double> h = random_tensor(4, 5, rng);
  EXPECT_LT(max_error(att.forward(h.view(), Mode::eval), h.view()), 1e-15);
}

TEST(KnownValues, DropoutKeepsAboutOneMinusP) {
  Dropout<float> drop(1000, 0.25, 9);
  Tensor<float> x(100, 1000);
  x.fill(1.0f);
  ConstView<float> y = drop.forward(x.view(), Mode::train);
  double kept = 0, sum = 0;
  for (Index k = 0; k < y.size(); ++k) {
    kept += y.data[k] != 0.0f;
    sum += y.data[k];
  }
  EXPECT_NEAR(kept / double(y.size()), 0.75, 0.005);             // binomial sd 0.0004
  EXPECT_NEAR(sum / double(y.size()), 1.0, 0.01);                // inverted dropout keeps the mean
  EXPECT_EQ(drop.forward(x.view(), Mode::eval).data, x.data());  // identity in evaluation
}

NetSpec thesis_mlp(double dropout) {
  NetSpec spec;
  spec.n_inputs = 7;
  spec.backbone.type = BackboneType::mlp;
  spec.backbone.hidden_widths = {1024, 512};
  spec.backbone.dropout = dropout;
  spec.heads = {HeadType::linear, 1, Classifier::none};
  spec.seed = 4;
  return spec;
}

// The thesis's MLP 7 x 1024, 1024 x 512, 512 x 1 computed from its definition with plain loops:
// y = relu(relu(x W0^T + b0) W2^T + b2) Wh^T + bh, the weights found under the names PyTorch's
// nn.Sequential(Linear, ReLU, Linear, ReLU) and a Linear head give them.
TEST(KnownValues, ThesisMlpByItsDefinition) {
  Net<double> net(thesis_mlp(0.0));
  std::map<std::string, ConstView<double>> p;
  for (const auto& entry : net.parameters().entries()) p[entry.name] = entry.param->value;
  const std::vector<std::string> names = {"mlp.0.weight", "mlp.0.bias",  "mlp.2.weight",
                                          "mlp.2.bias",   "head.weight", "head.bias"};
  ASSERT_EQ(p.size(), names.size());
  for (const std::string& name : names) ASSERT_TRUE(p.count(name)) << name;
  EXPECT_EQ(net.parameters().size(), 7 * 1024 + 1024 + 1024 * 512 + 512 + 512 + 1);
  // PyTorch's default init: weights and biases uniform in +-1/sqrt(fan_in).
  for (const auto& [name, fan_in] : std::vector<std::pair<std::string, double>>{{"mlp.0", 7}, {"mlp.2", 1024}}) {
    double largest = 0.0;
    for (const std::string& part : {".weight", ".bias"}) {
      const ConstView<double> v = p.at(name + part);
      for (Index k = 0; k < v.rows * v.cols; ++k) largest = std::max(largest, std::abs(v.data[k]));
    }
    EXPECT_LE(largest, 1.0 / std::sqrt(fan_in)) << name;
    EXPECT_GT(largest, 0.9 / std::sqrt(fan_in)) << name;  // and the whole range is used
  }

  auto layer = [](const std::vector<double>& in, ConstView<double> w, ConstView<double> b, bool relu) {
    std::vector<double> out(std::size_t(w.rows));
    for (Index o = 0; o < w.rows; ++o) {
      double sum = b.data[o];
      for (Index i = 0; i < w.cols; ++i) sum += w(o, i) * in[std::size_t(i)];
      out[std::size_t(o)] = relu ? std::max(sum, 0.0) : sum;
    }
    return out;
  };
  Rng rng(5);
  Tensor<double> x = random_tensor(6, 7, rng);
  const ConstView<double> y = net.forward(x.view(), Mode::eval);
  ASSERT_EQ(y.cols, 1);
  for (Index r = 0; r < x.rows(); ++r) {
    const std::vector<double> in(&x(r, 0), &x(r, 0) + 7);
    const std::vector<double> h1 = layer(in, p.at("mlp.0.weight"), p.at("mlp.0.bias"), true);
    const std::vector<double> h2 = layer(h1, p.at("mlp.2.weight"), p.at("mlp.2.bias"), true);
    EXPECT_NEAR(y(r, 0), layer(h2, p.at("head.weight"), p.at("head.bias"), false)[0], 1e-12) << r;
  }
}

TEST(KnownValues, MlpWithDropoutCountsItInTheSequentialNames) {
  Net<double> net(thesis_mlp(0.1));
  std::vector<std::string> names;
  for (const auto& entry : net.parameters().entries()) names.push_back(entry.name);
  EXPECT_EQ(names, (std::vector<std::string>{"mlp.0.weight", "mlp.0.bias", "mlp.3.weight", "mlp.3.bias", "head.weight",
                                             "head.bias"}));
}

}  // namespace
}  // namespace nn::test
