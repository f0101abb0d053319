#pragma once
// The machine's FP32 peak, measured: every OpenMP thread runs a loop of independent fused
// multiply-adds in the widest vectors this CPU has (found at run time), and the rates add up.
// The GEMM benchmarks report their GFLOP/s as a fraction of it.
#include <string>

namespace nn::bench {

struct MachinePeak {
  double fp32_gflops = 0.0;  // all threads together
  std::string vectors;       // "AVX-512", "AVX2 + FMA" or "none found"
  int threads = 0;
};

// Measured once (about 0.1 s), then kept.
const MachinePeak& machine_peak();

}  // namespace nn::bench
