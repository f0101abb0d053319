#pragma once
// Shared by the benchmarks: inputs drawn outside the timed loops, and the rate counters.
//
// Every benchmark runs on wall-clock time (UseRealTime): the ops spread over OpenMP and OpenBLAS
// threads, and the CPU time of the calling thread alone would flatter them.
#include <benchmark/benchmark.h>

#include "nn/random.h"
#include "nn/tensor.h"
#include "op_costs.h"

namespace nn::bench {

// A (rows, cols) tensor of values uniform in [low, high).
inline Tensor<float> uniform_tensor(Index rows, Index cols, Rng& rng, double low = -1.0, double high = 1.0) {
  Tensor<float> t(rows, cols);
  for (Index k = 0; k < t.size(); ++k) t.data()[k] = float(rng.uniform(low, high));
  return t;
}

// A (rows, cols) tensor of zeros. Writing it now maps its pages, which the first timed call
// would otherwise pay for (a run of one iteration is all page faults at the largest sizes).
inline Tensor<float> zeros(Index rows, Index cols) {
  Tensor<float> t;
  t.assign(rows, cols, 0.0F);
  return t;
}

// Google Benchmark divides a kIsRate counter by the elapsed time, so each counter holds the
// total over all iterations.
inline void set_rate(benchmark::State& state, const char* name, double per_call) {
  const double total = per_call * double(state.iterations());
  state.counters[name] = benchmark::Counter(total, benchmark::Counter::kIsRate);
}

inline void report_flops(benchmark::State& state, double flops_per_call) {
  set_rate(state, "GFLOP/s", flops_per_call * 1e-9);
}

// GB/s of the op's least traffic (op_costs.h), and GFLOP/s where it counts FLOPs.
inline void report_cost(benchmark::State& state, const OpCost& cost) {
  set_rate(state, "GB/s", cost.floats * double(sizeof(float)) * 1e-9);
  if (cost.flops > 0.0) report_flops(state, cost.flops);
}

inline void report_rows(benchmark::State& state, Index rows_per_call) {
  set_rate(state, "rows/s", double(rows_per_call));
}

}  // namespace nn::bench
