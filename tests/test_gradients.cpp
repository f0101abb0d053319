// Finite-difference checks, in double, of every hand-derived backward pass: each layer, each
// block, backbones with every head kind, and the losses. Each test prints its worst error.
#include <limits>
#include <optional>

#include "harness.h"
#include "nn/loss.h"
#include "nn/net.h"

namespace nn::test {
namespace {

constexpr double kMaxGradientError = 1e-6;

void expect_gradients(
    const std::string& what, Module<double>& module, Index batch, std::uint64_t seed,
    const std::function<void()>& before_forward = [] {}) {
  ParameterStore<double> store;
  store.bind(module);
  Rng rng(seed);
  module.reset_parameters(rng);
  Tensor<double> x = random_tensor(batch, module.in_features(), rng);
  const GradientCheck check = check_module_gradients(module, store, x, rng, before_forward);
  std::cout << "[gradient check] " << what << ": worst error " << check.worst << " (" << check.worst_name << ", "
            << check.checked << " derivatives)\n";
  EXPECT_LT(check.worst, kMaxGradientError) << what << ", worst at " << check.worst_name;
}

TEST(GradientCheck, Linear) {
  Linear<double> m(5, 3);
  expect_gradients("Linear", m, 7, 1);
}

TEST(GradientCheck, BatchNorm1d) {
  BatchNorm1d<double> m(6);
  ParameterStore<double> store;
  store.bind(m);
  Rng rng(2);
  // Non-trivial gamma and beta, so their gradients mix into dx.
  for (Index j = 0; j < 6; ++j) {
    m.weight.value.data[j] = 1.0 + 0.3 * rng.normal();
    m.bias.value.data[j] = 0.3 * rng.normal();
  }
  Tensor<double> x = random_tensor(9, 6, rng, 2.0);
  const GradientCheck check = check_module_gradients(m, store, x, rng);
  std::cout << "[gradient check] BatchNorm1d: worst error " << check.worst << " (" << check.worst_name << ")\n";
  EXPECT_LT(check.worst, kMaxGradientError);
}

TEST(GradientCheck, ReLU) {
  ReLU<double> m(6);
  expect_gradients("ReLU", m, 8, 3);
}

TEST(GradientCheck, Dropout) {
  Dropout<double> m(6, 0.3, 42);
  // The objective must see one fixed mask, the one the backward pass used.
  expect_gradients("Dropout(0.3)", m, 8, 4, [&] { m.set_draws(0); });
}

TEST(GradientCheck, AttentionDense) {
  AttentionDense<double> m(6);
  expect_gradients("AttentionDense", m, 5, 5);
}

TEST(GradientCheck, ResDense) {
  ResDense<double> m(8, BlockType::resdense);
  expect_gradients("ResDense", m, 10, 6);
}

TEST(GradientCheck, AResDense) {
  ResDense<double> m(8, BlockType::aresdense);
  expect_gradients("AResDense", m, 10, 7);
}

NetSpec small_net(BlockType block, Skips skips, HeadType head, Classifier cls) {
  NetSpec spec;
  spec.n_inputs = 5;
  spec.backbone = {8, 24, 3, block, skips, 0.0};
  spec.heads = {head, 3, cls};
  spec.seed = 11;
  return spec;
}

TEST(GradientCheck, BackboneWithLinearHead) {
  Net<double> net(small_net(BlockType::resdense, Skips::none, HeadType::linear, Classifier::none));
  expect_gradients("backbone (ResDense, no skips) + linear head", net, 12, 8);
}

TEST(GradientCheck, BackboneWithSkipsCausalHeadsAndClassifier) {
  Net<double> net(small_net(BlockType::resdense, Skips::additive, HeadType::causal, Classifier::binary));
  expect_gradients("backbone (ResDense, U-Net skips) + causal heads + classifier", net, 12, 9);
}

TEST(GradientCheck, BackboneWithLinearUncertaintyHead) {
  NetSpec spec = small_net(BlockType::resdense, Skips::additive, HeadType::linear, Classifier::none);
  spec.heads.variance = true;
  Net<double> net(spec);
  ASSERT_EQ(net.out_features(), 6);  // 3 means, 3 log variances
  expect_gradients("backbone + linear uncertainty head", net, 12, 22);
}

TEST(GradientCheck, BackboneWithCausalUncertaintyHeadsAndClassifier) {
  NetSpec spec = small_net(BlockType::aresdense, Skips::additive, HeadType::causal, Classifier::binary);
  spec.heads.variance = true;
  Net<double> net(spec);
  ASSERT_EQ(net.out_features(), 7);  // 3 means, 3 log variances, the logit
  expect_gradients("backbone + causal uncertainty heads + classifier", net, 12, 23);
}

TEST(GradientCheck, AttentionBackboneWithLinearHeadAndClassifier) {
  Net<double> net(small_net(BlockType::aresdense, Skips::additive, HeadType::linear, Classifier::binary));
  expect_gradients("backbone (AResDense, U-Net skips) + linear head + classifier", net, 12, 10);
}

// The auto-encoder: 2 labels from the encoder (causal heads and a classifier), the band from a
// decoder on concat(x, labels). dx sums both paths; the labels' gradient comes from the output
// and from the decoder.
NetSpec small_auto_encoder() {
  NetSpec spec = small_net(BlockType::resdense, Skips::additive, HeadType::causal, Classifier::binary);
  spec.heads.n_targets = 2;
  spec.decoder = BackboneSpec{8, 16, 2, BlockType::aresdense, Skips::additive, 0.0};
  return spec;
}

TEST(GradientCheck, AutoEncoderWithBandDecoder) {
  Net<double> net(small_auto_encoder());
  ASSERT_EQ(net.out_features(), 4);  // 2 labels, the band, the logit
  expect_gradients("auto-encoder (encoder + causal heads + classifier, AResDense band decoder)", net, 12, 16);
}

TEST(GradientCheck, BackboneWithDropout) {
  NetSpec spec = small_net(BlockType::resdense, Skips::additive, HeadType::causal, Classifier::none);
  spec.backbone.dropout = 0.2;
  spec.backbone.depth = 2;
  Net<double> net(spec);
  expect_gradients("backbone with dropout 0.2", net, 12, 12, [&] { net.set_dropout_draws(0); });
}

// The thesis's MLP backbone, scaled down: 5 inputs, hidden widths 9 and 7.
NetSpec small_mlp(HeadType head, Classifier cls, double dropout) {
  NetSpec spec;
  spec.n_inputs = 5;
  spec.backbone.type = BackboneType::mlp;
  spec.backbone.hidden_widths = {9, 7};
  spec.backbone.dropout = dropout;
  spec.heads = {head, 3, cls};
  spec.seed = 18;
  return spec;
}

TEST(GradientCheck, MlpWithLinearHead) {
  Net<double> net(small_mlp(HeadType::linear, Classifier::none, 0.0));
  expect_gradients("MLP + linear head", net, 12, 19);
}

TEST(GradientCheck, MlpWithDropoutCausalHeadsAndClassifier) {
  Net<double> net(small_mlp(HeadType::causal, Classifier::binary, 0.2));
  expect_gradients("MLP with dropout 0.2 + causal heads + classifier", net, 12, 20, [&] { net.set_dropout_draws(0); });
}

// The band decoder on an MLP encoder's labels, itself an MLP.
TEST(GradientCheck, MlpAutoEncoder) {
  NetSpec spec = small_mlp(HeadType::causal, Classifier::none, 0.0);
  spec.heads.n_targets = 2;
  spec.decoder = BackboneSpec{};
  spec.decoder->type = BackboneType::mlp;
  spec.decoder->hidden_widths = {6};
  Net<double> net(spec);
  ASSERT_EQ(net.out_features(), 3);  // 2 labels, the band
  expect_gradients("MLP auto-encoder (MLP encoder + causal heads, MLP band decoder)", net, 12, 21);
}

// The losses: d loss / d prediction against central differences.
template <class LossFn, class GradFn>
double loss_gradient_error(Tensor<double>& pred, LossFn loss, GradFn grad) {
  const double h = 1e-6;
  Tensor<double> analytic(pred.rows(), pred.cols());
  grad(analytic.view());
  std::vector<double> a(analytic.data(), analytic.data() + analytic.size()), n;
  for (Index k = 0; k < pred.size(); ++k) {
    const double saved = pred.data()[k];
    pred.data()[k] = saved + h;
    const double plus = loss();
    pred.data()[k] = saved - h;
    const double minus = loss();
    pred.data()[k] = saved;
    n.push_back((plus - minus) / (2 * h));
  }
  return gradient_error(a, n);
}

TEST(GradientCheck, WeightedL1WithMissingLabels) {
  Rng rng(13);
  Tensor<double> yhat = random_tensor(10, 3, rng), y = random_tensor(10, 3, rng);
  Tensor<double> s(10, 3), mask(10, 3), w(1, 3);
  for (Index k = 0; k < 30; ++k) {
    s.data()[k] = 0.2 + rng.uniform();
    mask.data()[k] = rng.uniform() < 0.8 ? 1.0 : 0.0;
  }
  w(0, 0) = 10, w(0, 1) = 3, w(0, 2) = 1;
  const double e = loss_gradient_error(
      yhat, [&] { return ops::weighted_l1_loss<double>(yhat.view(), y.view(), s.view(), mask.view(), w.view()); },
      [&](View<double> g) {
        ops::weighted_l1_backward<double>(yhat.view(), y.view(), s.view(), mask.view(), w.view(), g);
      });
  std::cout << "[gradient check] weighted L1: worst error " << e << "\n";
  EXPECT_LT(e, kMaxGradientError);
}

// Both likelihoods, d loss / d (mu, s), with label errors (some 0) and missing labels; log
// variances from -3 to 2 cover sigma from 0.2 to 3 z-score units.
TEST(GradientCheck, LikelihoodsWithLabelErrorsAndMissingLabels) {
  for (const Likelihood likelihood : {Likelihood::gaussian, Likelihood::laplace}) {
    Rng rng(24);
    Tensor<double> out = random_tensor(10, 6, rng), y = random_tensor(10, 3, rng);
    Tensor<double> e(10, 3), mask(10, 3), w(1, 3);
    for (Index k = 0; k < 30; ++k) {
      e.data()[k] = rng.uniform() < 0.3 ? 0.0 : 0.5 * rng.uniform();
      mask.data()[k] = rng.uniform() < 0.8 ? 1.0 : 0.0;
    }
    for (Index i = 0; i < 10; ++i)
      for (Index t = 3; t < 6; ++t) out(i, t) = rng.uniform(-3.0, 2.0);
    w(0, 0) = 10, w(0, 1) = 3, w(0, 2) = 1;
    const ConstView<double> mu = out.view().col_range(0, 3), s = out.view().col_range(3, 3);
    const double error = loss_gradient_error(
        out, [&] { return ops::nll_loss<double>(likelihood, mu, s, y.view(), e.view(), mask.view(), w.view()); },
        [&](View<double> g) {
          ops::nll_backward<double>(likelihood, mu, s, y.view(), e.view(), mask.view(), w.view(), g.col_range(0, 3),
                                    g.col_range(3, 3));
        });
    std::cout << "[gradient check] " << (likelihood == Likelihood::gaussian ? "Gaussian" : "Laplace")
              << " NLL: worst error " << error << "\n";
    EXPECT_LT(error, kMaxGradientError);
  }
}

TEST(GradientCheck, BceWithLogitsWithMissingLabels) {
  Rng rng(14);
  Tensor<double> z = random_tensor(10, 1, rng, 4.0), t(10, 1);
  for (Index i = 0; i < 10; ++i) t(i, 0) = rng.uniform() < 0.5 ? 0.0 : 1.0;
  t(3, 0) = t(7, 0) = std::numeric_limits<double>::quiet_NaN();  // masked
  const double e = loss_gradient_error(
      z, [&] { return ops::bce_with_logits_loss<double>(z.view(), t.view()); },
      [&](View<double> g) { ops::bce_with_logits_backward<double>(z.view(), t.view(), g); });
  std::cout << "[gradient check] BCE with logits, 2 labels masked: worst error " << e << "\n";
  EXPECT_LT(e, kMaxGradientError);
}

// The whole training objective, alpha L1 + (1 - alpha) BCE, differentiated down to the
// parameters of the net; a tenth of the regression labels and two class labels are missing.
// With a likelihood, the net has uncertainty heads and the labels have errors.
double loss_through_net_error(Net<double>& net, std::uint64_t seed, std::optional<Likelihood> likelihood = {}) {
  Rng rng(seed);
  const Index batch = 12, n_targets = 3;  // 3 labels, or 2 labels and the band
  Tensor<double> x = random_tensor(batch, 5, rng), y = random_tensor(batch, n_targets, rng);
  Tensor<double> s(batch, n_targets), mask(batch, n_targets), label(batch, 1), error(batch, n_targets);
  for (Index k = 0; k < s.size(); ++k) {
    s.data()[k] = 0.5 + rng.uniform();
    mask.data()[k] = rng.uniform() < 0.9 ? 1.0 : 0.0;
    error.data()[k] = 0.3 * rng.uniform();
  }
  for (Index i = 0; i < batch; ++i) label(i, 0) = i % 5 == 2 ? std::numeric_limits<double>::quiet_NaN() : i % 2;
  NetLoss<double> loss({{10.0, 3.0, 1.0}, 0.7, likelihood}, true);
  const Targets<double> targets{y.view(), s.view(), mask.view(), label.view(), error.view()};

  net.parameters().zero_grad();
  loss.value_and_gradient(net.forward(x.view(), Mode::train), targets);
  net.backward(loss.gradient());
  Tensor<double> analytic = copy_of(net.parameters().grads());
  View<double> values = net.parameters().values();
  double worst = 0.0;
  for (const auto& entry : net.parameters().entries()) {
    const Index count = entry.param->rows * entry.param->cols;
    std::vector<double> a(analytic.data() + entry.offset, analytic.data() + entry.offset + count), n;
    for (Index k = 0; k < count; ++k) {
      double& v = values.data[entry.offset + k];
      const double saved = v;
      v = saved + 1e-6;
      const double plus = loss.value(net.forward(x.view(), Mode::train), targets);
      v = saved - 1e-6;
      const double minus = loss.value(net.forward(x.view(), Mode::train), targets);
      v = saved;
      n.push_back((plus - minus) / 2e-6);
    }
    worst = std::max(worst, gradient_error(a, n));
  }
  return worst;
}

TEST(GradientCheck, RegressionAndClassifierLossThroughTheNet) {
  Net<double> net(small_net(BlockType::aresdense, Skips::additive, HeadType::causal, Classifier::binary));
  const double worst = loss_through_net_error(net, 15);
  std::cout << "[gradient check] net + weighted L1 + BCE (alpha 0.7), all parameters: worst error " << worst << "\n";
  EXPECT_LT(worst, kMaxGradientError);
}

TEST(GradientCheck, LikelihoodsAndClassifierLossThroughTheNet) {
  for (const Likelihood likelihood : {Likelihood::gaussian, Likelihood::laplace}) {
    NetSpec spec = small_net(BlockType::aresdense, Skips::additive, HeadType::causal, Classifier::binary);
    spec.heads.variance = true;
    Net<double> net(spec);
    const double worst = loss_through_net_error(net, 25, likelihood);
    std::cout << "[gradient check] net with causal uncertainty heads + "
              << (likelihood == Likelihood::gaussian ? "Gaussian" : "Laplace")
              << " NLL + BCE (alpha 0.7), all parameters: worst error " << worst << "\n";
    EXPECT_LT(worst, kMaxGradientError);
  }
}

TEST(GradientCheck, RegressionAndClassifierLossThroughTheAutoEncoder) {
  Net<double> net(small_auto_encoder());
  const double worst = loss_through_net_error(net, 17);
  std::cout << "[gradient check] auto-encoder + weighted L1 (band included) + BCE, all parameters: worst error "
            << worst << "\n";
  EXPECT_LT(worst, kMaxGradientError);
}

}  // namespace
}  // namespace nn::test
