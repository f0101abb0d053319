// The ops of nn::ops in float on Device::cuda tensors, at the sizes the nets use (batch 256 to
// 4096, widths 32 to 4096), through the checked entry points the layers call. The ops return once
// their work is queued, so every timed iteration ends with nn::cuda::synchronize(): the figure is
// the op's time on the GPU plus one launch and one wait, as a layer sees it. GB/s and GFLOP/s are
// those of bench_cpu (op_costs.h); bench/gpu_report.sh sets them beside the GPU's limits.
//
// Without a GPU the program says so and exits with 0 before running anything: there is nothing
// to time, and that is not a failure of the build (gpu_report.sh checks for a GPU itself).
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include <cuda_runtime_api.h>

#include "bench_support.h"
#include "cuda_backend.h"
#include "nn/ops.h"

namespace nn::bench {
namespace {

Tensor<float> on_gpu(Tensor<float> t) {
  t.move_to(Device::cuda);
  return t;
}

Tensor<float> gpu_uniform(Index rows, Index cols, Rng& rng, double low = -1.0, double high = 1.0) {
  return on_gpu(uniform_tensor(rows, cols, rng, low, high));
}

// Runs op once to warm up (the cuBLAS handle, the first launch of each kernel), then times it.
template <class Op>
void time_op(benchmark::State& state, Op&& op) {
  op();
  cuda::synchronize();
  for (auto _ : state) {
    op();
    cuda::synchronize();
  }
}

void microseconds(benchmark::internal::Benchmark* b) { b->UseRealTime()->Unit(benchmark::kMicrosecond); }

// (B, d): the narrow first level at the training batch and at the largest batch, the medium width,
// and the widest levels of the thesis net.
void feature_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "d"});
  for (const auto& [rows, d] : {std::pair{256, 32}, {4096, 32}, {256, 256}, {4096, 256}, {4096, 2048}, {4096, 4096}})
    b->Args({rows, d});
  b->Apply(microseconds);
}

// (B, in, out): square levels from narrow to the widest, and a down-projection.
void linear_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "in", "out"});
  for (const Index rows : {256, 4096})
    for (const Index d : {32, 256, 2048, 4096}) b->Args({rows, d, d});
  b->Args({4096, 1024, 2048})->Apply(microseconds);
}

constexpr Index kTargets = 3;

void BM_cuda_linear_forward(benchmark::State& state) {
  const Index rows = state.range(0), in = state.range(1), out = state.range(2);
  Rng rng(1);
  const Tensor<float> x = gpu_uniform(rows, in, rng), w = gpu_uniform(out, in, rng), b = gpu_uniform(1, out, rng);
  Tensor<float> y(rows, out, Device::cuda);
  time_op(state, [&] { ops::linear_forward<float>(x, w, b, y); });
  report_cost(state, linear_forward_cost(rows, in, out));
}
BENCHMARK(BM_cuda_linear_forward)->Apply(linear_sizes);

void BM_cuda_linear_backward(benchmark::State& state) {
  const Index rows = state.range(0), in = state.range(1), out = state.range(2);
  Rng rng(2);
  const Tensor<float> x = gpu_uniform(rows, in, rng), w = gpu_uniform(out, in, rng), dy = gpu_uniform(rows, out, rng);
  Tensor<float> dx(rows, in, Device::cuda), dw = gpu_uniform(out, in, rng), db = gpu_uniform(1, out, rng);
  time_op(state, [&] { ops::linear_backward<float>(x, w, dy, dx, GradWrite::overwrite, dw, db); });
  report_cost(state, linear_backward_cost(rows, in, out));
}
BENCHMARK(BM_cuda_linear_backward)->Apply(linear_sizes);

void BM_cuda_batchnorm_forward_train(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(3);
  const Tensor<float> x = gpu_uniform(rows, d, rng), gamma = gpu_uniform(1, d, rng), beta = gpu_uniform(1, d, rng);
  Tensor<float> y(rows, d, Device::cuda), mean(1, d, Device::cuda), invstd(1, d, Device::cuda);
  Tensor<float> running_mean = gpu_uniform(1, d, rng), running_var = gpu_uniform(1, d, rng, 0.5, 2.0);
  time_op(state,
          [&] { ops::batchnorm_forward_train<float>(x, gamma, beta, {}, y, mean, invstd, running_mean, running_var); });
  report_cost(state, batchnorm_forward_train_cost(rows, d));
}
BENCHMARK(BM_cuda_batchnorm_forward_train)->Apply(feature_sizes);

void BM_cuda_batchnorm_forward_eval(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(4);
  const Tensor<float> x = gpu_uniform(rows, d, rng), gamma = gpu_uniform(1, d, rng), beta = gpu_uniform(1, d, rng);
  const Tensor<float> running_mean = gpu_uniform(1, d, rng), running_var = gpu_uniform(1, d, rng, 0.5, 2.0);
  Tensor<float> y(rows, d, Device::cuda);
  time_op(state, [&] { ops::batchnorm_forward_eval<float>(x, gamma, beta, running_mean, running_var, {}, y); });
  report_cost(state, batchnorm_forward_eval_cost(rows, d));
}
BENCHMARK(BM_cuda_batchnorm_forward_eval)->Apply(feature_sizes);

void BM_cuda_batchnorm_backward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(5);
  const Tensor<float> x = gpu_uniform(rows, d, rng), mean = gpu_uniform(1, d, rng);
  const Tensor<float> invstd = gpu_uniform(1, d, rng, 0.5, 2.0), gamma = gpu_uniform(1, d, rng);
  const Tensor<float> dy = gpu_uniform(rows, d, rng);
  Tensor<float> dx(rows, d, Device::cuda), dgamma = gpu_uniform(1, d, rng), dbeta = gpu_uniform(1, d, rng);
  time_op(state, [&] { ops::batchnorm_backward<float>(x, mean, invstd, gamma, dy, dx, dgamma, dbeta); });
  report_cost(state, batchnorm_backward_cost(rows, d));
}
BENCHMARK(BM_cuda_batchnorm_backward)->Apply(feature_sizes);

void BM_cuda_relu_forward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(6);
  const Tensor<float> x = gpu_uniform(rows, d, rng);
  Tensor<float> y(rows, d, Device::cuda);
  time_op(state, [&] { ops::relu_forward<float>(x, y); });
  report_cost(state, elementwise_cost(rows, d, 2));
}
BENCHMARK(BM_cuda_relu_forward)->Apply(feature_sizes);

void BM_cuda_relu_backward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(7);
  const Tensor<float> y = gpu_uniform(rows, d, rng), dy = gpu_uniform(rows, d, rng);
  Tensor<float> dx(rows, d, Device::cuda);
  time_op(state, [&] { ops::relu_backward<float>(y, dy, dx); });
  report_cost(state, elementwise_cost(rows, d, 3));
}
BENCHMARK(BM_cuda_relu_backward)->Apply(feature_sizes);

void BM_cuda_add(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(8);
  const Tensor<float> a = gpu_uniform(rows, d, rng), b = gpu_uniform(rows, d, rng);
  Tensor<float> out(rows, d, Device::cuda);
  time_op(state, [&] { ops::add<float>(a, b, out); });
  report_cost(state, elementwise_cost(rows, d, 3));
}
BENCHMARK(BM_cuda_add)->Apply(feature_sizes);

void BM_cuda_attention_forward(benchmark::State& state) {
  // With the residual, as AResDense runs it.
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(10);
  const Tensor<float> z = gpu_uniform(rows, d, rng), h = gpu_uniform(rows, d, rng),
                      residual = gpu_uniform(rows, d, rng);
  Tensor<float> a(rows, d, Device::cuda), y(rows, d, Device::cuda);
  time_op(state, [&] { ops::attention_forward<float>(z, h, residual, a, y); });
  report_cost(state, elementwise_cost(rows, d, 5));
}
BENCHMARK(BM_cuda_attention_forward)->Apply(feature_sizes);

void BM_cuda_attention_backward(benchmark::State& state) {
  const Index rows = state.range(0), d = state.range(1);
  Rng rng(11);
  const Tensor<float> h = gpu_uniform(rows, d, rng), a = gpu_uniform(rows, d, rng, 0.0, 2.0 / double(d));
  const Tensor<float> dy = gpu_uniform(rows, d, rng);
  Tensor<float> dh(rows, d, Device::cuda), dz(rows, d, Device::cuda);
  time_op(state, [&] { ops::attention_backward<float>(h, a, dy, dh, dz); });
  report_cost(state, elementwise_cost(rows, d, 5));
}
BENCHMARK(BM_cuda_attention_backward)->Apply(feature_sizes);

void BM_cuda_weighted_l1_backward(benchmark::State& state) {
  const Index rows = state.range(0);
  Rng rng(12);
  const Tensor<float> yhat = gpu_uniform(rows, kTargets, rng), y = gpu_uniform(rows, kTargets, rng);
  const Tensor<float> scale = gpu_uniform(rows, kTargets, rng, 0.5, 2.0);
  const Tensor<float> mask = on_gpu([&] {
    Tensor<float> m(rows, kTargets);
    for (Index k = 0; k < m.size(); ++k) m.data()[k] = rng.uniform() < 0.8 ? 1.0F : 0.0F;
    return m;
  }());
  const Tensor<float> weights = gpu_uniform(1, kTargets, rng, 0.5, 2.0);
  Tensor<float> dyhat(rows, kTargets, Device::cuda);
  time_op(state, [&] { ops::weighted_l1_backward<float>(yhat, y, scale, mask, weights, dyhat); });
  report_cost(state, weighted_l1_backward_cost(rows, kTargets));
}
BENCHMARK(BM_cuda_weighted_l1_backward)->ArgNames({"B"})->Arg(256)->Arg(4096)->Apply(microseconds);

// n parameters: 2^18 is about the regression net (0.43 M), 2^25 the (64, 2048, 6) AResDense one.
void BM_cuda_adam_step(benchmark::State& state) {
  const Index n = state.range(0);
  Rng rng(13);
  Tensor<float> params = gpu_uniform(1, n, rng), m = gpu_uniform(1, n, rng), v = gpu_uniform(1, n, rng, 0.0, 1e-3);
  const Tensor<float> grads = gpu_uniform(1, n, rng);
  const AdamStep step{1e-3, 0.9, 0.999, 1e-8, 1e-4, 10};
  time_op(state, [&] { ops::adam_step<float>(params, grads, m, v, step); });
  report_cost(state, adam_cost(n));
}
BENCHMARK(BM_cuda_adam_step)->ArgNames({"n"})->Arg(1 << 18)->Arg(1 << 25)->Apply(microseconds);

int attribute(cudaDeviceAttr attr) {
  int value = 0;
  return cudaDeviceGetAttribute(&value, attr, 0) == cudaSuccess ? value : -1;
}

// The raw figures bench/gpu_report.sh derives the GPU's peak bandwidth and FLOP/s from.
void add_device_context() {
  benchmark::AddCustomContext("gpu", cuda::device_description());
  benchmark::AddCustomContext("gpu_sm_count", std::to_string(attribute(cudaDevAttrMultiProcessorCount)));
  const std::string major = std::to_string(attribute(cudaDevAttrComputeCapabilityMajor));
  benchmark::AddCustomContext("gpu_compute_capability",
                              major + "." + std::to_string(attribute(cudaDevAttrComputeCapabilityMinor)));
  benchmark::AddCustomContext("gpu_sm_clock_khz", std::to_string(attribute(cudaDevAttrClockRate)));
  benchmark::AddCustomContext("gpu_memory_clock_khz", std::to_string(attribute(cudaDevAttrMemoryClockRate)));
  benchmark::AddCustomContext("gpu_memory_bus_bits", std::to_string(attribute(cudaDevAttrGlobalMemoryBusWidth)));
}

}  // namespace
}  // namespace nn::bench

int main(int argc, char** argv) {
  try {
    if (nn::cuda::device_count() == 0) {
      std::printf("starnn_bench_cuda: no CUDA device found (nn::cuda::device_count() == 0); nothing to time.\n");
      return 0;
    }
    nn::bench::add_device_context();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "starnn_bench_cuda: %s\n", e.what());
    return 1;
  }
}
