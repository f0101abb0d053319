// Blocks and whole nets in float on the CPU: a ResDense and an AResDense block forward and
// backward, a full training step (zero_grad, forward, loss and its gradient, backward, Adam) and
// evaluation-mode inference for thesis-like backbones. Counters: rows/s, and GFLOP/s of the GEMMs.
#include <memory>

#include "bench_support.h"
#include "nn/train.h"

namespace nn::bench {
namespace {

constexpr Index kInputs = 12;  // magnitudes and colours of a multi-survey cross-match
constexpr Index kTargets = 3;  // Teff -> [Fe/H] -> log g, as causal heads

void milliseconds(benchmark::internal::Benchmark* b) { b->UseRealTime()->Unit(benchmark::kMillisecond); }

// (B, d): a narrow block at a large batch, a mid-width one, the widest level of the thesis net.
void block_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "d"})->Args({1024, 64})->Args({4096, 256})->Args({256, 2048})->Apply(milliseconds);
}

void BM_block_forward_backward(benchmark::State& state, BlockType type) {
  const Index rows = state.range(0), d = state.range(1);
  ResDense<float> block(d, type);
  ParameterStore<float> store;
  store.bind(block);
  Rng rng(20);
  block.reset_parameters(rng);
  const Tensor<float> x = uniform_tensor(rows, d, rng), dy = uniform_tensor(rows, d, rng);
  const auto pass = [&] {
    block.forward(x, Mode::train);
    block.backward(dy);
  };
  pass();  // sizes the block's buffers, which later passes reuse
  for (auto _ : state) pass();
  // Each d x d Linear costs 2 B d^2 forward and 4 B d^2 backward; AResDense has a third.
  const double linears = type == BlockType::aresdense ? 3.0 : 2.0;
  report_flops(state, linears * 6.0 * double(rows * d * d));
  report_rows(state, rows);
}
BENCHMARK_CAPTURE(BM_block_forward_backward, resdense, BlockType::resdense)->Apply(block_sizes);
BENCHMARK_CAPTURE(BM_block_forward_backward, aresdense, BlockType::aresdense)->Apply(block_sizes);

// A net of the thesis's shape: U-Net skips, dropout after every block, causal heads and the
// classifier, with a batch that keeps one step well under a second on two cores.
struct NetConfig {
  BackboneSpec backbone;
  Index train_batch;
  Index inference_batch;
};

const NetConfig kSmall{{32, 256, 4, BlockType::resdense, Skips::additive, 0.1, BackboneType::sandwich, {}}, 1024, 4096};
const NetConfig kMedium{
    {64, 256, 5, BlockType::aresdense, Skips::additive, 0.1, BackboneType::sandwich, {}}, 1024, 4096};
const NetConfig kThesis{
    {64, 2048, 6, BlockType::aresdense, Skips::additive, 0.1, BackboneType::sandwich, {}}, 256, 1024};

std::unique_ptr<Net<float>> make_net(const NetConfig& config) {
  NetSpec spec;
  spec.n_inputs = kInputs;
  spec.backbone = config.backbone;
  spec.heads = {HeadType::causal, kTargets, Classifier::binary};
  spec.seed = 21;
  return std::make_unique<Net<float>>(spec);
}

// Every weight is one multiply-add per row in the forward pass and two in the backward (dx and
// dW): about 2 P FLOPs per row for inference, 6 P for a training step. Biases and batch-norm
// vectors count as weights here; next to the GEMMs they are noise.
double net_flops(const Net<float>& net, Index rows, double multiply_adds_per_weight) {
  return 2.0 * multiply_adds_per_weight * double(net.parameters().size()) * double(rows);
}

// One batch of inputs and labels, a fifth of the labels missing.
struct Batch {
  Tensor<float> x, y, scale, mask, label;
  Batch(Index rows, Rng& rng)
      : x(uniform_tensor(rows, kInputs, rng)),
        y(uniform_tensor(rows, kTargets, rng)),
        scale(uniform_tensor(rows, kTargets, rng, 0.5, 2.0)),
        mask(rows, kTargets),
        label(rows, 1) {
    for (Index k = 0; k < mask.size(); ++k) mask.data()[k] = rng.uniform() < 0.8 ? 1.0F : 0.0F;
    for (Index i = 0; i < rows; ++i) label(i, 0) = rng.uniform() < 0.5 ? 1.0F : 0.0F;
  }
  Targets<float> targets() const { return {y.view(), scale.view(), mask.view(), label.view(), {}}; }
};

void BM_train_step(benchmark::State& state, const NetConfig& config) {
  const std::unique_ptr<Net<float>> net = make_net(config);
  NetLoss<float> loss({{1.0, 1.0, 1.0}, 0.9, {}}, true);
  Adam<float> adam(net->parameters(), {});
  Rng rng(22);
  const Batch batch(config.train_batch, rng);
  const Targets<float> targets = batch.targets();
  const auto step = [&] {
    net->parameters().zero_grad();
    loss.value_and_gradient(net->forward(batch.x, Mode::train), targets);
    net->backward(loss.gradient());
    adam.step(1e-3, 0.9);
  };
  step();  // sizes every buffer of the net and the loss, which later steps reuse
  for (auto _ : state) step();
  report_rows(state, config.train_batch);
  report_flops(state, net_flops(*net, config.train_batch, 3.0));
  state.counters["params"] = double(net->parameters().size());
}
BENCHMARK_CAPTURE(BM_train_step, n32_256_d4_resdense, kSmall)->Apply(milliseconds);
BENCHMARK_CAPTURE(BM_train_step, n64_256_d5_aresdense, kMedium)->Apply(milliseconds);
BENCHMARK_CAPTURE(BM_train_step, n64_2048_d6_aresdense, kThesis)->Apply(milliseconds);

void BM_inference(benchmark::State& state, const NetConfig& config) {
  const std::unique_ptr<Net<float>> net = make_net(config);
  Rng rng(23);
  const Tensor<float> x = uniform_tensor(config.inference_batch, kInputs, rng);
  net->forward(x, Mode::eval);  // sizes the net's buffers, which later batches reuse
  for (auto _ : state) net->forward(x, Mode::eval);
  report_rows(state, config.inference_batch);
  report_flops(state, net_flops(*net, config.inference_batch, 1.0));
}
BENCHMARK_CAPTURE(BM_inference, n32_256_d4_resdense, kSmall)->Apply(milliseconds);
BENCHMARK_CAPTURE(BM_inference, n64_256_d5_aresdense, kMedium)->Apply(milliseconds);
BENCHMARK_CAPTURE(BM_inference, n64_2048_d6_aresdense, kThesis)->Apply(milliseconds);

}  // namespace
}  // namespace nn::bench
