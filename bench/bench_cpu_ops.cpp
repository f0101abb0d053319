// Every op of nn::ops in float on the CPU, at the sizes the nets use, called through the checked
// entry points that the layers call. GB/s for every op, GFLOP/s for the two GEMM ops (op_costs.h).
#include "bench_support.h"
#include "nn/ops.h"

namespace nn::bench {
namespace {

void microseconds(benchmark::internal::Benchmark* b) { b->UseRealTime()->Unit(benchmark::kMicrosecond); }

// (B, d): a block that stays in cache, the narrow first level at a large batch, and the widest
// level at the largest batch, which no cache holds.
void feature_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "d"})->Args({256, 256})->Args({4096, 32})->Args({4096, 2048})->Apply(microseconds);
}

// (B, in, out): square levels of the small and the thesis-sized net, and the last encoder
// down-projection of the thesis-sized net at the largest batch.
void linear_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "in", "out"});
  b->Args({256, 256, 256})->Args({256, 2048, 2048})->Args({4096, 32, 32})->Args({4096, 256, 256});
  b->Args({4096, 1024, 2048})->Apply(microseconds);
}

// B rows of 3 targets (Teff, [Fe/H], log g), as the losses see them.
void loss_sizes(benchmark::internal::Benchmark* b) { b->ArgNames({"B"})->Arg(256)->Arg(4096)->Apply(microseconds); }

constexpr Index kTargets = 3;

void BM_linear_forward(benchmark::State& state) {
  const Index rows = state.range(0), in = state.range(1), out = state.range(2);
  Rng rng(1);
  const Tensor<float> x = uniform_tensor(rows, in, rng), w = uniform_tensor(out, in, rng);
  const Tensor<float> b = uniform_tensor(1, out, rng);
  Tensor<float> y = zeros(rows, out);
  for (auto _ : state) ops::linear_forward<float>(x, w, b, y);
  report_cost(state, linear_forward_cost(rows, in, out));
}
BENCHMARK(BM_linear_forward)->Apply(linear_sizes);

void BM_linear_backward(benchmark::State& state) {
  const Index rows = state.range(0), in = state.range(1), out = state.range(2);
  Rng rng(2);
  const Tensor<float> x = uniform_tensor(rows, in, rng), w = uniform_tensor(out, in, rng);
  const Tensor<float> dy = uniform_tensor(rows, out, rng);
  Tensor<float> dx = zeros(rows, in), dw = uniform_tensor(out, in, rng), db = uniform_tensor(1, out, rng);
  for (auto _ : state) ops::linear_backward<float>(x, w, dy, dx, GradWrite::overwrite, dw, db);
  report_cost(state, linear_backward_cost(rows, in, out));
}
BENCHMARK(BM_linear_backward)->Apply(linear_sizes);

void BM_batchnorm_forward_train(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(3);
  const Tensor<float> x = uniform_tensor(rows, d, rng), gamma = uniform_tensor(1, d, rng);
  const Tensor<float> beta = uniform_tensor(1, d, rng);
  Tensor<float> y = zeros(rows, d), mean = zeros(1, d), invstd = zeros(1, d);
  Tensor<float> running_mean = uniform_tensor(1, d, rng), running_var = uniform_tensor(1, d, rng, 0.5, 2.0);
  for (auto _ : state)
    ops::batchnorm_forward_train<float>(x, gamma, beta, {}, y, mean, invstd, running_mean, running_var);
  report_cost(state, batchnorm_forward_train_cost(rows, d));
}
BENCHMARK(BM_batchnorm_forward_train)->Apply(feature_sizes);

void BM_batchnorm_forward_eval(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(4);
  const Tensor<float> x = uniform_tensor(rows, d, rng), gamma = uniform_tensor(1, d, rng);
  const Tensor<float> beta = uniform_tensor(1, d, rng), running_mean = uniform_tensor(1, d, rng);
  const Tensor<float> running_var = uniform_tensor(1, d, rng, 0.5, 2.0);
  Tensor<float> y = zeros(rows, d);
  for (auto _ : state) ops::batchnorm_forward_eval<float>(x, gamma, beta, running_mean, running_var, {}, y);
  report_cost(state, batchnorm_forward_eval_cost(rows, d));
}
BENCHMARK(BM_batchnorm_forward_eval)->Apply(feature_sizes);

void BM_batchnorm_backward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(5);
  const Tensor<float> x = uniform_tensor(rows, d, rng), mean = uniform_tensor(1, d, rng);
  const Tensor<float> invstd = uniform_tensor(1, d, rng, 0.5, 2.0), gamma = uniform_tensor(1, d, rng);
  const Tensor<float> dy = uniform_tensor(rows, d, rng);
  Tensor<float> dx = zeros(rows, d), dgamma = uniform_tensor(1, d, rng), dbeta = uniform_tensor(1, d, rng);
  for (auto _ : state) ops::batchnorm_backward<float>(x, mean, invstd, gamma, dy, dx, dgamma, dbeta);
  report_cost(state, batchnorm_backward_cost(rows, d));
}
BENCHMARK(BM_batchnorm_backward)->Apply(feature_sizes);

void BM_relu_forward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(6);
  const Tensor<float> x = uniform_tensor(rows, d, rng);
  Tensor<float> y = zeros(rows, d);
  for (auto _ : state) ops::relu_forward<float>(x, y);
  report_cost(state, elementwise_cost(rows, d, 2));
}
BENCHMARK(BM_relu_forward)->Apply(feature_sizes);

void BM_relu_backward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(7);
  const Tensor<float> y = uniform_tensor(rows, d, rng), dy = uniform_tensor(rows, d, rng);
  Tensor<float> dx = zeros(rows, d);
  for (auto _ : state) ops::relu_backward<float>(y, dy, dx);
  report_cost(state, elementwise_cost(rows, d, 3));
}
BENCHMARK(BM_relu_backward)->Apply(feature_sizes);

void BM_dropout_forward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(8);
  const Tensor<float> x = uniform_tensor(rows, d, rng);
  Tensor<float> mask = zeros(rows, d), y = zeros(rows, d);
  for (auto _ : state) ops::dropout_forward<float>(x, 0.1, 42, mask, y);
  report_cost(state, elementwise_cost(rows, d, 3));
}
BENCHMARK(BM_dropout_forward)->Apply(feature_sizes);

void BM_multiply(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(9);
  const Tensor<float> a = uniform_tensor(rows, d, rng), b = uniform_tensor(rows, d, rng);
  Tensor<float> out = zeros(rows, d);
  for (auto _ : state) ops::multiply<float>(a, b, out);
  report_cost(state, elementwise_cost(rows, d, 3));
}
BENCHMARK(BM_multiply)->Apply(feature_sizes);

void BM_attention_forward(benchmark::State& state) {
  // With the residual, as AResDense runs it.
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(11);
  const Tensor<float> z = uniform_tensor(rows, d, rng), h = uniform_tensor(rows, d, rng);
  const Tensor<float> residual = uniform_tensor(rows, d, rng);
  Tensor<float> a = zeros(rows, d), y = zeros(rows, d);
  for (auto _ : state) ops::attention_forward<float>(z, h, residual, a, y);
  report_cost(state, elementwise_cost(rows, d, 5));
}
BENCHMARK(BM_attention_forward)->Apply(feature_sizes);

void BM_attention_backward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(12);
  const Tensor<float> h = uniform_tensor(rows, d, rng);
  const Tensor<float> a = uniform_tensor(rows, d, rng, 0.0, 2.0 / double(d));
  const Tensor<float> dy = uniform_tensor(rows, d, rng);
  Tensor<float> dh = zeros(rows, d), dz = zeros(rows, d);
  for (auto _ : state) ops::attention_backward<float>(h, a, dy, dh, dz);
  report_cost(state, elementwise_cost(rows, d, 5));
}
BENCHMARK(BM_attention_backward)->Apply(feature_sizes);

void BM_copy(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(13);
  const Tensor<float> src = uniform_tensor(rows, d, rng);
  Tensor<float> dst = zeros(rows, d);
  for (auto _ : state) ops::copy<float>(src, dst);
  report_cost(state, elementwise_cost(rows, d, 2));
}
BENCHMARK(BM_copy)->Apply(feature_sizes);

void BM_fill(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Tensor<float> dst = zeros(rows, d);
  for (auto _ : state) ops::fill<float>(dst, 0.0F);
  report_cost(state, elementwise_cost(rows, d, 1));
}
BENCHMARK(BM_fill)->Apply(feature_sizes);

void BM_add(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(14);
  const Tensor<float> a = uniform_tensor(rows, d, rng), b = uniform_tensor(rows, d, rng);
  Tensor<float> out = zeros(rows, d);
  for (auto _ : state) ops::add<float>(a, b, out);
  report_cost(state, elementwise_cost(rows, d, 3));
}
BENCHMARK(BM_add)->Apply(feature_sizes);

// Labels of B rows with about one in five missing, as in a cross-matched catalogue.
struct LossInputs {
  Tensor<float> yhat, y, scale, mask, weights;
  LossInputs(Index rows, Rng& rng)
      : yhat(uniform_tensor(rows, kTargets, rng)),
        y(uniform_tensor(rows, kTargets, rng)),
        scale(uniform_tensor(rows, kTargets, rng, 0.5, 2.0)),
        mask(rows, kTargets),
        weights(uniform_tensor(1, kTargets, rng, 0.5, 2.0)) {
    for (Index k = 0; k < mask.size(); ++k) mask.data()[k] = rng.uniform() < 0.8 ? 1.0F : 0.0F;
  }
};

void BM_weighted_l1_loss(benchmark::State& state) {
  const Index rows = state.range(0);
  Rng rng(15);
  const LossInputs in(rows, rng);
  for (auto _ : state)
    benchmark::DoNotOptimize(ops::weighted_l1_loss<float>(in.yhat, in.y, in.scale, in.mask, in.weights));
  report_cost(state, weighted_l1_loss_cost(rows, kTargets));
}
BENCHMARK(BM_weighted_l1_loss)->Apply(loss_sizes);

void BM_weighted_l1_backward(benchmark::State& state) {
  const Index rows = state.range(0);
  Rng rng(16);
  const LossInputs in(rows, rng);
  Tensor<float> dyhat = zeros(rows, kTargets);
  for (auto _ : state) ops::weighted_l1_backward<float>(in.yhat, in.y, in.scale, in.mask, in.weights, dyhat);
  report_cost(state, weighted_l1_backward_cost(rows, kTargets));
}
BENCHMARK(BM_weighted_l1_backward)->Apply(loss_sizes);

void BM_bce_with_logits_loss(benchmark::State& state) {
  const Index rows = state.range(0);
  Rng rng(17);
  const Tensor<float> z = uniform_tensor(rows, 1, rng, -8.0, 8.0), t = uniform_tensor(rows, 1, rng, 0.0, 1.0);
  for (auto _ : state) benchmark::DoNotOptimize(ops::bce_with_logits_loss<float>(z, t));
  report_cost(state, bce_loss_cost(rows));
}
BENCHMARK(BM_bce_with_logits_loss)->Apply(loss_sizes);

void BM_bce_with_logits_backward(benchmark::State& state) {
  const Index rows = state.range(0);
  Rng rng(18);
  const Tensor<float> z = uniform_tensor(rows, 1, rng, -8.0, 8.0), t = uniform_tensor(rows, 1, rng, 0.0, 1.0);
  Tensor<float> dz = zeros(rows, 1);
  for (auto _ : state) ops::bce_with_logits_backward<float>(z, t, dz);
  report_cost(state, bce_backward_cost(rows));
}
BENCHMARK(BM_bce_with_logits_backward)->Apply(loss_sizes);

// n parameters: 2^18 is about a (32, 256, 4) ResDense net, 2^25 about the (64, 2048, 6)
// AResDense one (26.6 M).
void BM_adam_step(benchmark::State& state) {
  const Index n = state.range(0);
  Rng rng(19);
  Tensor<float> params = uniform_tensor(1, n, rng), m = uniform_tensor(1, n, rng);
  Tensor<float> v = uniform_tensor(1, n, rng, 0.0, 1e-3);
  const Tensor<float> grads = uniform_tensor(1, n, rng);
  const AdamStep step{1e-3, 0.9, 0.999, 1e-8, 1e-4, 10};
  for (auto _ : state) ops::adam_step<float>(params, grads, m, v, step);
  report_cost(state, adam_cost(n));
}
BENCHMARK(BM_adam_step)->ArgNames({"n"})->Arg(1 << 18)->Arg(1 << 25)->Apply(microseconds);

}  // namespace
}  // namespace nn::bench
