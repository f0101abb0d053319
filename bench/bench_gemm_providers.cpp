// The CPU backend's GEMM providers side by side (kernels/cpu/products.h) at the nets' shapes: each
// of a Linear's three products (forward with bias and ReLU, dW += dy^T x, dx = dy W) on OpenBLAS
// and, where built, oneDNN; and BM_gemm_bf16, the forward product of BF16 inference
// (bf16_products.h) where the CPU runs it. GFLOP/s, and "of_peak", the fraction of the FP32 peak
// that machine_peak.h measures (printed in the context; BF16's peak is twice it).
#include <string>

#include "bench_support.h"
#include "machine_peak.h"
#include "nn/devices.h"
#include "products.h"

namespace nn::bench {
namespace {

using cpu::GemmProvider;

enum class Product { forward, weight_gradient, input_gradient };

// (B, in, out): a training batch at the small net's and regression.json's widths and the wide
// net's, and one thread's share of it on two threads (nn/train.h: 128 rows, which one core runs
// with OMP_NUM_THREADS=1), an inference batch at widths 64 and 256, the thesis MLP's second layer,
// the wide net.
void net_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "in", "out"});
  b->Args({128, 64, 64})->Args({128, 256, 256})->Args({256, 64, 64})->Args({256, 256, 256})->Args({256, 2048, 2048})->Args({4096, 64, 64});
  b->Args({4096, 256, 256})->Args({4096, 1024, 512})->Args({4096, 2048, 2048});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

void BM_gemm(benchmark::State& state, GemmProvider provider, Product product) {
  const Index rows = state.range(0), in = state.range(1), out = state.range(2);
  cpu::set_float_gemm_provider(provider);
  Rng rng(11);
  const Tensor<float> x = uniform_tensor(rows, in, rng), w = uniform_tensor(out, in, rng);
  const Tensor<float> b = uniform_tensor(1, out, rng), dy = uniform_tensor(rows, out, rng);
  Tensor<float> y = zeros(rows, out), dw = zeros(out, in), dx = zeros(rows, in);
  for (auto _ : state) {
    switch (product) {
      case Product::forward:
        cpu::linear_product<float>(x, w, b, cpu::LinearEpilogue::relu, {}, y);
        break;
      case Product::weight_gradient:
        cpu::weight_gradient_product<float>(dy, x, dw);
        break;
      case Product::input_gradient:
        cpu::input_gradient_product<float>(dy, w, GradWrite::overwrite, dx);
        break;
    }
  }
  const double flops = 2.0 * double(rows) * double(in) * double(out);
  report_flops(state, flops);
  set_rate(state, "of_peak", flops * 1e-9 / machine_peak().fp32_gflops);
}

// The forward product inside a BF16 scope: x rounded to BF16 in the pass, W packed at the first
// call and reused, float sums, bias and ReLU.
void BM_gemm_bf16(benchmark::State& state) {
  if (const std::string why = bf16_unavailable(); !why.empty()) return state.SkipWithError(why.c_str());
  const Index rows = state.range(0), in = state.range(1), out = state.range(2);
  Rng rng(11);
  const Tensor<float> x = uniform_tensor(rows, in, rng), w = uniform_tensor(out, in, rng);
  const Tensor<float> b = uniform_tensor(1, out, rng);
  Tensor<float> y = zeros(rows, out);
  const Bf16Products scope;
  for (auto _ : state) cpu::linear_product<float>(x, w, b, cpu::LinearEpilogue::relu, {}, y);
  const double flops = 2.0 * double(rows) * double(in) * double(out);
  report_flops(state, flops);
  set_rate(state, "of_peak", flops * 1e-9 / machine_peak().fp32_gflops);
}
BENCHMARK(BM_gemm_bf16)->Apply(net_shapes);

#define STARNN_GEMM_BENCHMARKS(provider)                                                                          \
  BENCHMARK_CAPTURE(BM_gemm, provider##_forward, GemmProvider::provider, Product::forward)->Apply(net_shapes);    \
  BENCHMARK_CAPTURE(BM_gemm, provider##_dW, GemmProvider::provider, Product::weight_gradient)->Apply(net_shapes); \
  BENCHMARK_CAPTURE(BM_gemm, provider##_dx, GemmProvider::provider, Product::input_gradient)->Apply(net_shapes);
STARNN_GEMM_BENCHMARKS(openblas)
#if STARNN_WITH_ONEDNN
STARNN_GEMM_BENCHMARKS(onednn)
#endif
#undef STARNN_GEMM_BENCHMARKS

[[maybe_unused]] const bool context_added = [] {
  const MachinePeak& peak = machine_peak();
  benchmark::AddCustomContext("fp32_peak_gflops", std::to_string(peak.fp32_gflops));
  benchmark::AddCustomContext("fp32_peak_measured_with",
                              peak.vectors + " FMA, " + std::to_string(peak.threads) + " threads");
  benchmark::AddCustomContext("gemm_providers", cpu::gemm_description());
  return true;
}();

}  // namespace
}  // namespace nn::bench
