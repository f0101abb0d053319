// Every layer, block, the backbone with causal heads and a classifier, uncertainty heads, the
// losses (weighted L1, Gaussian and Laplace likelihoods, BCE), Adam and
// the one-cycle schedule against PyTorch float64 values of the same definitions
// (tests/data/torch_reference.json), to about 1e-10.
#include <map>

#include "harness.h"
#include "nn/loss.h"
#include "nn/net.h"
#include "nn/optim.h"
#include "nn/schedule.h"

namespace nn::test {
namespace {

constexpr double kTolerance = 1e-10;

const Json& reference_case(const std::string& name) { return torch_reference()["cases"][name]; }

class BufferCollector : public ModuleVisitor<double> {
 public:
  std::map<std::string, Tensor<double>*> buffers;
  void parameter(const std::string&, Param<double>&) override {}
  void buffer(const std::string& name, Tensor<double>& b) override { buffers[name] = &b; }
};

// Loads the case's parameters, runs forward and backward in training mode and compares the
// output, the input and parameter gradients, the buffers after the step and the eval output.
void expect_module_matches(const std::string& name, Module<double>& module) {
  SCOPED_TRACE(name);
  const Json& c = reference_case(name);
  ParameterStore<double> store;
  store.bind(module);
  Rng rng(1);
  module.reset_parameters(rng);
  for (const auto& [param_name, value] : c["params"].items()) {
    Tensor<double> t = tensor_from_json(value);
    ops::copy<double>(t.view(), store.find(param_name).param->value);
  }
  EXPECT_EQ(store.entries().size(), c["params"].size()) << "the net has parameters the reference lacks";

  Tensor<double> x = tensor_from_json(c["x"]);
  EXPECT_LT(max_error(module.forward(x.view(), Mode::train), tensor_from_json(c["y"]).view()), kTolerance);
  store.zero_grad();
  EXPECT_LT(max_error(module.backward(tensor_from_json(c["dy"]).view()), tensor_from_json(c["dx"]).view()), kTolerance);
  for (const auto& [param_name, value] : c["grads"].items()) {
    SCOPED_TRACE(param_name);
    EXPECT_LT(max_error(store.find(param_name).param->grad, tensor_from_json(value).view()), kTolerance);
  }
  if (c.contains("buffers_after_forward")) {
    BufferCollector collector;
    module.visit(collector, "");
    EXPECT_EQ(collector.buffers.size(), c["buffers_after_forward"].size());
    for (const auto& [buffer_name, value] : c["buffers_after_forward"].items()) {
      SCOPED_TRACE(buffer_name);
      ASSERT_TRUE(collector.buffers.count(buffer_name));
      EXPECT_LT(max_error(collector.buffers[buffer_name]->view(), tensor_from_json(value).view()), kTolerance);
    }
  }
  if (c.contains("y_eval"))
    EXPECT_LT(max_error(module.forward(x.view(), Mode::eval), tensor_from_json(c["y_eval"]).view()), kTolerance);
}

TEST(TorchReference, Linear) {
  Linear<double> m(3, 4);
  expect_module_matches("linear", m);
}

TEST(TorchReference, BatchNorm1d) {
  BatchNorm1d<double> m(4);
  expect_module_matches("batchnorm1d", m);
}

TEST(TorchReference, ReLU) {
  ReLU<double> m(4);
  expect_module_matches("relu", m);
}

TEST(TorchReference, AttentionDense) {
  AttentionDense<double> m(6);
  expect_module_matches("attention_dense", m);
}

TEST(TorchReference, ResDense) {
  ResDense<double> m(6, BlockType::resdense);
  expect_module_matches("resdense", m);
}

TEST(TorchReference, AResDense) {
  ResDense<double> m(6, BlockType::aresdense);
  expect_module_matches("aresdense", m);
}

TEST(TorchReference, BackboneWithCausalHeadsAndClassifier) {
  const Json& c = reference_case("backbone_causal_heads");
  NetSpec spec;
  spec.n_inputs = 4;
  spec.backbone = {8, 24, 3, BlockType::resdense, Skips::additive, 0.0};
  spec.heads = {HeadType::causal, 3, Classifier::binary};
  Net<double> net(spec);
  EXPECT_EQ(net.widths(), c["widths"].get<std::vector<Index>>());
  expect_module_matches("backbone_causal_heads", net);
}

TEST(TorchReference, FeaturesScale) {
  for (const auto& [key, widths] : reference_case("features_scale")["examples"].items()) {
    SCOPED_TRACE(key);
    Index n_init, n_max, depth;
    char comma;
    std::istringstream(key) >> n_init >> comma >> n_max >> comma >> depth;
    EXPECT_EQ(features_scale(n_init, n_max, depth), widths.get<std::vector<Index>>());
  }
}

TEST(TorchReference, WeightedL1) {
  const Json& c = reference_case("weighted_l1");
  Tensor<double> yhat = tensor_from_json(c["yhat"]), y = tensor_from_json(c["y"]);
  Tensor<double> sigma = tensor_from_json(c["sigma"]), mask = tensor_from_json(c["mask"]);
  const auto mean_sigma = c["mean_train_sigma"].get<std::vector<double>>();
  Tensor<double> scale(sigma.rows(), sigma.cols());
  for (Index i = 0; i < scale.rows(); ++i)
    for (Index t = 0; t < scale.cols(); ++t)
      scale(i, t) = label_scale(sigma(i, t), mean_sigma[t], c["s_min"].get<double>());
  NetLoss<double> loss({c["weights"].get<std::vector<double>>(), 1.0, {}}, false);
  const double value = loss.value_and_gradient(yhat.view(), {y.view(), scale.view(), mask.view(), {}, {}});
  EXPECT_NEAR(value, c["loss"].get<double>(), kTolerance * std::abs(c["loss"].get<double>()));
  EXPECT_LT(max_error(loss.gradient(), tensor_from_json(c["dyhat"]).view()), kTolerance);
}

TEST(TorchReference, CausalUncertaintyHeadsAndClassifier) {
  Heads<double> heads(6, {HeadType::causal, 3, Classifier::binary, true});
  expect_module_matches("uncertainty_heads", heads);
}

// The net's output [mu | s] against the case's mu and s, and the gradient against [dmu | ds].
void expect_nll_matches(const std::string& name, Likelihood likelihood) {
  SCOPED_TRACE(name);
  const Json& c = reference_case(name);
  const Tensor<double> mu = tensor_from_json(c["mu"]), s = tensor_from_json(c["s"]);
  const Index rows = mu.rows(), n_targets = mu.cols();
  Tensor<double> out(rows, 2 * n_targets), expected_gradient(rows, 2 * n_targets);
  ops::copy<double>(mu, out.view().col_range(0, n_targets));
  ops::copy<double>(s, out.view().col_range(n_targets, n_targets));
  ops::copy<double>(tensor_from_json(c["dmu"]), expected_gradient.view().col_range(0, n_targets));
  ops::copy<double>(tensor_from_json(c["ds"]), expected_gradient.view().col_range(n_targets, n_targets));
  const Tensor<double> y = tensor_from_json(c["y"]), e = tensor_from_json(c["e"]), mask = tensor_from_json(c["mask"]);
  NetLoss<double> loss({c["weights"].get<std::vector<double>>(), 1.0, likelihood}, false);
  const double value = loss.value_and_gradient(out.view(), {y.view(), {}, mask.view(), {}, e.view()});
  EXPECT_NEAR(value, c["loss"].get<double>(), kTolerance * std::abs(c["loss"].get<double>()));
  EXPECT_LT(max_error(loss.gradient(), expected_gradient.view()), kTolerance);
}

TEST(TorchReference, GaussianNll) { expect_nll_matches("gaussian_nll", Likelihood::gaussian); }
TEST(TorchReference, LaplaceNll) { expect_nll_matches("laplace_nll", Likelihood::laplace); }

TEST(TorchReference, BceWithLogits) {
  const Json& c = reference_case("bce_with_logits");
  Tensor<double> z = tensor_from_json(c["logits"]), t = tensor_from_json(c["targets"]), dz(z.rows(), 1);
  EXPECT_NEAR(ops::bce_with_logits_loss<double>(z.view(), t.view()), c["loss"].get<double>(), kTolerance);
  ops::bce_with_logits_backward<double>(z.view(), t.view(), dz.view());
  EXPECT_LT(max_error(dz.view(), tensor_from_json(c["dlogits"]).view()), kTolerance);
}

// Three optimiser steps on a lone parameter vector against torch.optim.
void expect_adam_matches(const std::string& name) {
  SCOPED_TRACE(name);
  const Json& c = reference_case(name);
  const Json& hyper = c["hyper"];
  Linear<double> holder(5, 1);  // a module whose 5 weights play the parameter vector
  ParameterStore<double> store;
  store.bind(holder);
  Tensor<double> p0 = tensor_from_json(c["p0"]);
  ops::copy<double>(p0.view(), holder.weight.value);
  holder.bias.value.data[0] = 0.0;
  AdamOptions options{hyper["betas"][1].get<double>(), hyper["eps"].get<double>(), hyper.value("weight_decay", 0.0)};
  Adam<double> adam(store, options);
  for (std::size_t k = 0; k < c["grads"].size(); ++k) {
    Tensor<double> g = tensor_from_json(c["grads"][k]);
    store.zero_grad();
    ops::copy<double>(g.view(), holder.weight.grad);
    adam.step(hyper["lr"].get<double>(), hyper["betas"][0].get<double>());
    EXPECT_LT(max_error(holder.weight.value, tensor_from_json(c["params_after_each_step"][k]).view()), kTolerance)
        << "step " << k + 1;
  }
}

TEST(TorchReference, Adam) { expect_adam_matches("adam"); }
TEST(TorchReference, AdamW) { expect_adam_matches("adamw"); }

TEST(TorchReference, OneCycle) {
  const Json& c = reference_case("one_cycle");
  const auto lr = c["lr"].get<std::vector<double>>(), beta1 = c["beta1"].get<std::vector<double>>();
  auto schedule = make_one_cycle({1e-2, std::int64_t(lr.size()), 0.25, 25.0, 1e4, 0.95, 0.85});
  for (std::size_t k = 0; k < lr.size(); ++k) {
    EXPECT_NEAR(schedule->at(std::int64_t(k)).lr, lr[k], 1e-15) << "step " << k;
    EXPECT_NEAR(schedule->at(std::int64_t(k)).beta1, beta1[k], 1e-15) << "step " << k;
  }
}

}  // namespace
}  // namespace nn::test
