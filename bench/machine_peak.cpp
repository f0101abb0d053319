// The FMA loops of machine_peak.h. Twelve independent accumulators cover the latency of two FMA
// pipes (4 cycles each on current x86 cores), so the loop runs at the pipes' throughput.
#include "machine_peak.h"

#include <immintrin.h>
#include <omp.h>

#include <chrono>

namespace nn::bench {
namespace {

constexpr long kIterations = 1L << 22;
constexpr int kChains = 12;

using Clock = std::chrono::steady_clock;

// FLOP/s of kChains x kIterations FMAs of kLanes floats each. The accumulators' sum is
// passed in so that the loop's result is used and the loop stays; it is always positive.
double flops_per_second(int lanes, Clock::time_point start, float checksum) {
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!(checksum > 0.0f)) return 0.0;
  return 2.0 * lanes * kChains * double(kIterations) / seconds;
}

// The two loops are written out apiece: intrinsics need the target attribute on the
// function that holds them, and lambdas or templates called from it do not inherit it.
__attribute__((target("avx512f"))) double avx512_rate() {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(1.0f + 1e-3f * float(c));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  const auto start = Clock::now();
  for (long i = 0; i < kIterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  alignas(64) float lanes[16];
  float checksum = 0.0f;
  for (int c = 0; c < kChains; ++c) {
    _mm512_store_ps(lanes, acc[c]);
    for (float l : lanes) checksum += l;
  }
  return flops_per_second(16, start, checksum);
}

__attribute__((target("avx2,fma"))) double avx2_rate() {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(1.0f + 1e-3f * float(c));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  const auto start = Clock::now();
  for (long i = 0; i < kIterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  alignas(32) float lanes[8];
  float checksum = 0.0f;
  for (int c = 0; c < kChains; ++c) {
    _mm256_store_ps(lanes, acc[c]);
    for (float l : lanes) checksum += l;
  }
  return flops_per_second(8, start, checksum);
}

MachinePeak measure() {
  __builtin_cpu_init();
  MachinePeak peak;
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  peak.vectors = avx512 ? "AVX-512" : avx2 ? "AVX2 + FMA" : "none found";
  if (!avx512 && !avx2) return peak;
  double total = 0.0;
#pragma omp parallel reduction(+ : total)
  {
    total += avx512 ? avx512_rate() : avx2_rate();
#pragma omp single
    peak.threads = omp_get_num_threads();
  }
  peak.fp32_gflops = total * 1e-9;
  return peak;
}

}  // namespace

const MachinePeak& machine_peak() {
  static const MachinePeak peak = measure();
  return peak;
}

}  // namespace nn::bench
